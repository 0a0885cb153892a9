package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// runInProcess runs the command tree in this process with e's streams.
func runInProcess(t *testing.T, srv *pagecalltest.Server, terminal bool, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	vars := map[string]string{"PAGECALL_BASE_URL": srv.URL(), "PAGECALL_API_KEY": srv.APIKey()}
	e := &env{
		Stdin:            strings.NewReader(""),
		Stdout:           &out,
		Stderr:           &errOut,
		StderrIsTerminal: terminal,
		Getenv:           func(k string) string { return vars[k] },
		Signals:          make(chan os.Signal), // never fires
	}
	code = run(t.Context(), e, args)
	return code, out.String(), errOut.String()
}

// etaPattern matches the progress bar's [elapsed:left] times.
var etaPattern = regexp.MustCompile(`\[[0-9hms.]+:[0-9hms.]+\]`)

func TestProgressBarOnlyOnTerminal(t *testing.T) {
	t.Parallel()
	for _, terminal := range []bool{true, false} {
		srv := newMock(t, "a", "b", "c")
		code, stdout, stderr := runInProcess(t, srv, terminal, "users", "delete", "a", "b", "c")
		if code != exitOK {
			t.Fatalf("terminal=%v: exit %d, stderr %q", terminal, code, stderr)
		}
		if got := strings.Contains(stderr, "deleting"); got != terminal {
			t.Errorf("terminal=%v: progress bar shown = %v; stderr %q", terminal, got, stderr)
		}
		// The bar shows the rate and [elapsed:left], the time left.
		if terminal && (!strings.Contains(stderr, "IDs/s") || !etaPattern.MatchString(stderr)) {
			t.Errorf("the progress bar lacks the rate or the time left: %q", stderr)
		}
		if !strings.Contains(stderr, "deleted 3, failed 0, invalid 0 of 3") {
			t.Errorf("terminal=%v: stderr lacks the summary: %q", terminal, stderr)
		}
		if strings.Contains(stdout, "deleting") || strings.Count(stdout, "\n") != 3 {
			t.Errorf("terminal=%v: stdout = %q, want exactly 3 records", terminal, stdout)
		}
	}
}

func TestVerboseHidesProgressBar(t *testing.T) {
	t.Parallel()
	srv := newMock(t, "a", "b")
	code, _, stderr := runInProcess(t, srv, true, "users", "delete", "--verbose", "a", "b")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(stderr, "deleting") {
		t.Errorf("progress bar shown with --verbose: %q", stderr)
	}
}

// TestCLIUserAgent: the CLI names itself in front of the SDK's token.
func TestCLIUserAgent(t *testing.T) {
	t.Parallel()
	srv := newMock(t, "a")
	if code, _, stderr := runInProcess(t, srv, false, "users", "delete", "a"); code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	if ua := reqs[0].Header.Get("User-Agent"); !regexp.MustCompile(`^pagecall-cli/\S+ pagecall-go/\S+ \(\w+/\w+; go[^)]*\)$`).MatchString(ua) {
		t.Errorf("User-Agent = %q, want pagecall-cli/<version> pagecall-go/<version> (<os>/<arch>; <go>)", ua)
	}
}
