#!/usr/bin/env bash
# vuln: `make vuln`. govulncheck (GOVULNCHECK, pinned in the Makefile) on
# every module of the repository: the root and every nested go.mod outside
# testdata. govulncheck reads its vulnerability database over the network;
# where that cannot be reached, this says so plainly and exits 0 (the
# GitHub CI workflow runs the same check where it can, with
# VULN_REQUIRE_DB=1, under which an unreachable database fails). It fails when
# govulncheck finds a vulnerability in code that is called, or fails for
# any other reason.
set -uo pipefail

govulncheck=${GOVULNCHECK:?GOVULNCHECK is set by the Makefile}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for gomod in $(git ls-files --cached --others --exclude-standard -- 'go.mod' '*/go.mod' | grep -v -e '/testdata/' -e '^testdata/' -e '/vendor/'); do
	dir=$(dirname "$gomod")
	echo "== govulncheck ./... in $dir"
	(cd "$dir" && $govulncheck ./...) > "$log" 2>&1
	rc=$?
	cat "$log"
	if [ $rc = 0 ]; then
		continue
	fi
	# govulncheck exits 3 when it finds vulnerabilities; an unreachable
	# database is another error, recognised by what the network said.
	if [ $rc != 3 ] && grep -Eqi 'fetching vulnerabilities|vuln\.go\.dev|dial tcp|no such host|connection refused|network is unreachable|i/o timeout|TLS handshake' "$log"; then
		if [ "${VULN_REQUIRE_DB:-}" = 1 ]; then
			echo "vuln: FAIL: the vulnerability database cannot be reached, and VULN_REQUIRE_DB=1" >&2
			exit 1
		fi
		echo "vuln: the vulnerability database cannot be reached from this machine (offline?): NOT CHECKED here. The GitHub CI workflow runs govulncheck on every module."
		exit 0
	fi
	status=1
done
exit $status
