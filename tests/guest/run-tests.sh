#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs every test binary of the guest suite; the host counts the
# PASS/FAIL/SKIP lines.  A binary that dies or fails without printing a
# FAIL line is reported here, so nothing fails silently.
# run_test <binary> <name>: its output, plus a FAIL line if it failed
# without reporting one.
run_test() {
	out=/tmp/out.$$
	"$1" > $out 2>&1
	rc=$?
	cat $out
	if [ $rc -ne 0 ] && ! grep -q '^FAIL ' $out; then
		echo "FAIL $2: exited with status $rc without reporting a failure"
	fi
	rm -f $out
}

# MOAT_ONLY=suite/binary[,...] (run-guest.sh --only): just those binaries,
# for a quick look during development, with the tests' INFO lines; the
# suite proper runs everything.
if [ -n "$MOAT_ONLY" ]; then
	export MOAT_VERBOSE=1
	for t in $(echo "$MOAT_ONLY" | tr ',' ' '); do
		run_test "/tests/bin/$t" "$t"
	done
	exit 0
fi

for t in $(find /tests/bin -type f | sort); do
	run_test "$t" "${t#/tests/bin/}"
done

# The legitimate programs of these suites once more, every program
# isolated (kernel.bpf_moat=2) and under interrupt load on both CPUs:
# their results must not change.  The load is the PKS self-test
# irq_storm (a timer interrupt, NMIs and an IPI every 500 us on each CPU)
# in a loop; every storm must pass, and some of its interrupts must have
# landed in restricted windows.  The programs must really have run
# isolated: MOAT's run count goes up.
ISOLATED="smoke/socket_filter smoke/tracepoint smoke/xdp_veth smoke/seccomp"
PKS_TEST=/sys/kernel/debug/pks/test
moat_runs() {
	awk '$1 == "runs" { print $2 }' /sys/kernel/debug/bpf_moat/stats 2>/dev/null
}
storm_loop() {
	while [ ! -e /tmp/storm.stop ]; do
		echo irq_storm > $PKS_TEST
		cat $PKS_TEST
	done > /tmp/storm.log 2>&1
}
if ! /tests/cpuid-pks; then
	echo "SKIP isolated/smoke: CPU has no PKS"
else
	before=$(moat_runs)
	rm -f /tmp/storm.stop
	storm_loop &
	storm=$!
	echo 2 > /proc/sys/kernel/bpf_moat
	export MOAT_TEST_SUFFIX=@isolated
	for t in $ISOLATED; do
		run_test /tests/bin/$t $t@isolated
	done
	unset MOAT_TEST_SUFFIX
	echo 0 > /proc/sys/kernel/bpf_moat
	touch /tmp/storm.stop
	wait $storm
	after=$(moat_runs)
	if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -gt "$before" ]; then
		echo "PASS isolated/smoke_programs_ran_isolated"
	else
		echo "FAIL isolated/smoke_programs_ran_isolated: MOAT runs '$before' -> '$after'"
	fi
	storms=$(grep -c '^PASS irq_storm' /tmp/storm.log)
	others=$(grep -vc '^PASS irq_storm' /tmp/storm.log)
	# Entries from restricted windows, summed over the storms.
	hits=$(sed -n 's/.*windows: \([0-9]*\) non-IST, \([0-9]*\) IST.*/\1 \2/p' /tmp/storm.log |
		awk '{ s += $1 + $2 } END { print s + 0 }')
	if [ "$storms" -gt 0 ] && [ "$others" -eq 0 ] && [ "$hits" -gt 0 ]; then
		echo "PASS isolated/smoke_under_interrupt_load: $storms storms, $hits interrupts of restricted windows"
	else
		echo "FAIL isolated/smoke_under_interrupt_load: $storms storms passed, $hits interrupts of windows; $(grep -v '^PASS irq_storm' /tmp/storm.log | head -3)"
	fi
fi

if [ -x /tests/test_verifier ]; then
	echo 0 > /proc/sys/kernel/unprivileged_bpf_disabled
	start=$(cut -d' ' -f1 /proc/uptime)
	/tests/test_verifier > /tmp/tv.log 2>&1
	echo "TV rc $? seconds $(awk -v s="$start" '{print $1 - s}' /proc/uptime)"
	sed 's/^/TV| /' /tmp/tv.log
	# Once more with every program isolated (only where MOAT can be on).
	if /tests/cpuid-pks; then
		echo 2 > /proc/sys/kernel/bpf_moat
		start=$(cut -d' ' -f1 /proc/uptime)
		/tests/test_verifier > /tmp/tv.log 2>&1
		echo "TVM rc $? seconds $(awk -v s="$start" '{print $1 - s}' /proc/uptime)"
		echo 0 > /proc/sys/kernel/bpf_moat
		sed 's/^/TVM| /' /tmp/tv.log
	fi
fi
