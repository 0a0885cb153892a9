package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTriggerAndListenUsage: usage and configuration errors exit 2 with a
// message, and never reach a network; an absent mock is a failure (1).
func TestTriggerAndListenUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "ABCDEFGHIJKLMNOPQRSTUVWXYZ\n")
	empty := write("empty", "\n")
	const hidden = "hidden-secret-value"
	ctl := write("ctl", "a\x01"+hidden+"\n")
	big := write("big", strings.Repeat("x", 5000))
	noMock := cliEnv("PAGECALL_BASE_URL=http://127.0.0.1:1/v1")

	tests := []struct {
		name   string
		env    []string
		args   []string
		code   int
		stderr string // a part of the message
	}{
		{"trigger without an event", cliEnv(), []string{"trigger", "--room", "r", "--user", "u"}, exitUsage, "session-joined or session-left"},
		{"trigger with an unknown event", cliEnv(), []string{"trigger", "session-paused", "--room", "r", "--user", "u"}, exitUsage, "session-joined or session-left"},
		{"trigger without --room", cliEnv(), []string{"trigger", "session-joined", "--user", "u"}, exitUsage, "room"},
		{"trigger with an empty --user", cliEnv(), []string{"trigger", "session-joined", "--room", "r", "--user", ""}, exitUsage, "must not be empty"},
		{"trigger at Pagecall", cliEnv(), []string{"trigger", "session-joined", "--room", "r", "--user", "u", "--base-url", "https://api.pagecall.com/v1"}, exitUsage, "not on loopback"},
		{"trigger at a remote base URL from the environment", cliEnv("PAGECALL_BASE_URL=http://192.0.2.1:4010/v1"), []string{"trigger", "session-left", "--room", "r", "--user", "u"}, exitUsage, "not on loopback"},
		{"trigger with no mock running", noMock, []string{"trigger", "session-joined", "--room", "r", "--user", "u"}, exitFailure, "is \"pagecall mock\" running?"},
		{"listen without --secret-file", cliEnv(), []string{"webhook", "listen", "--addr", "127.0.0.1:0"}, exitUsage, "secret-file"},
		{"listen with a missing file", cliEnv(), []string{"webhook", "listen", "--addr", "127.0.0.1:0", "--secret-file", filepath.Join(dir, "nope")}, exitUsage, "no such file"},
		{"listen with an empty file", cliEnv(), []string{"webhook", "listen", "--addr", "127.0.0.1:0", "--secret-file", empty}, exitUsage, "is empty"},
		{"listen with a huge file", cliEnv(), []string{"webhook", "listen", "--addr", "127.0.0.1:0", "--secret-file", big}, exitUsage, "larger than"},
		{"listen with a control character", cliEnv(), []string{"webhook", "listen", "--addr", "127.0.0.1:0", "--secret-file", ctl}, exitUsage, "control characters"},
		{"listen with a bad header", cliEnv(), []string{"webhook", "listen", "--addr", "127.0.0.1:0", "--secret-file", good, "--header", "X Secret"}, exitUsage, "not an HTTP header name"},
		{"listen on all interfaces", cliEnv(), []string{"webhook", "listen", "--addr", "0.0.0.0:0", "--secret-file", good}, exitUsage, "loopback only"},
		{"webhook with an argument", cliEnv(), []string{"webhook", "nope"}, exitUsage, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, tt.env, "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, hidden) {
				t.Error("the secret was printed")
			}
		})
	}
}

func TestWebhookHelpAndSecret(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"trigger", "--help"}, {"webhook", "--help"}, {"webhook", "listen", "--help"}, {"webhook", "secret", "--help"}, {"webhook"},
	} {
		if r := runCLI(t, cliEnv(), "", args...); r.code != exitOK || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%v: exit %d; want 0 and a usage text", args, r.code)
		}
	}
	a, b := runCLI(t, cliEnv(), "", "webhook", "secret"), runCLI(t, cliEnv(), "", "webhook", "secret")
	for _, r := range []cliResult{a, b} {
		s := strings.TrimSuffix(r.stdout, "\n")
		if r.code != exitOK || len(s) < 26 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Errorf("webhook secret: exit %d, stdout %q; want 0 and one base32 secret of 26+ characters", r.code, r.stdout)
		}
	}
	if a.stdout == b.stdout {
		t.Error("two runs printed the same secret")
	}
}
