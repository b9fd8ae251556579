# shellcheck shell=bash
# Common settings for the MOAT build scripts.  Sourced, never executed.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${MOAT_BUILD:-$TOP/build}
KSRC_TARBALL=${KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
KTREE=$BUILD/linux               # git work tree: pristine + our series
# O= directory of the kernel being built or booted: the test kernel, or the
# benchmark kernel (MOAT_KOUT=$BUILD/kbuild-bench, see scripts/bench.sh).
KOUT=${MOAT_KOUT:-$BUILD/kbuild}
PATCHES=$TOP/kernel/patches
JOBS=${JOBS:-$(nproc)}

# One compiler cache per user, shared by all clones and build directories:
# paths are hashed relative to $BUILD, so a fresh clone reuses the objects
# of an earlier build of the same sources.
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-$BUILD}/.cache}/moat-ccache}
export CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1
export KBUILD_BUILD_USER=moat KBUILD_BUILD_HOST=moat
export KBUILD_BUILD_TIMESTAMP=${KBUILD_BUILD_TIMESTAMP:-2024-01-01}

msg() { printf '[moat] %s\n' "$*" >&2; }
die() { printf '[moat] error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

series_hash() {
	cat "$PATCHES/series" $(sed -e 's/#.*//' -e '/^\s*$/d' \
		-e "s|^|$PATCHES/|" "$PATCHES/series") | sha256sum | cut -c1-16
}
