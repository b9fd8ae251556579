#!/bin/bash
# 'make bench': MOAT on vs off in the same boot of the PKS guest, plus the
# instructions MOAT adds per invocation, counted in the built kernel.
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/deps.sh"
"$TOP/scripts/build-kernel.sh"
"$TOP/scripts/build-tests.sh"

# Instructions of the gates, from vmlinux (static counts; the abort path
# of bpf_moat_enter is 2 of its instructions and runs only on violations).
count() {
	local start end
	start=$(nm "$KOUT/vmlinux" | awk -v s="$1" '$3 == s { print $1 }')
	end=$(nm -n "$KOUT/vmlinux" | awk -v a="$start" 'f && $1 != a { print $1; exit } $1 == a { f = 1 }')
	objdump -d --no-show-raw-insn --start-address="0x$start" \
		--stop-address="0x$end" "$KOUT/vmlinux" |
		grep -cE '^ *[0-9a-f]+:[[:space:]]'
}
msg "gate instructions: bpf_moat_enter $(count bpf_moat_enter) (entry + exit, 2 WRMSR to PKRS), bpf_moat_helper_gate $(count bpf_moat_helper_gate) (+1 mov per call site in the JIT image, 2 WRMSR)"
msg "booting the PKS guest for the side-by-side run"
"$TOP/scripts/run-guest.sh" --cpu pks --mode bench --timeout 900
