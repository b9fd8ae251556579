#!/bin/bash
# Tables (and a plot) from the two benchmark boots of scripts/bench.sh:
#
#   bench-report.sh WALL.out ICOUNT.out OUTDIR
#
# For every case (an "R" line of bench/bench.h, the same in both boots):
#   (a) the TCG wall-time ratio, MOAT on / off (least meaningful: a PKRS
#       write costs ~1.7 us under TCG, ~111 cycles on hardware);
#   (b) the instruction ratio under -icount (deterministic; the primary
#       figure), and the instructions MOAT adds per unit;
#   (c) a modelled hardware overhead: bench/costs.conf's cost model applied
#       to (b) and to MOAT's counted events;
# with the paper's figure (bench/paper.txt) beside it.  Writes
# OUTDIR/report.txt (also printed), OUTDIR/nprogs.dat and, with gnuplot,
# OUTDIR/nprogs.svg.
. "$(dirname "$0")/lib.sh"

[ $# = 3 ] || die "usage: bench-report.sh WALL.out ICOUNT.out OUTDIR"
wall=$1 icount=$2 out=$3
mkdir -p "$out"
for f in "$wall" "$icount"; do
	grep -q '^R ' "$f" 2>/dev/null || die "no results in $f"
done

awk -v costs="$TOP/bench/costs.conf" -v paper="$TOP/bench/paper.txt" \
    -v dat="$out/nprogs.dat" '
function kv(line, key,    a, i, n) {
	n = split(line, a, " ")
	for (i = 1; i <= n; i++)
		if (index(a[i], key "=") == 1)
			return substr(a[i], length(key) + 2)
	return ""
}
function pct(on, off) { return off > 0 ? sprintf("%+.1f%%", (on / off - 1) * 100) : "-" }
BEGIN {
	while ((getline l < costs) > 0) {
		if (l ~ /^#/ || l ~ /^[ \t]*$/)
			continue
		split(l, a, " ")
		cost[a[1]] = a[2]
	}
	while ((getline l < paper) > 0) {
		if (l ~ /^#/ || l ~ /^[ \t]*$/)
			continue
		split(l, a, " ")
		fig[a[1] " " a[2]] = a[3]
	}
	ipc = cost["ipc"]
}
FNR == 1 { file++ }
/^C / && file == 2 {
	ck = $2 " " $3
	if (!(ck in ccalls))
		corder[++nc] = ck
	ccalls[ck] = kv($0, "calls"); cscalar[ck] = kv($0, "scalar")
	cgated[ck] = kv($0, "gated")
	next
}
/^L / {
	if (file == 2) {
		lk = $2 " " $3
		lorder[++nl] = lk
		lmoves[lk] = kv($0, "moves"); lpages[lk] = kv($0, "pages")
		lflush[lk] = kv($0, "flushes"); lref[lk] = kv($0, "refused")
		lcr3[lk] = kv($0, "cr3")
	}
	next
}
/^R / {
	key = $2 " " $3
	if (file == 1) {
		woff[key] = kv($0, "off"); won[key] = kv($0, "on")
		next
	}
	order[++nr] = key; wl[key] = $2; cs[key] = $3; unit[key] = $4
	base[key] = kv($0, "base"); off[key] = kv($0, "off"); on[key] = kv($0, "on")
	runs[key] = kv($0, "runs"); helpers[key] = kv($0, "helpers")
	pkrs[key] = kv($0, "pkrs"); tlb[key] = kv($0, "tlb")
}
END {
	printf "Cost model (bench/costs.conf): WRMSR PKRS %d cycles, INVLPG %d cycles, full TLB flush %d cycles, %s instructions per cycle\n", cost["pkrs"], cost["tlb"], cost["flush"], ipc
	printf "(a) wall = TCG wall time, (b) instr = instructions under -icount, (c) model = modelled cycles on PKS hardware\n"
	last = ""
	for (i = 1; i <= nr; i++) {
		k = order[i]
		if (wl[k] != last) {
			last = wl[k]
			printf "\n== %s (per %s) ==\n", wl[k], unit[k]
			printf "%-10s %10s %10s %10s %8s %8s | %9s | %6s %6s %6s %5s | %9s %8s | %8s\n", "case", "base ins", "off ins", "on ins", "+ins", "(b)ins", "(a)wall", "runs", "helper", "PKRS", "TLB", "+cycles", "(c)model", "paper"
		}
		fl = (k in lflush) ? lflush[k] : 0
		ev = pkrs[k] + tlb[k] + fl
		dins = on[k] - off[k]
		dcyc = (dins - ev) / ipc + pkrs[k] * cost["pkrs"] + tlb[k] * cost["tlb"] + fl * cost["flush"]
		lins[k] = dins; lcyc[k] = dcyc
		model = off[k] > 0 ? dcyc / (off[k] / ipc) * 100 : 0
		p = "-"
		if ((wl[k] " " cs[k]) in fig)
			p = fig[wl[k] " " cs[k]] "%"
		if (wl[k] == "micro" && ("micro entry" in fig))
			p = fig["micro entry"] "cyc"
		printf "%-10s %10s %10.0f %10.0f %8.0f %8s | %9s | %6.2f %6.2f %6.2f %5.2f | %9.0f %7.1f%% | %8s\n", cs[k], base[k] == "-" ? "-" : sprintf("%.0f", base[k]), off[k], on[k], dins, pct(on[k], off[k]), pct(won[k], woff[k]), runs[k], helpers[k], pkrs[k], tlb[k], dcyc, model, p
		if (wl[k] != "micro") {
			sum[wl[k]] += model; cnt[wl[k]]++
			if (!(wl[k] in mx) || model > mx[wl[k]])
				mx[wl[k]] = model
			if ((wl[k] " " cs[k]) in fig) {
				psum[wl[k]] += fig[wl[k] " " cs[k]]; pcnt[wl[k]]++
			}
		}
		if (wl[k] == "nprogs" && cs[k] ~ /^[0-9]+$/)
			printf "%s %.2f %.2f %s\n", cs[k], (on[k] / off[k] - 1) * 100, model, fig[wl[k] " " cs[k]] > dat
		if (wl[k] == "micro" && cs[k] == "sk_nop") {
			entry = dcyc; entry_ins = dins
		}
		if (wl[k] == "micro" && cs[k] == "sk_helper1") {
			h1 = dcyc; h1_ins = dins
		}
		if (wl[k] == "micro" && cs[k] == "sk_hash") {
			hc = dcyc; hc_ins = dins
		}
	}
	if (nc) {
		printf "\n== checks per isolated program (paper Table 8: #Helper, DPA checks) ==\n"
		printf "%-10s %-12s %6s %14s %11s | %8s\n", "object", "program", "calls", "scalar checks", "gated args", "paper"
		for (i = 1; i <= nc; i++) {
			k = corder[i]; split(k, a, " ")
			pn = a[2]; sub(/^(sf|xdp)_/, "", pn)
			p = ("checks " pn) in fig ? fig["checks " pn] : "-"
			printf "%-10s %-12s %6s %14s %11s | %8s\n", a[1], a[2], ccalls[k], cscalar[k], cgated[k], p
		}
	}
	if (nl) {
		printf "\n== Layer II: per isolated run, N programs with a map each run in turn; vK: one program whose maps are in K domains (layer2) ==\n"
		printf "%-6s %8s %9s %6s %6s %10s %12s %11s %8s %6s\n", "N", "+ins", "+cycles", "PKRS", "INVLPG", "key moves", "PTEs rekeyed", "full flush", "refused", "CR3"
		for (i = 1; i <= nl; i++) {
			k = lorder[i]; split(k, a, " ")
			printf "%-6s %8.0f %9.0f %6.2f %6.2f %10.2f %12.2f %11.2f %8.2f %6s\n", a[2], lins[k], lcyc[k], pkrs[k], tlb[k], lmoves[k], lpages[k], lflush[k], lref[k], lcr3[k]
		}
		printf "(cost model: full flush %d cycles, an assumption: bench/costs.conf)\n", cost["flush"]
	}
	printf "\n== summary: modelled overhead on PKS hardware vs the paper ==\n"
	printf "%-11s %10s %10s %12s\n", "workload", "mean (c)", "max (c)", "paper mean"
	if (entry_ins != "")
		printf "%-11s %9.0fc %10s %11sc  (socket filter entry/exit: +%.0f instructions)\n", "entry/exit", entry, "", fig["micro entry"], entry_ins
	if (h1_ins != "")
		printf "%-11s %9.0fc %10s %12s  (one helper call through the gate: +%.0f instructions)\n", "helper", h1 - entry, "", "-", h1_ins - entry_ins
	if (hc_ins != "")
		printf "%-11s %9.0fc %10s %12s  (a hash lookup, map and key checked: +%.0f instructions)\n", "checked", hc - entry, "", "-", hc_ins - entry_ins
	for (w in cnt)
		printf "%-11s %+9.1f%% %+9.1f%% %12s\n", w, sum[w] / cnt[w], mx[w], pcnt[w] ? sprintf("%+.1f%%", psum[w] / pcnt[w]) : "-"
}' "$wall" "$icount" | tee "$out/report.txt"

if command -v gnuplot > /dev/null && [ -s "$out/nprogs.dat" ]; then
	gnuplot <<-GP
	set terminal svg size 800,500 dynamic
	set output "$out/nprogs.svg"
	set title "MOAT overhead vs number of programs (process creation, execve tracepoints)"
	set xlabel "programs attached"
	set ylabel "overhead over plain programs (%)"
	set logscale x 2
	set key top left
	set grid
	plot "$out/nprogs.dat" using 1:2 with linespoints title "instructions (-icount)", \
	     "" using 1:3 with linespoints title "modelled PKS hardware", \
	     "" using 1:4 with linespoints title "paper (Fig. 14)"
	GP
	msg "plot: ${out#$TOP/}/nprogs.svg"
fi
