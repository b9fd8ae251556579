#!/bin/bash
# Write the commits of build/linux (pristine..HEAD) back into kernel/patches
# as a numbered series, replacing the previous one.
. "$(dirname "$0")/lib.sh"

[ -d "$KTREE/.git" ] || die "no kernel tree; run 'make kernel-tree' first"
git_k() { git -C "$KTREE" "$@"; }
[ -z "$(git_k status --porcelain --untracked-files=no)" ] ||
	die "build/linux has uncommitted changes; commit them first"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git_k format-patch -q --zero-commit --no-signature --no-stat -N \
	-o "$tmp" pristine..HEAD
rm -f "$PATCHES"/*.patch
: > "$PATCHES/series"
for p in "$tmp"/*.patch; do
	[ -e "$p" ] || continue
	cp "$p" "$PATCHES/"
	basename "$p" >> "$PATCHES/series"
done
echo "$(series_hash) $(git_k rev-parse HEAD)" > "$KTREE/.git/moat-applied"
msg "exported $(wc -l < "$PATCHES/series") patches to kernel/patches"
if [ -x "$KTREE/scripts/checkpatch.pl" ]; then
	"$KTREE/scripts/checkpatch.pl" -q --no-tree --no-signoff \
		--ignore FILE_PATH_CHANGES "$PATCHES"/*.patch || true
fi
