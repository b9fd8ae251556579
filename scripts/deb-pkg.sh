#!/bin/bash
# Build an installable Debian kernel package (bindeb-pkg) of Linux 6.1 with
# our series, for real PKS hardware.  The .deb files land in build/deb/.
#
#   deb-pkg.sh                  x86_64 defconfig + kernel/configs/release.config
#   DEBIAN_CONFIG=1 deb-pkg.sh  Debian's amd64 config + release.config (slow)
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/kernel-tree.sh"
out=$BUILD/deb/kbuild
mkdir -p "$out" "$CCACHE_DIR"
kmake() { make -C "$KTREE" O="$out" ARCH=x86_64 CC="ccache gcc" "$@"; }

if [ "${DEBIAN_CONFIG:-0}" = 1 ]; then
	xz -dc /usr/src/linux-config-6.1/config.amd64_none_amd64.xz > "$out/.config"
	# Debian signs modules with its own key, which we do not have.
	"$KTREE/scripts/config" --file "$out/.config" --set-str SYSTEM_TRUSTED_KEYS "" \
		--set-str MODULE_SIG_KEY "certs/signing_key.pem" -d MODULE_SIG_ALL
else
	kmake -s defconfig >/dev/null
fi
{
	"$KTREE/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
		"$TOP/kernel/configs/release.config"
	kmake -s olddefconfig
} > "$BUILD/deb/kconfig.log" 2>&1 || die "configuration failed (build/deb/kconfig.log)"
grep -q '^CONFIG_BPF_MOAT=y' "$out/.config" || die "CONFIG_BPF_MOAT did not stick"
grep -qE '^CONFIG_(PKS_TEST|BPF_MOAT_TEST[A-Z0-9_]*)=y' "$out/.config" && die "a test-only option is on in a release build"

start=$(date +%s)
kmake -j"$JOBS" LOCALVERSION=-moat KDEB_PKGVERSION="$(cat "$BUILD/kernel-version")-moat1" \
	bindeb-pkg > "$BUILD/deb/build.log" 2>&1 || {
	tail -30 "$BUILD/deb/build.log" >&2
	die "bindeb-pkg failed (build/deb/build.log)"
}
ls -1 "$BUILD"/deb/*.deb
msg "Debian packages built in $(( $(date +%s) - start )) s"
