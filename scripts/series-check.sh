#!/bin/bash
# Prove that every patch of kernel/patches builds on its own: apply the
# series one patch at a time to a scratch copy of the pristine source and,
# after each, build the kernel incrementally twice:
#
#   on    the test configuration (tinyconfig + kernel/configs/moat-test.config)
#         without its run-time debugging (KASAN, lockdep, list and sleep
#         checks) and debug information, which instrument and annotate
#         code but change nothing that builds or not, and triple the time
#         of every rebuild; without BTF the test facility
#         (CONFIG_BPF_MOAT_TEST) is off: the last patch adds it, and "make
#         test" builds that tree with the full test configuration
#   off   the same with CONFIG_X86_PKS, CONFIG_BPF_MOAT and CONFIG_PKS_TEST
#         turned off
#
# and run checkpatch on the patch.  One line per patch:
#
#   NN name  on: ok (+W)  off: ok (+W)  checkpatch: E errors, W warnings
#
# "+W" counts the compiler warnings of that incremental build (file and
# message; the pristine source gives none in these configurations).  The
# logs are in build/series-check/logs.  The exit status is non-zero if any
# step fails, warns or has checkpatch findings.
#
#   series-check.sh [FIRST [LAST]]   check patches FIRST..LAST (1-based);
#                                    earlier ones are applied, not built
#
# Slow: the early x86 patches touch headers nearly every file includes,
# and include/linux/bpf_moat.h, which several patches change, is included
# by <linux/bpf.h>; a full run is a few hours on two cores.  ccache makes
# reruns cheap.  Not part of "make test".  Needs "make kernel-tree".
. "$(dirname "$0")/lib.sh"

first=${1:-1}
last=${2:-999}
SC=$BUILD/series-check
SRC=$SC/linux
LOG=$SC/logs
[ -d "$KTREE/.git" ] || "$TOP/scripts/kernel-tree.sh"
mkdir -p "$SC" "$LOG" "$CCACHE_DIR"

# A copy of the series: kernel/patches may change while this runs.
rm -rf "$SC/patches"
cp -r "$PATCHES" "$SC/patches"
mapfile -t patches < <(sed -e 's/#.*//' -e '/^\s*$/d' "$SC/patches/series")

git_s() { git -C "$SRC" -c user.name=moat -c user.email=moat@localhost "$@"; }

# A scratch work tree at the pristine source, sharing build/linux's objects.
if [ ! -d "$SRC" ]; then
	git -C "$KTREE" worktree prune
	git -C "$KTREE" worktree add -q --detach "$SRC" pristine
fi
git_s am --abort >/dev/null 2>&1 || true
git_s reset -q --hard pristine
git_s clean -q -fdx

# The test configuration without its run-time debugging and without debug
# information (DWARF and BTF take most of the compile and link time).  The
# test facility needs BTF, so it is off here: the last patch, which adds
# it, builds the same tree "make test" builds with the full test
# configuration.
DEBUG_OPTS='PROVE_LOCKING|DEBUG_ATOMIC_SLEEP|DEBUG_LIST|KASAN|KASAN_GENERIC|KASAN_INLINE|BPF_MOAT_TEST|DEBUG_INFO_[A-Z_]*'
{
	grep -vE "^(# )?CONFIG_($DEBUG_OPTS)[= ]" "$TOP/kernel/configs/moat-test.config"
	echo "CONFIG_DEBUG_INFO_NONE=y"
} > "$SC/on.config"
{
	grep -vE "^(# )?CONFIG_(X86_PKS|BPF_MOAT|PKS_TEST)[= ]" "$SC/on.config"
	for o in X86_PKS BPF_MOAT PKS_TEST; do
		echo "# CONFIG_$o is not set"
	done
} > "$SC/off.config"

# Configure $SRC for $1 in a directory of its own, and copy the result to
# the build directory only when it changed, so unchanged options rebuild
# nothing.  The configuration is remade for every patch: options appear
# with the patches.  Then build; keep the warnings, without line numbers.
build() {
	local cfg=$1 out=$SC/$1 kc=$SC/$1-kconfig log=$LOG/$2-$1.log
	mkdir -p "$out" "$kc"
	{
		make -C "$SRC" O="$kc" ARCH=x86_64 -s tinyconfig
		"$SRC/scripts/kconfig/merge_config.sh" -m -O "$kc" \
			"$kc/.config" "$SC/$cfg.config"
		make -C "$SRC" O="$kc" ARCH=x86_64 -s olddefconfig
	} > "$log.kconfig" 2>&1 || return 1
	cmp -s "$kc/.config" "$out/.config" || cp "$kc/.config" "$out/.config"
	make -C "$SRC" O="$out" ARCH=x86_64 CC="ccache gcc" -j"$JOBS" bzImage \
		> "$log" 2>&1 || return 1
	{ grep ': warning:' "$log" || true; } |
		sed -E 's|^(\.\./)*([^:]*):[0-9]+:[0-9]+: |\2: |' | sort -u > "$log.warn"
}

# The first patch checked is built from scratch (or from whatever an earlier
# run left), every later one incrementally.
fail=0
n=0
for p in "${patches[@]}"; do
	n=$((n + 1))
	[ $n -gt "$last" ] && break
	git_s am -q --keep-cr "$SC/patches/$p" >/dev/null 2>&1 ||
		die "$p does not apply"
	[ $n -lt "$first" ] && continue

	line=$(printf '%02d %-60.60s' $n "${p%.patch}")
	for cfg in on off; do
		if build $cfg $n; then
			w=$(wc -l < "$LOG/$n-$cfg.log.warn")
			line+="  $cfg: ok (+$w)"
			[ "$w" -gt 0 ] && fail=1
		else
			line+="  $cfg: FAILED"
			fail=1
		fi
	done
	# From the kernel tree, as checkpatch expects (elsewhere it misreads).
	cp=$(cd "$SRC" && ./scripts/checkpatch.pl --no-tree --no-signoff \
		--ignore FILE_PATH_CHANGES "$SC/patches/$p" 2>&1 | grep '^total:' || true)
	e=$(sed -n 's/.*total: \([0-9]*\) errors.*/\1/p' <<<"$cp")
	wn=$(sed -n 's/.*errors, \([0-9]*\) warnings.*/\1/p' <<<"$cp")
	line+="  checkpatch: ${e:-?} errors, ${wn:-?} warnings"
	[ "${e:-1}" = 0 ] && [ "${wn:-1}" = 0 ] || fail=1
	echo "$line"
done
[ $fail = 0 ] && msg "every patch builds (on and off) without new warnings and is checkpatch-clean" ||
	msg "some patches failed: logs in $LOG"
exit $fail
