#!/usr/bin/env bash
# make patches: turn patches/series (+ the files of ours each patch adds, from
# patches/overlay) into a git format-patch series against the pristine 7.2
# tree, in $RESULTS/patches, with a cover letter from patches/cover-letter.
# Each commit is checked to apply in order.
STEP=patches
. "$(dirname "$0")/common.sh"
[ -d "$CACHE/linux-pristine/" ] || "$TOP/scripts/kernel-source.sh"
PRISTINE=$(readlink -f "$CACHE/linux-pristine")
G=$CACHE/patch-git
need_host_pkgs git
export GIT_AUTHOR_NAME="virtgpu-mapinfo developers" GIT_AUTHOR_EMAIL=dev@virtgpu-mapinfo.invalid
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
export GIT_AUTHOR_DATE="2026-11-25T00:00:00Z" GIT_COMMITTER_DATE="2026-11-25T00:00:00Z"

if [ ! -f "$G/.git/vgm-base" ]; then
	step "creating a git repository of the pristine tree in $G (once, ~2 min)"
	rm -rf "$G" && mkdir -p "$G"
	cp -al "$PRISTINE/." "$G/"
	git -C "$G" init -q
	# Debian's source package ignores everything (/* in .gitignore): force
	git -C "$G" add -A -f
	git -C "$G" commit -qm "Linux $(make -s -C "$PRISTINE" kernelversion) (Debian $KVER_PKG)"
	git -C "$G" tag -f v7.2-debian >/dev/null
	touch "$G/.git/vgm-base"
fi
git -C "$G" checkout -q -f v7.2-debian
git -C "$G" clean -qfdx
git -C "$G" checkout -q -B vgm

series_patches | while read -r p; do
	pf=$TOP/patches/$p
	series_step "$G" "$p"
	git -C "$G" add -A -f
	# subject = first line after "Subject: [PATCH] ", body = up to "---"
	awk 'NR == 1 { sub(/^Subject: \[PATCH\] /, ""); print; next }
	     /^---$/ { exit } { print }' "$pf" | git -C "$G" commit -q -F -
done
# every file of ours must belong to a commit
for f in $(overlay_files); do
	cmp -s "$TOP/$f" "$G/$f" || die "$f is in no commit of patches/overlay (or differs)"
done
out=$RESULTS/patches
rm -rf "$out" && mkdir -p "$out"
git -C "$G" format-patch -q --cover-letter -o "$out" v7.2-debian..vgm
# the cover letter's subject and text: patches/cover-letter (its first line,
# then the text after the blank line); format-patch adds the shortlog and
# the diffstat
python3 - "$TOP/patches/cover-letter" "$out/0000-cover-letter.patch" <<'PY'
import sys
subject, _, blurb = open(sys.argv[1]).read().partition("\n\n")
cover = open(sys.argv[2]).read()
assert "*** SUBJECT HERE ***" in cover and "*** BLURB HERE ***" in cover
cover = cover.replace("*** SUBJECT HERE ***", subject.strip())
cover = cover.replace("*** BLURB HERE ***", blurb.strip())
open(sys.argv[2], "w").write(cover)
PY
info "series in $out:"
ls "$out" | sed 's/^/      /' >&2
