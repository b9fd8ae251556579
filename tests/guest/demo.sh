#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The README's demo, inside the guest: real BPF programs doing real work,
# each saying what it observed.
export MOAT_VERBOSE=1
echo
echo "== BPF programs at work in the guest (JIT: $(cat /proc/sys/net/core/bpf_jit_enable)) =="
for t in $(find /tests/bin/smoke -type f | sort); do
	echo "-- ${t#/tests/bin/}"
	"$t" | sed -e 's/^INFO [^:]*: /   /' -e 's/^\(PASS\|FAIL\|SKIP\) /   \1 /'
done
echo
