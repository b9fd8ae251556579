#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Self-test of the result judge (scripts/judge.sh) on made-up guest logs:
# a suite that cannot see a kernel WARNING, a hang or a changed
# test_verifier result would pass anything.  Prints PASS/FAIL lines.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nfail=0

# judge <completed> <console text> <output text> [baseline text]
# Runs the judge in a subshell and prints "<pass> <fail> <skip>".
judge() {
	printf '%s\n' "$2" > "$tmp/console"
	printf '%s\n' "$3" > "$tmp/out"
	printf '%s\n' "${4:-}" > "$tmp/baseline"
	(
		. "$TOP/scripts/judge.sh"
		pass=0 fail=0 skip=0
		judge_guest x "$tmp/out" "$tmp/console" "$1" > "$tmp/report"
		echo "$pass $fail $skip"
	)
}

expect() {	# expect <case> <want "pass fail skip"> <got>
	if [ "$2" = "$3" ]; then
		echo "PASS judge/$1"
	else
		echo "FAIL judge/$1: counts (pass fail skip): got $3, want $2"
		sed 's/^/    /' "$tmp/report"
		nfail=$((nfail + 1))
	fi
}

boot='[    0.000000] Linux version 6.1.192+
[    1.309809] rcu: 	RCU lockdep checking is enabled.'
ok_out='PASS a/one
SKIP a/two: no reason
GUEST done'

expect clean_run_passes "2 0 1" "$(judge 1 "$boot" "$ok_out")"
expect failing_case_counts "2 1 0" "$(judge 1 "$boot" 'PASS a/one
FAIL a/two: x: got 1, want 2
GUEST done')"
expect hang_fails "2 1 1" "$(judge 0 "$boot" "$ok_out")"
expect unfinished_output_fails "2 1 0" "$(judge 1 "$boot" 'PASS a/one')"

n=0
while IFS= read -r splat; do
	n=$((n + 1))
	expect "splat_${n}_fails" "1 1 1" "$(judge 1 "$boot
[    2.000000] $splat
[    2.000001] Call Trace:" "$ok_out")"
done <<'SPLATS'
WARNING: CPU: 1 PID: 77 at kernel/bpf/core.c:100 bpf_prog_run+0x10/0x20
BUG: KASAN: slab-out-of-bounds in foo+0x1/0x2
BUG: unable to handle page fault for address: ffffc90000001000
Oops: 0003 [#1] PREEMPT SMP KASAN
BUG: sleeping function called from invalid context at mm/slab.h:1
WARNING: possible circular locking dependency detected
WARNING: inconsistent lock state
general protection fault, probably for non-canonical address 0xdead: 0000 [#1]
Kernel panic - not syncing: Fatal exception
watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [sh:1]
unchecked MSR access error: WRMSR to 0x6e1 (tried to write 0x0000000000000001)
SPLATS

# A violation MOAT contained is reported with the exception's name.
expect contained_violation_passes "2 0 1" "$(judge 1 "$boot
[    2.000000] MOAT: terminated program 340 'moat_fuzz' (tag 23343c4d67054ae8): general protection fault at address 0x0, ip bpf_prog_23343c4d67054ae8_moat_fuzz+0x2e4/0x4c3" "$ok_out")"

# test_verifier: identical results pass, a changed result fails.
tv_out="$ok_out
TV rc 1 seconds 1
TV| #0/u first test OK
TV| #0/p first test OK
TV| #1/u second test Failed to load BTF spec: 'Operation not permitted'
TV| FAIL
TV| Summary: 2 PASSED, 0 SKIPPED, 1 FAILED"
base='#0/u OK first test
#0/p OK first test
#1/u FAIL second test'
tv_check() {	# tv_check <output> <baseline>: prints "<pass> <fail>"
	printf '%s\n' "$1" > "$tmp/out"
	printf '%s\n' "$2" > "$tmp/baseline"
	(
		. "$TOP/scripts/judge.sh"
		pass=0 fail=0 skip=0
		check_verifier x "$tmp/out" "$tmp/baseline" > "$tmp/report"
		echo "$pass $fail $skip"
	)
}
expect tv_unchanged_passes "1 0 0" "$(tv_check "$tv_out" "$base")"
was='#0/p first test OK' now='#0/p first test FAIL'
expect tv_changed_fails "0 1 0" "$(tv_check "${tv_out/"$was"/"$now"}" "$base")"
expect tv_missing_fails "0 1 0" "$(tv_check "$ok_out" "$base")"

# test_verifier isolated: a difference passes only with a MOAT refusal.
tvm_out="$ok_out
TVM rc 1 seconds 1
TVM| #0/u first test OK
TVM| #0/p first test FAIL
TVM| Failed to load prog 'Operation not supported'!
TVM| MOAT: isolation required (kernel.bpf_moat=2) but not possible: tail calls are not isolated yet
TVM| #1/u second test FAIL
TVM| Summary: 1 PASSED, 0 SKIPPED, 2 FAILED"
tvm_check() {	# tvm_check <output> <baseline>: prints "<pass> <fail>"
	printf '%s\n' "$1" > "$tmp/out"
	printf '%s\n' "$2" > "$tmp/baseline"
	(
		. "$TOP/scripts/judge.sh"
		pass=0 fail=0 skip=0
		check_verifier_moat x "$tmp/out" "$tmp/baseline" > "$tmp/report"
		echo "$pass $fail $skip"
	)
}
expect tvm_refusal_passes "1 0 0" "$(tvm_check "$tvm_out" "$base")"
was='TVM| MOAT: isolation required' now='TVM| something else:'
expect tvm_unexplained_fails "0 1 0" "$(tvm_check "${tvm_out/"$was"/"$now"}" "$base")"
expect tvm_missing_fails "0 1 0" "$(tvm_check "$ok_out" "$base")"

[ $nfail = 0 ]
