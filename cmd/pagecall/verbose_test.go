package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// attemptLine matches a --verbose attempt line.
var attemptLine = regexp.MustCompile(`(?m)^pagecall: \S+ \S+ attempt \d+: .*$`)

// TestVerboseAttemptLines: --verbose prints one line an attempt on stderr,
// with its status, its time and what follows; without it, none.
func TestVerboseAttemptLines(t *testing.T) {
	t.Parallel()
	for _, verbose := range []bool{true, false} {
		srv := newMock(t, "u1")
		srv.Inject(pagecalltest.Fault{Route: "DELETE", Status: 503, RetryAfter: "0"})
		args := []string{"users", "delete", "u1"}
		if verbose {
			args = append(args, "--verbose")
		}
		code, stdout, stderr := runInProcess(t, srv, false, args...)
		if code != exitOK {
			t.Fatalf("verbose=%v: exit %d, stderr %q", verbose, code, stderr)
		}
		lines := attemptLine.FindAllString(stderr, -1)
		if !verbose {
			if len(lines) != 0 {
				t.Errorf("attempt lines without --verbose: %q", lines)
			}
			continue
		}
		want := []*regexp.Regexp{
			regexp.MustCompile(`^pagecall: DELETE /v1/users/u1 attempt 1: 503 Service Unavailable in [0-9.]+[µm]?s; retry in 0s \(retry_after\)$`),
			regexp.MustCompile(`^pagecall: DELETE /v1/users/u1 attempt 2: 200 OK in [0-9.]+[µm]?s$`),
		}
		if len(lines) != len(want) {
			t.Fatalf("attempt lines %q, want %d", lines, len(want))
		}
		for i, re := range want {
			if !re.MatchString(lines[i]) {
				t.Errorf("line %d = %q, want %s", i+1, lines[i], re)
			}
		}
		if attemptLine.MatchString(stdout) || strings.Contains(stderr+stdout, srv.APIKey()) {
			t.Errorf("attempt lines on stdout, or the key printed: stdout %q", stdout)
		}
	}
}
