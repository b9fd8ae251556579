#!/bin/bash
# Write the commits of build/linux (pristine..HEAD) back into kernel/patches,
# replacing the previous series.
#
# File names carry no number: a patch is named after its subject
# ("x86-pks-Enumerate-and-enable-....patch") and kernel/patches/series gives
# the order.  Inserting, dropping or moving a patch therefore changes one
# line of "series" and renames nothing, and a patch keeps its file name
# until its subject changes, so "git diff" of kernel/patches between two
# commits of this repository shows what changed in each patch.
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
	name=$(basename "$p")
	name=${name#[0-9][0-9][0-9][0-9]-}
	# Two patches with the same subject prefix: number the later ones.
	base=${name%.patch}
	i=2
	while [ -e "$PATCHES/$name" ]; do
		name=$base-$i.patch
		i=$((i + 1))
	done
	cp "$p" "$PATCHES/$name"
	echo "$name" >> "$PATCHES/series"
done
echo "$(series_hash) $(git_k rev-parse HEAD)" > "$KTREE/.git/moat-applied"
msg "exported $(wc -l < "$PATCHES/series") patches to kernel/patches"
# checkpatch runs from the kernel tree, as it expects.
if [ -x "$KTREE/scripts/checkpatch.pl" ]; then
	(cd "$KTREE" && ./scripts/checkpatch.pl -q --no-tree --no-signoff \
		--ignore FILE_PATH_CHANGES $(sed "s|^|$PATCHES/|" "$PATCHES/series")) || true
fi
