#!/bin/bash
# test_verifier once more with kernel.bpf_moat=2 ("TVM| " lines of the
# guest output, on stdin): compare each test with the baseline.
#
#   tvm-check.sh <baseline>
#
# A test may differ from the baseline only because MOAT refused to isolate
# its program: its output block names the refusal ("MOAT: isolation
# required ..."), or the program type probe was refused ("SKIP (unsupported
# program type N)"), or the prog array the test needs could not be filled
# (its dummy programs use tail calls: "fd -1 is not pointing to valid
# bpf_map").  Prints "same N", "refused N", and one "differs <test>
# <baseline> <now>" line per other difference.
. "$(dirname "$0")/lib.sh"
base=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep '^TVM| ' > "$tmp/tvm"
sed 's/^TVM| /TV| /' "$tmp/tvm" | "$TOP/scripts/tv-results.sh" > "$tmp/now"
# ids of tests whose block shows a MOAT refusal
awk '
/^TVM\| #[0-9]+\/[up] / { id = $2 }
id != "" && (/MOAT: isolation required/ || /SKIP \(unsupported program type/ ||
	     /fd -1 is not pointing to valid bpf_map/) { print id }
' "$tmp/tvm" | sort -u > "$tmp/refused"
awk -v R="$tmp/refused" -v B="$base" '
BEGIN {
	while ((getline l < R) > 0) refused[l] = 1
	while ((getline l < B) > 0) { split(l, f, " "); want[f[1]] = f[2] }
}
{
	if (want[$1] == $2) same++
	else if ($1 in refused) nref++
	else { print "differs", $1, (want[$1] == "" ? "-" : want[$1]), $2; bad++ }
}
END { print "same", same + 0; print "refused", nref + 0 }
' "$tmp/now"
