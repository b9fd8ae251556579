#!/bin/bash
# 'make bench' (QUICK=1: the short version): MOAT off vs on, side by side
# in one boot, on the benchmark kernel (the test kernel without KASAN and
# lockdep: kernel/configs/moat-bench.config, built into build/kbuild-bench).
#
# Two boots of one vCPU run the same workloads (bench/*.c): one plain TCG
# boot for wall times, one under -icount shift=0,sleep=off where a guest
# nanosecond is an executed instruction.  scripts/bench-report.sh turns
# them into tables, with the modelled hardware cost and the paper's
# figures; everything lands in build/bench/.
. "$(dirname "$0")/lib.sh"

quick=()
[ "${QUICK:-0}" != 0 ] && quick=(--quick)
export MOAT_KOUT=$BUILD/kbuild-bench
KOUT=$MOAT_KOUT
out=$BUILD/bench

"$TOP/scripts/deps.sh" gnuplot-nox
"$TOP/scripts/build-kernel.sh" "$TOP/kernel/configs/moat-bench.config"
"$TOP/scripts/build-tests.sh"
mkdir -p "$out"

for kind in wall icount; do
	args=(--cpu pks --mode bench --smp 1 --timeout 3600 --name "bench-$kind" "${quick[@]}")
	[ $kind = icount ] && args+=(--icount)
	msg "booting the benchmark kernel ($kind)"
	"$TOP/scripts/run-guest.sh" "${args[@]}" |
		grep --line-buffered -E '^(BENCH|R) ' || true
	cp "$BUILD/guest/bench-$kind.out" "$out/$kind.out"
	grep -q '^GUEST done' "$out/$kind.out" ||
		die "the $kind boot did not finish (build/guest/bench-$kind.console)"
	if grep -q 'failed' "$out/$kind.out"; then
		grep 'failed' "$out/$kind.out" >&2
		die "a benchmark failed in the $kind boot"
	fi
done
"$TOP/scripts/bench-report.sh" "$out/wall.out" "$out/icount.out" "$out"
msg "results: build/bench/report.txt"
