#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The README's demo, inside the guest: real BPF programs doing real work,
# each saying what it observed; then the PKS support, and an attack that
# gets past the verifier, with MOAT off (it works) and on (contained).
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
echo "== A verifier escape: the same attack with MOAT off and on =="
echo "   (programs that pass the verifier, then read/write a kernel canary"
echo "    through a map value, the stack or the context; MOAT on = loaded"
echo "    with BPF_F_MOAT under kernel.bpf_moat=1)"
[ -x /tests/bin/attack/escape ] &&
	show /tests/bin/attack/escape | grep -v '^   PASS' | grep -v '^   SKIP'
if /tests/cpuid-pks; then
	echo "   kernel log:"
	dmesg | grep 'MOAT: terminated' | tail -4 | sed 's/^/   /'
	echo "   MOAT counters:"
	sed 's/^/     /' /sys/kernel/debug/bpf_moat/stats
else
	echo "   MOAT on: not possible, the CPU has no PKS"
fi
echo
