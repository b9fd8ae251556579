#!/bin/bash
# Create or update build/linux: a git work tree holding Debian's pristine
# linux-source-6.1 as one commit (tag "pristine") with our patch series on
# top, one commit per patch.
#
#   kernel-tree.sh          create the tree, or bring it up to date with
#                           kernel/patches when the series changed and the
#                           tree holds no local work
#   kernel-tree.sh --force  reset to pristine + series, dropping local work
#
# Edit and commit inside build/linux, then run scripts/export-patches.sh to
# write the commits back into kernel/patches.
. "$(dirname "$0")/lib.sh"

force=0
[ "${1:-}" = --force ] && force=1

stamp=$KTREE/.git/moat-applied          # "<series hash> <HEAD after apply>"
want=$(series_hash)

git_k() { git -C "$KTREE" -c user.name=moat -c user.email=moat@localhost "$@"; }

create_pristine() {
	msg "extracting $KSRC_TARBALL"
	rm -rf "$KTREE" "$KTREE.tmp"
	mkdir -p "$KTREE.tmp"
	tar -xf "$KSRC_TARBALL" -C "$KTREE.tmp" --strip-components=1
	mv "$KTREE.tmp" "$KTREE"
	local ver
	ver=$(make -s -C "$KTREE" kernelversion)
	git_k init -q -b moat
	git_k add -A -f
	git_k commit -q -m "Linux $ver (Debian linux-source-6.1, pristine)"
	git_k tag pristine
	unhide_new_files
	msg "pristine source is Linux $ver"
}

apply_series() {
	git_k update-index --no-skip-worktree .gitignore
	git_k reset -q --hard pristine
	git_k clean -q -fdx
	unhide_new_files
	local p
	for p in $(sed -e 's/#.*//' -e '/^\s*$/d' "$PATCHES/series"); do
		if ! git_k am -q --keep-cr "$PATCHES/$p" >/dev/null 2>&1; then
			git_k am --abort >/dev/null 2>&1 || true
			die "patch $p does not apply to Linux $(kernel_version)." \
			    "Rebase the series onto this source (see README, 'Kernel work')."
		fi
	done
	echo "$want $(git_k rev-parse HEAD)" > "$stamp"
	msg "applied $(grep -cv '^\s*\(#\|$\)' "$PATCHES/series") patches to Linux $(kernel_version)"
}

# Debian's .gitignore ends by ignoring everything at the top level, which
# would hide new files from "git status" and "git add".  Drop that block from
# the work tree copy only, and tell git not to report the change.
unhide_new_files() {
	sed -i '/^# Debian packaging: ignore everything/,$d' "$KTREE/.gitignore"
	git_k update-index --skip-worktree .gitignore
}

kernel_version() { make -s -C "$KTREE" kernelversion; }

if [ ! -d "$KTREE/.git" ] || ! git_k rev-parse -q --verify pristine >/dev/null; then
	create_pristine
	apply_series
elif [ $force = 1 ]; then
	apply_series
elif [ ! -f "$stamp" ]; then
	apply_series
else
	read -r have_series have_head < "$stamp"
	head=$(git_k rev-parse HEAD)
	dirty=$(git_k status --porcelain --untracked-files=no)
	if [ "$head" != "$have_head" ] || [ -n "$dirty" ]; then
		# Local kernel work in progress: build it as it is.
		if [ "$have_series" != "$want" ]; then
			msg "warning: kernel/patches changed, but build/linux has local work;"
			msg "warning: building the local tree (export it, or run with --force)"
		fi
	elif [ "$have_series" != "$want" ]; then
		apply_series
	fi
fi
kernel_version > "$BUILD/kernel-version"
