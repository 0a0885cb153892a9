#!/usr/bin/env bash
# consumer: install this working tree's modules as a user installs a
# release, and use them (`make consumer`, in `make ci`).
#
# 1. internal/modproxy serves every module of the tree (the root and each
#    nested module, found by its go.mod) at CONSUMER_VERSION from a module
#    proxy on disk;
# 2. a fresh module outside the repository, with a fresh module cache,
#    `go get`s each of them at that version, with no replace, from
#    GOPROXY=<that proxy>,<this machine's module cache>,<go env GOPROXY>:
#    each alone, then all together;
# 3. it builds and runs internal/modproxy/testdata/consumer, which calls
#    pagecalltest through pagecallotel and checks what comes back.
#
# A nested module that requires a version of the root that no proxy has (a
# placeholder such as v0.0.0-00010101000000-000000000000, whose replace a
# user's build ignores) fails step 2, as it fails for every user.
#
# Third-party modules come from this machine's module cache first (no
# download when warm) and then from the proxy it already uses; the checksum
# database is not asked about this repository's modules (GONOSUMDB), which
# are not published. GOPRIVATE is not set: it would also send them past
# GOPROXY to git.
set -euo pipefail

go=${GO:-go}
root=$(cd "$(dirname "$0")/.." && pwd)

# The candidate: CONSUMER_VERSION, or the version after the latest
# release tag, above every version a nested module can require: with no
# tag v1.0.0-rc.1; after vX.Y.Z, vX.Y.(Z+1)-rc.1; after a pre-release
# vX.Y.Z-PRE, vX.Y.Z-PRE.1.
version=${CONSUMER_VERSION:-}
if [ -z "$version" ]; then
	if tag=$(git -C "$root" describe --tags --abbrev=0 --match 'v*' 2>/dev/null); then
		case $tag in
		*-*) version="$tag.1" ;;
		*) version=$(echo "$tag" | awk -F. '{ printf "%s.%s.%d-rc.1", $1, $2, $3 + 1 }') ;;
		esac
	else
		version=v1.0.0-rc.1
	fi
fi
module=$(cd "$root" && $go list -m -f '{{.Path}}' 2>/dev/null || sed -n 's/^module //p' "$root/go.mod")

work=$(mktemp -d "${TMPDIR:-/tmp}/pagecall-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT
fallback=$($go env GOPROXY)
modcache=$($go env GOMODCACHE)

echo "consumer: serving the working tree's modules at $version"
(cd "$root" && GOWORK=off $go run ./internal/modproxy -version "$version" -o "$work/proxy") > "$work/modules"
sed 's/^/  /' "$work/modules"

mkdir "$work/app"
cp "$root/internal/modproxy/testdata/consumer/main.go" "$work/app/main.go"
cd "$work/app"

export GOPROXY="file://$work/proxy,file://$modcache/cache/download,$fallback"
export GONOSUMDB="$module"
# -modcacherw lets the trap remove the fresh module cache; -trimpath keeps
# the build cache's keys free of its location, so that dependencies
# compiled before are reused.
export GOFLAGS="-mod=mod -modcacherw -trimpath"
export GOMODCACHE="$work/modcache"
export GOWORK=off GOTOOLCHAIN=local GOPRIVATE= GONOPROXY=

# getmod gets one module version into the consumer, showing the go
# command's output only when it fails.
getmod() {
	echo "consumer: go get $1@$version"
	if ! $go get "$1@$version" > "$work/get.log" 2>&1; then
		cat "$work/get.log" >&2
		echo "consumer: FAIL: a user's 'go get $1@$version' fails. A nested module must require a released version of the root, never a placeholder (CONTRIBUTING.md, Releasing)." >&2
		exit 1
	fi
}

# Each module alone first, in a module that requires nothing else: a user
# may add only the nested one, and then the version of the root it
# requires is the one selected.
while read -r m; do
	rm -f go.mod go.sum
	$go mod init example.com/pagecall-consumer 2>/dev/null
	getmod "$m"
done < "$work/modules"

# Then all of them, for the program.
rm -f go.mod go.sum
$go mod init example.com/pagecall-consumer 2>/dev/null
while read -r m; do getmod "$m"; done < "$work/modules"

if grep -q '^replace' go.mod; then
	echo "consumer: FAIL: the consumer's go.mod has a replace" >&2
	exit 1
fi
$go list -m -f '{{.Path}} {{.Version}}' $(cat "$work/modules") | while read -r path got; do
	if [ "$got" != "$version" ]; then
		echo "consumer: FAIL: $path resolved to $got, want $version" >&2
		exit 1
	fi
done
if ! $go build -o consumer . > "$work/build.log" 2>&1; then
	cat "$work/build.log" >&2
	echo "consumer: FAIL: the consumer program does not build against the served modules" >&2
	exit 1
fi
./consumer
echo "consumer: ok"
