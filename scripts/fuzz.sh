#!/bin/bash
# 'make fuzz N=<cases> SEED=<seed>': the escaped-program fuzzer
# (tests/fuzz/fuzz.c) for N cases from SEED, on the test kernel, in the PKS
# guest with two CPUs.  'make test' runs its first 400 cases of the fixed
# seed 0x4d4f4154; this is the long run.  A failing case is reproduced in
# the guest with 'fuzz --case SEED I', which shrinks it.
#
# The guest's output and kernel log: build/guest/fuzz.out, fuzz.console.
. "$(dirname "$0")/lib.sh"

n=${N:-10000}
seed=${SEED:-0x4d4f4154}
[[ $n =~ ^[0-9]+$ ]] || die "N must be a number of cases, not '$n'"
[[ $seed =~ ^(0x[0-9a-fA-F]+|[0-9]+)$ ]] || die "SEED must be a number, not '$seed'"

"$TOP/scripts/deps.sh"
"$TOP/scripts/build-kernel.sh"
"$TOP/scripts/build-tests.sh"

. "$TOP/scripts/judge.sh"
# About 5 cases a second under TCG (4 while the host is busy), plus the boot.
timeout=$(( n / 3 + 600 ))
msg "fuzzing: $n cases from seed $seed (at most $timeout s)"
ok=1
"$TOP/scripts/run-guest.sh" --cpu pks --only fuzz/fuzz --name fuzz \
	--append "moat.fuzz=$n,$seed" --timeout "$timeout" || ok=0
grep -E '^INFO fuzz' "$BUILD/guest/fuzz.out" || true
judge_guest pks "$BUILD/guest/fuzz.out" "$BUILD/guest/fuzz.console" $ok
# After a crash: the case that was running (the fuzzer logs each one).
[ $ok = 1 ] || grep 'moat-fuzz: ' "$BUILD/guest/fuzz.console" | tail -1 || true
msg "fuzzing took $(cat "$BUILD/guest/fuzz.seconds") s"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
