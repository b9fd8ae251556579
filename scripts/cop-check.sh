#!/bin/bash
# Check that every critical object of the kernel tree is protected: find,
# in build/linux's sources, every definition of a struct bpf_map_ops or a
# struct bpf_iter_seq_info (MOAT's critical objects, see
# kernel/bpf/moat_cop.c) and check that each such symbol built into the
# kernel lies in its critical pages, [__start_bpf_critical,
# __end_bpf_critical) of System.map.  The list comes from the tree, not from
# a copy of it: an instance added without __bpf_critical fails the check.
#
#   cop-check.sh [System.map]      (default: the test kernel's)
#
# Prints one summary line; exits 1 and names the objects outside.
. "$(dirname "$0")/lib.sh"
map=${1:-$KOUT/System.map}
[ -r "$map" ] || die "cop-check: no $map (build the kernel first)"
re='^(static )?const struct (bpf_map_ops|bpf_iter_seq_info) [a-z0-9_]+( __[a-z_]+)* ='
mapfile -t names < <(cd "$KTREE" &&
	git grep -hE "$re" -- '*.c' ':!tools' | sed -E 's/^(static )?const struct [a-z_]+ ([a-z0-9_]+).*/\2/' |
	sort -u)
[ ${#names[@]} -gt 0 ] || die "cop-check: no critical objects found in $KTREE"
awk -v list="$(printf '%s\n' "${names[@]}")" '
BEGIN { n = split(list, l, "\n"); for (i = 1; i <= n; i++) want[l[i]] = 1 }
$3 == "__start_bpf_critical" { start = $1 }
$3 == "__end_bpf_critical" { end = $1 }
($3 in want) { addr[NR] = $1; sym[NR] = $3; built[$3] = 1 }
END {
	if (start == "" || end == "") { print "cop-check: no critical section in the kernel (CONFIG_BPF_MOAT off?)"; exit 1 }
	for (r in addr) {
		nsym++
		# Same-width lower-case hex: string order is address order.
		if (addr[r] < start || addr[r] >= end) { print "cop-check: " sym[r] " (" addr[r] ") outside the critical pages"; bad++ }
	}
	for (s in want) { names++; if (s in built) nbuilt++ }
	printf "cop-check: %d critical object names in the tree, %d built in, %d symbols, %d of them in [%s, %s)\n",
		names, nbuilt, nsym, nsym - bad, start, end
	exit bad > 0
}' "$map"
