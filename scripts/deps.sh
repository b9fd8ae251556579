#!/bin/bash
# Install everything the build and the tests need on Debian 12.
# Idempotent: it only calls apt when a package is missing.  Arguments:
# more packages (e.g. what only "make bench" needs).
. "$(dirname "$0")/lib.sh"

PKGS="linux-source-6.1 build-essential bc bison flex cpio kmod rsync
      libelf-dev libssl-dev zlib1g-dev libzstd-dev libcap-dev dwarves
      ccache clang llvm qemu-system-x86 busybox-static python3
      debhelper fakeroot dpkg-dev linux-config-6.1 $*"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	msg "installing:$missing"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
[ -r "$KSRC_TARBALL" ] || die "$KSRC_TARBALL missing after installing linux-source-6.1"
