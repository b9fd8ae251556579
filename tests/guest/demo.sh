#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The README's demo, inside the guest: real BPF programs doing real work.
echo
echo "== BPF programs running in the guest =="
for t in $(find /tests/bin -type f | sort); do
	echo "-- ${t#/tests/bin/}"
	"$t" | sed 's/^/   /'
done
echo
echo "BPF JIT: $(cat /proc/sys/net/core/bpf_jit_enable) (1 = on)"
