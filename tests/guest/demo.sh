#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The README's demo, inside the guest: real BPF programs doing real work,
# each saying what it observed; then the PKS support and what an attack
# that gets past the verifier does today.
export MOAT_VERBOSE=1
show() {
	"$1" | sed -e 's/^INFO [^:]*: /   /' -e 's/^\(PASS\|FAIL\|SKIP\) /   \1 /'
}

echo
echo "== BPF programs at work in the guest (JIT: $(cat /proc/sys/net/core/bpf_jit_enable)) =="
for t in $(find /tests/bin/smoke -type f | sort); do
	echo "-- ${t#/tests/bin/}"
	show "$t"
done

echo
echo "== Protection Keys for Supervisor =="
if grep -qw pks /proc/cpuinfo; then
	echo "   enabled by the kernel on $(grep -cw pks /proc/cpuinfo) CPUs"
else
	echo "   not available: the CPU has no PKS (MOAT stays off)"
fi
[ -x /tests/bin/pks/pks ] && show /tests/bin/pks/pks | grep -c PASS |
	sed 's/^/   PKS self-tests passed: /'

echo
echo "== A verifier escape, kernel.bpf_moat=$(cat /proc/sys/kernel/bpf_moat 2>/dev/null || echo n/a) =="
echo "   (programs that pass the verifier, then read/write a kernel canary;"
echo "    MOAT's Layer I, which will contain them, is not implemented yet)"
[ -x /tests/bin/attack/escape ] && show /tests/bin/attack/escape | grep -v PASS
echo
