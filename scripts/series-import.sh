#!/usr/bin/env bash
# The reverse of make patches: turn a branch of commits (edited with git:
# rebase, a fix inserted before the feature, a commit split) back into
# patches/: one quilt patch per commit, patches/series and patches/overlay.
#
#   series-import.sh GITDIR BASE..BRANCH
#
# Each file of ours (drivers/, include/ of this repo) is given its final
# content by the overlay at the last commit that changes it: that commit's
# patch leaves it out, earlier commits carry their diff of it (the earlier
# steps of the series). Everything else is each commit's diff. make patches
# then rebuilds the same commits; check the result with `make patches` and
# scripts/check.sh patches.
STEP=series-import
. "$(dirname "$0")/common.sh"
[ $# -eq 2 ] || die "usage: series-import.sh GITDIR BASE..BRANCH"
G=$1 range=$2
mapfile -t commits < <(git -C "$G" rev-list --reverse "$range")
[ ${#commits[@]} -gt 0 ] || die "no commits in $range"
ours=$(overlay_files)
# the last commit that changes each file of ours
declare -A last
for c in "${commits[@]}"; do
	for f in $(git -C "$G" diff-tree --no-commit-id --name-only -r "$c"); do
		grep -qxF "$f" <<<"$ours" && last[$f]=$c
	done
done
for f in $ours; do
	[ -n "${last[$f]:-}" ] || die "$f is changed by no commit of $range"
	git -C "$G" show "${last[$f]}:$f" | cmp -s - "$TOP/$f" ||
		die "$f differs from its content at ${last[$f]}: commit the tree's version first"
done
rm -f "$TOP"/patches/[0-9][0-9][0-9][0-9]-*.patch
{
	echo "# Hook patches against $KVER_PKG, applied in order (patch -p1)."
	echo "# Files of ours that each commit adds are listed in overlay; a patch may"
	echo "# also create or change a file of ours (the earlier steps of the series),"
	echo "# whose final content the overlay lays over it at its commit."
	echo "# Standalone fixes of upstream code first (Fixes: tags), then the feature."
} >"$TOP/patches/series"
echo "# patch                      files of ours (drivers/, include/) it adds or gives their final content" >"$TOP/patches/overlay"
n=0
for c in "${commits[@]}"; do
	subj=$(git -C "$G" log -1 --format=%s "$c")
	# NNNN-drm-virtio-words-of-the-subject.patch, cut at a word
	name=$(echo "${subj#drm/virtio: }" | sed 's/[^A-Za-z0-9]\+/-/g; s/^-//; s/-$//' |
		awk -F- '{ s = $1; for (i = 2; i <= NF && length(s) + length($i) < 48; i++) s = s "-" $i; print s }')
	name=$(printf '%04d-drm-virtio-%s.patch' "$n" "$name")
	laid=()
	excl=()
	for f in $ours; do
		if [ "${last[$f]}" = "$c" ]; then
			laid+=("$f")
			excl+=(":(exclude)$f")
		fi
	done
	{
		echo "Subject: [PATCH] $subj"
		echo
		git -C "$G" log -1 --format=%b "$c" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
		echo "---"
		git -C "$G" diff --no-renames "$c^" "$c" -- . "${excl[@]}" |
			{ grep -vE '^(diff --git|index |new file mode|deleted file mode)' || true; }
	} >"$TOP/patches/$name"
	echo "$name" >>"$TOP/patches/series"
	[ ${#laid[@]} -gt 0 ] && echo "$name ${laid[*]}" >>"$TOP/patches/overlay"
	n=$((n + 1))
done
info "patches/: $n patches from $range"
