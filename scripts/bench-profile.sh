#!/bin/bash
# Where the guest kernel's instructions go during benchmarks: boots the
# benchmark kernel with bench/tools/insn-profile.c (a QEMU TCG plugin) and
# prints the functions that executed most instructions, per unit of the
# first case if asked.
#
#   bench-profile.sh [--only BENCH[,BENCH]] [--per N] [--top N]
#
# --per N divides every count by N (e.g. the number of isolated runs, to
# read instructions per run).  Needs build/kbuild-bench (make bench).
. "$(dirname "$0")/lib.sh"

only=micro per=1 top=40
while [ $# -gt 0 ]; do
	case "$1" in
	--only)	only=$2; shift ;;
	--per)	per=$2; shift ;;
	--top)	top=$2; shift ;;
	*)	die "usage: bench-profile.sh [--only BENCH[,BENCH]] [--per N] [--top N]" ;;
	esac
	shift
done
export MOAT_KOUT=$BUILD/kbuild-bench
out=$BUILD/bench
mkdir -p "$out"
[ -f "$MOAT_KOUT/vmlinux" ] || die "no benchmark kernel: run 'make bench' first"
gcc -O2 -Wall -shared -fPIC -o "$out/insn-profile.so" "$TOP/bench/tools/insn-profile.c"
rm -f "$out/profile.raw"
"$TOP/scripts/run-guest.sh" --cpu pks --mode bench --smp 1 \
	--only "$only" --name profile \
	--plugin "$out/insn-profile.so,out=$out/profile.raw" > /dev/null
[ -s "$out/profile.raw" ] || die "the plugin wrote no profile"
grep '^R ' "$BUILD/guest/profile.out" >&2 || true

# Address -> function: walk the sorted profile along the sorted symbols.
nm -n "$MOAT_KOUT/vmlinux" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' > "$out/profile.syms"
sort "$out/profile.raw" | awk -v per="$per" -v syms="$out/profile.syms" '
# Kernel text and BPF images are in the top 2 GiB: 32 bits tell them apart
# (and fit an awk number exactly).
function hex(s,    i, v, c) {
	v = 0
	if (length(s) == 16)
		s = substr(s, 9)
	for (i = 1; i <= length(s); i++) {
		c = index("0123456789abcdef", substr(s, i, 1)) - 1
		v = v * 16 + c
	}
	return v
}
BEGIN {
	while ((getline l < syms) > 0) {
		split(l, a, " ")
		n++; sa[n] = hex(a[1]); sn[n] = a[2]
	}
	j = 1
}
{
	addr = hex($1)
	while (j < n && sa[j + 1] <= addr)
		j++
	name = (length($1) == 16 && substr($1, 1, 8) == "ffffffff" &&
		addr >= sa[j] && addr - sa[j] < 65536) ? sn[j] : "[bpf/other]"
	cnt[name] += $2; total += $2
}
END {
	for (f in cnt)
		printf "%12.1f %5.1f%% %s\n", cnt[f] / per, cnt[f] * 100 / total, f
}' | sort -rn | head -"$top"
