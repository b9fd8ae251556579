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

pass=0 fail=0 skip=0
report() {	# report <cpu> <PASS|FAIL|SKIP> <rest of line>
	printf '[%s] %s %s\n' "$1" "$2" "$3"
	case "$2" in
	PASS) pass=$((pass + 1)) ;;
	FAIL) fail=$((fail + 1)) ;;
	SKIP) skip=$((skip + 1)) ;;
	esac
}

# Kernel messages that mean the kernel is unhealthy, whatever the tests said.
SPLAT='BUG:|WARNING:|Oops|general protection fault|Kernel panic|KASAN|UBSAN'
SPLAT+='|possible (recursive|circular) locking|inconsistent lock state'
SPLAT+='|possible irq lock inversion|suspicious RCU usage|DEBUG_LOCKS_WARN_ON'
SPLAT+='|lockdep is turned off|turning off the locking correctness validator'
SPLAT+='|INFO: task .* blocked'
SPLAT+='|rcu: INFO|soft lockup|hard LOCKUP|Call Trace:|double fault'
SPLAT+='|unchecked MSR access|stack-protector|segfault at'

check_console() {	# check_console <cpu> <console log>
	local lines
	lines=$(grep -E "$SPLAT" "$2" | head -40 || true)
	if [ -n "$lines" ]; then
		report "$1" FAIL "kernel/clean-log: the guest kernel reported problems:"
		grep -E -A 25 -m 3 "$SPLAT" "$2" | sed 's/^/    | /' | head -80
	else
		report "$1" PASS "kernel/clean-log"
	fi
}

check_verifier() {	# check_verifier <cpu> <guest output>
	local got=$BUILD/guest/test_verifier.$1.results
	local want=$TOP/tests/baseline/test_verifier.txt
	"$TOP/scripts/tv-results.sh" < "$2" > "$got"
	if [ ! -s "$got" ]; then
		report "$1" FAIL "selftests/test_verifier: no results (did it run?)"
		grep '^TV' "$2" | tail -5 | sed 's/^/    | /'
		return
	fi
	local diffs
	diffs=$(diff "$want" "$got" | grep '^[<>]' || true)
	local summary
	summary=$(grep -o 'Summary: .*' "$2" | tail -1)
	if [ -n "$diffs" ]; then
		report "$1" FAIL "selftests/test_verifier: results differ from tests/baseline/test_verifier.txt ($summary):"
		echo "$diffs" | sed -e 's/^</    baseline:/' -e 's/^>/    now:     /' | head -60
	else
		report "$1" PASS "selftests/test_verifier: matches baseline ($summary, $(sed -n 's/^TV rc .* seconds //p' "$2") s)"
	fi
}

run_boot() {	# run_boot <cpu>
	local cpu=$1 name=test-$1
	msg "booting the guest (cpu: $cpu)"
	local ok=1
	"$TOP/scripts/run-guest.sh" --cpu "$cpu" --mode test --name "$name" || ok=0
	local out=$BUILD/guest/$name.out console=$BUILD/guest/$name.console
	sed -n 's/^GUEST /  guest: /p' "$out" 2>/dev/null | grep -v done || true
	local line
	while IFS= read -r line; do
		case "$line" in
		PASS\ *|FAIL\ *|SKIP\ *) report "$cpu" "${line%% *}" "${line#* }" ;;
		esac
	done < <(cat "$out" 2>/dev/null)
	if [ $ok = 0 ]; then
		report "$cpu" FAIL "guest/completed: the guest did not finish (timeout, panic or hang); last console lines:"
		tail -30 "$console" | sed 's/^/    | /'
	fi
	check_console "$cpu" "$console"
	grep -q '^TV rc' "$out" 2>/dev/null && check_verifier "$cpu" "$out"
	msg "guest ($cpu) ran $(cat "$BUILD/guest/$name.seconds") s"
}

run_boot pks
[ $quick = 1 ] || run_boot nopks

msg "suite took $(( $(date +%s) - suite_start )) s"
if [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail = 0 ]
