#!/bin/bash
# The whole test suite: build what is missing, boot the guest on a CPU with
# PKS and on one without, and judge the results.
#
#   test.sh [--quick]     --quick: skip the no-PKS boot
#
# Fails when any test fails, when the guest kernel logs an oops, BUG,
# WARNING, lockdep or KASAN report, when a guest hangs, or when
# test_verifier's per-test results differ from tests/baseline.
. "$(dirname "$0")/lib.sh"

quick=0
[ "${1:-}" = --quick ] && quick=1

suite_start=$(date +%s)
"$TOP/scripts/deps.sh"
"$TOP/scripts/build-kernel.sh"
"$TOP/scripts/build-tests.sh"

. "$TOP/scripts/judge.sh"

run_boot() {	# run_boot <cpu>
	local cpu=$1 name=test-$1
	msg "booting the guest (cpu: $cpu)"
	local ok=1
	"$TOP/scripts/run-guest.sh" --cpu "$cpu" --mode test --name "$name" || ok=0
	sed -n 's/^GUEST /  guest: /p' "$BUILD/guest/$name.out" 2>/dev/null | grep -v done || true
	judge_guest "$cpu" "$BUILD/guest/$name.out" "$BUILD/guest/$name.console" $ok
	msg "guest ($cpu) ran $(cat "$BUILD/guest/$name.seconds") s"
}

# The judge must itself be right before its verdicts mean anything.
while IFS= read -r line; do
	case "$line" in
	PASS\ *|FAIL\ *) report host "${line%% *}" "${line#* }" ;;
	*) echo "    $line" ;;
	esac
done < <("$TOP/tests/host/judge-selftest.sh" 2>&1)

run_boot pks
[ $quick = 1 ] || run_boot nopks

msg "suite took $(( $(date +%s) - suite_start )) s"
if [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail = 0 ]
