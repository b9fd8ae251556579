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
# MOAT_ONLY (moat.only=, run-guest.sh --only): just these benchmarks;
# BENCH:CASE runs one case of it.
for item in $(echo "${MOAT_ONLY:-micro,sockfilter,xdp,tracing,nprogs,layer2,seccomp}" | tr ',' ' '); do
	b=${item%%:*}
	c=""
	[ "$b" != "$item" ] && c=${item#*:}
	echo "BENCH $b $c: started"
	/tests/bench/bin/$b $c || echo "BENCH $b: failed (exit $?)"
done
echo "BENCH MOAT counters after the run:"
sed 's/^/BENCH   /' /sys/kernel/debug/bpf_moat/stats 2>/dev/null
