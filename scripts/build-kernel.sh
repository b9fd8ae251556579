#!/bin/bash
# Configure and build a kernel from build/linux: the test kernel into build/kbuild
# by default.
#
#   build-kernel.sh [extra config fragments...]
#
# The configuration is tinyconfig + kernel/configs/moat-test.config (+ any
# extra fragments, later ones overriding earlier ones); every option the
# fragments ask for is checked afterwards, so a silently dropped dependency
# fails the build instead of the tests.  MOAT_KOUT picks the output
# directory (default build/kbuild); logs go next to it.
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/kernel-tree.sh"
frags=("$TOP/kernel/configs/moat-test.config" "$@")
mkdir -p "$KOUT" "$CCACHE_DIR"
ccache -M 8G >/dev/null

kmake() { make -C "$KTREE" O="$KOUT" ARCH=x86_64 CC="ccache gcc" "$@"; }

# Kconfig's "override ... changes choice state" notes are expected when a
# fragment picks a different choice (e.g. PREEMPT): keep them in a log.
{
	kmake -s tinyconfig
	"$KTREE/scripts/kconfig/merge_config.sh" -m -O "$KOUT" "$KOUT/.config" \
		"${frags[@]}"
	kmake -s olddefconfig
} > "$KOUT.kconfig.log" 2>&1 || { cat "$KOUT.kconfig.log" >&2; die "configuration failed"; }

# What the fragments ask for, the last word on each option winning.
declare -A want=()
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)	want[${line%%=*}]=$line ;;
	"# CONFIG_"*" is not set") opt=${line#\# }; want[${opt%% *}]="" ;;
	esac
done < <(cat "${frags[@]}")
bad=0
for opt in "${!want[@]}"; do
	line=${want[$opt]}
	if [ -n "$line" ]; then
		grep -qxF -- "$line" "$KOUT/.config" || {
			msg "config: wanted $line, got: $(grep -E "^(# )?$opt[= ]" "$KOUT/.config" || echo unset)"
			bad=1
		}
	elif grep -q "^$opt=[ym]" "$KOUT/.config"; then
		msg "config: wanted $opt off, but it is on"
		bad=1
	fi
done
[ $bad = 0 ] || die "config fragment not satisfied (see above)"

msg "building Linux $(cat "$BUILD/kernel-version") ($(git -C "$KTREE" describe --always --tags))"
start=$(date +%s)
if ! kmake -j"$JOBS" bzImage > "$KOUT.log" 2>&1; then
	grep -E -m 40 'error|Error' "$KOUT.log" >&2 || tail -40 "$KOUT.log" >&2
	die "kernel build failed (full log: $KOUT.log)"
fi
msg "kernel built in $(( $(date +%s) - start )) s: ${KOUT#$TOP/}/arch/x86/boot/bzImage"
# Every map operations table and iterator description in the critical pages.
if grep -q '^CONFIG_BPF_MOAT=y' "$KOUT/.config"; then
	"$TOP/scripts/cop-check.sh" "$KOUT/System.map" >&2 ||
		die "a critical object is not __bpf_critical (see above)"
fi
