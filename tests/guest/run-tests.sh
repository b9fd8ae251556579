#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs every test binary of the guest suite; the host counts the
# PASS/FAIL/SKIP lines.  A binary that dies or fails without printing a
# FAIL line is reported here, so nothing fails silently.
for t in $(find /tests/bin -type f | sort); do
	name=${t#/tests/bin/}
	out=/tmp/out.$$
	"$t" > $out 2>&1
	rc=$?
	cat $out
	if [ $rc -ne 0 ] && ! grep -q '^FAIL ' $out; then
		echo "FAIL $name: exited with status $rc without reporting a failure"
	fi
	rm -f $out
done

if [ -x /tests/test_verifier ]; then
	echo 0 > /proc/sys/kernel/unprivileged_bpf_disabled
	start=$(cut -d' ' -f1 /proc/uptime)
	/tests/test_verifier > /tmp/tv.log 2>&1
	echo "TV rc $? seconds $(awk -v s="$start" '{print $1 - s}' /proc/uptime)"
	sed 's/^/TV| /' /tmp/tv.log
fi
