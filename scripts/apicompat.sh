#!/usr/bin/env bash
# apicompat: `make api-compat` (in `make ci`). For each module of the
# repository (the root and every nested go.mod outside testdata), compare
# the exported API with the module's latest release tag (v* for the root,
# DIR/v* for a nested module, as the go command reads tags) using apidiff
# (APIDIFF, pinned in the Makefile). An incompatible change fails unless
# the module's major version changed since that tag (a /vN path suffix) or
# the tag is a v0 release. A module with no release tag yet is skipped,
# and says so.
set -euo pipefail

go=${GO:-go}
apidiff=${APIDIFF:?APIDIFF is set by the Makefile}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

status=0
for gomod in $(git ls-files --cached --others --exclude-standard -- 'go.mod' '*/go.mod' | grep -v -e '/testdata/' -e '^testdata/' -e '/vendor/'); do
	dir=$(dirname "$gomod")
	prefix=""
	[ "$dir" = . ] || prefix="$dir/"
	path=$(sed -n 's/^module[[:space:]]*//p' "$gomod" | tr -d '"')
	if ! tag=$(git describe --tags --abbrev=0 --match "${prefix}v*" 2>/dev/null); then
		echo "api-compat: $path: no release tag ${prefix}v* yet: nothing to compare against, skipped"
		continue
	fi
	tagmajor=$(echo "${tag#"$prefix"}" | sed -E 's/^v([0-9]+).*/\1/')
	curmajor=$(echo "$path" | sed -nE 's|.*/v([0-9]+)$|\1|p')
	[ -n "$curmajor" ] || curmajor=$((tagmajor > 1 ? 1 : tagmajor))
	tmp=$(mktemp -d)
	git archive --format=tar "$tag" | tar -x -C "$tmp"
	(cd "$tmp/$dir" && $apidiff -m -w "$tmp/base.export" "$path")
	out=$(cd "$dir" && $apidiff -m "$tmp/base.export" "$path")
	rm -rf "$tmp"
	if ! echo "$out" | grep -q '^Incompatible changes:'; then
		echo "api-compat: $path: compatible with $tag"
		[ -z "$out" ] || echo "$out"
	elif [ "$tagmajor" = 0 ]; then
		echo "api-compat: $path: incompatible with $tag, allowed while v0"
		echo "$out"
	elif [ "$curmajor" -gt "$tagmajor" ]; then
		echo "api-compat: $path: incompatible with $tag, and the major version is now v$curmajor"
		echo "$out"
	else
		echo "api-compat: $path: FAIL: incompatible with $tag at the same major version v$tagmajor; keep the old API, or release a new major version (module path .../v$((tagmajor + 1)))" >&2
		echo "$out" >&2
		status=1
	fi
done
exit $status
