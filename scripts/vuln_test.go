//go:build !anyspec

// Package scripts holds the tests of the shell scripts that make runs
// (make vuln, make api-compat): each runs the script as make does, with a
// fake tool in place of the pinned one, and checks its exit status.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTool writes an executable shell script and returns its path.
func fakeTool(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVulnExitStatus pins what make vuln reports for each outcome of
// govulncheck: a vulnerability found (exit 3) fails; an unreachable
// database passes, saying it was not checked, unless VULN_REQUIRE_DB=1; any
// other failure fails; and every module of the repository is checked.
func TestVulnExitStatus(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	for _, tc := range []struct {
		name      string
		out       string
		rc        string
		requireDB bool
		wantRC    int
		wantOut   string
	}{
		{"clean", "No vulnerabilities found.", "0", false, 0, ""},
		{"vulnerability found", "Vulnerability #1: GO-2026-0001\n  Found in: example.com/x@v1.0.0", "3", false, 1, ""},
		{"offline", "govulncheck: fetching vulnerabilities: Get \"https://vuln.go.dev/index/modules.json.gz\": dial tcp: lookup vuln.go.dev: no such host", "1", false, 0, "NOT CHECKED"},
		{"offline in CI", "govulncheck: fetching vulnerabilities: dial tcp: lookup vuln.go.dev: no such host", "1", true, 1, ""},
		{"other failure", "govulncheck: loading packages: build constraints exclude all Go files", "1", false, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran := filepath.Join(t.TempDir(), "ran")
			tool := fakeTool(t, "govulncheck", "pwd >> '"+ran+"'\necho \"$FAKE_OUT\"\nexit "+tc.rc+"\n")
			cmd := exec.Command("bash", "vuln.sh")
			cmd.Env = append(os.Environ(), "GOVULNCHECK="+tool, "FAKE_OUT="+tc.out, "VULN_REQUIRE_DB=")
			if tc.requireDB {
				cmd.Env = append(cmd.Env, "VULN_REQUIRE_DB=1")
			}
			out, err := cmd.CombinedOutput()
			rc := 0
			if ee, ok := err.(*exec.ExitError); ok {
				rc = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if rc != tc.wantRC {
				t.Errorf("vuln.sh exited %d, want %d:\n%s", rc, tc.wantRC, out)
			}
			if !strings.Contains(string(out), tc.wantOut) {
				t.Errorf("vuln.sh said\n%s\nwant it to say %q", out, tc.wantOut)
			}
			if tc.name == "clean" {
				dirs, _ := os.ReadFile(ran)
				if !strings.Contains(string(dirs), string(filepath.Separator)+"otel\n") {
					t.Errorf("govulncheck ran in\n%s\nwant every module, otel included", dirs)
				}
			}
		})
	}
}
