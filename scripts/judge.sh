# shellcheck shell=bash
# Judging a guest run: shared by scripts/test.sh and its own self-test
# (tests/host/judge-selftest.sh).  Sourced, never executed.  Needs $TOP.
#
# Results are counted in $pass, $fail and $skip.

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

# MOAT's report of a violation it contained names the exception the
# program caused ("general protection fault at address 0x0"): not a splat.
CONTAINED='MOAT: terminated program '

check_console() {	# check_console <cpu> <console log>
	local lines
	lines=$(grep -v "$CONTAINED" "$2" | grep -E "$SPLAT" | head -40 || true)
	if [ -n "$lines" ]; then
		report "$1" FAIL "kernel/clean-log: the guest kernel reported problems:"
		grep -v "$CONTAINED" "$2" | grep -E -A 25 -m 3 "$SPLAT" |
			sed 's/^/    | /' | head -80
	else
		report "$1" PASS "kernel/clean-log"
	fi
}

check_verifier() {	# check_verifier <cpu> <guest output> [baseline]
	local got want=${3:-$TOP/tests/baseline/test_verifier.txt}
	got=$(mktemp)
	"$TOP/scripts/tv-results.sh" < "$2" > "$got"
	if [ ! -s "$got" ]; then
		rm -f "$got"
		report "$1" FAIL "selftests/test_verifier: no results (did it run?)"
		grep '^TV' "$2" | tail -5 | sed 's/^/    | /'
		return
	fi
	local diffs
	diffs=$(diff "$want" "$got" | grep '^[<>]' || true)
	rm -f "$got"
	local summary
	summary=$(grep '^TV| Summary: ' "$2" | grep -o 'Summary: .*' | tail -1)
	if [ -n "$diffs" ]; then
		report "$1" FAIL "selftests/test_verifier: results differ from tests/baseline/test_verifier.txt ($summary):"
		echo "$diffs" | sed -e 's/^</    baseline:/' -e 's/^>/    now:     /' | head -60
	else
		report "$1" PASS "selftests/test_verifier: matches baseline ($summary, $(sed -n 's/^TV rc .* seconds //p' "$2") s)"
	fi
}

# test_verifier with every program isolated: each test as in the baseline,
# or refused by MOAT (see scripts/tvm-check.sh).
check_verifier_moat() {	# check_verifier_moat <cpu> <guest output> [baseline]
	local want=${3:-$TOP/tests/baseline/test_verifier.txt} res same refused
	res=$("$TOP/scripts/tvm-check.sh" "$want" < "$2")
	same=$(sed -n 's/^same //p' <<< "$res")
	refused=$(sed -n 's/^refused //p' <<< "$res")
	if [ -z "$same" ] || [ "$same" = 0 ]; then
		report "$1" FAIL "selftests/test_verifier@isolated: no results (did it run?)"
	elif grep -q '^differs' <<< "$res"; then
		report "$1" FAIL "selftests/test_verifier@isolated: results differ from the baseline without a MOAT refusal ($same same, $refused refused):"
		grep '^differs' <<< "$res" | sed 's/^differs /    /' | head -40
	else
		report "$1" PASS "selftests/test_verifier@isolated: kernel.bpf_moat=2, $same tests as in the baseline, $refused refused by MOAT ($(sed -n 's/^TVM rc .* seconds //p' "$2") s)"
	fi
}

judge_guest() {	# judge_guest <cpu> <guest output> <console log> <completed 0|1>
	local cpu=$1 out=$2 console=$3 line
	while IFS= read -r line; do
		case "$line" in
		PASS\ *|FAIL\ *|SKIP\ *) report "$cpu" "${line%% *}" "${line#* }" ;;
		esac
	done < <(cat "$out" 2>/dev/null)
	if [ "$4" = 0 ] || ! grep -q '^GUEST done' "$out" 2>/dev/null; then
		report "$cpu" FAIL "guest/completed: the guest did not finish (timeout, panic or hang); last console lines:"
		tail -30 "$console" 2>/dev/null | sed 's/^/    | /'
	fi
	check_console "$cpu" "$console"
	if grep -q '^TV rc' "$out" 2>/dev/null; then
		check_verifier "$cpu" "$out"
	fi
	if grep -q '^TVM rc' "$out" 2>/dev/null; then
		check_verifier_moat "$cpu" "$out"
	fi
}
