#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# 'make bench' inside the guest: MOAT on vs off, side by side.
echo "== moat_bench: socket filters via BPF_PROG_TEST_RUN, plain vs isolated =="
/tests/bench/bin/moat_bench 2000 5
echo "== MOAT counters after the run =="
cat /sys/kernel/debug/bpf_moat/stats 2>/dev/null
