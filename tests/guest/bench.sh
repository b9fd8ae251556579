#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# 'make bench' inside the guest: every workload of bench/, MOAT off vs on
# side by side in this boot.  Lines starting with "R " are the results
# (see bench/bench.h); the rest is progress.
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	moat.quick=1) export MOAT_BENCH_QUICK=1 ;;
	esac
done
echo "BENCH clock $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource), quick=${MOAT_BENCH_QUICK:-0}"
echo 0 > /proc/sys/kernel/bpf_moat
for b in micro sockfilter tracing nprogs; do
	echo "BENCH $b: started"
	/tests/bench/bin/$b || echo "BENCH $b: failed (exit $?)"
done
echo "BENCH MOAT counters after the run:"
sed 's/^/BENCH   /' /sys/kernel/debug/bpf_moat/stats 2>/dev/null
