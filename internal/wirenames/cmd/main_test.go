package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunExitCodes: go generate stops on the command's exit code, so a file
// it cannot rename must fail it, with the reason on stderr.
func TestRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	clean := write("clean.go", "package wire\n\ntype HttpRequestDoer interface{}\n")
	bad := write("bad.go", "package wire\n\nvar x = \"HttpRequestDoer\"\n")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"a file it renames", []string{clean}, 0, ""},
		{"a file with a leftover", []string{bad}, 1, "still says HttpRequestDoer"},
		{"a missing file", []string{filepath.Join(dir, "missing.go")}, 1, "missing.go"},
		{"no file", nil, 2, "usage"},
		{"two files", []string{clean, bad}, 2, "usage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			if code := run(tc.args, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.stderr) || (tc.stderr == "") != (stderr.Len() == 0) {
				t.Errorf("run(%q) = %d, stderr %q; want %d, stderr with %q", tc.args, code, stderr.String(), tc.code, tc.stderr)
			}
		})
	}
	if got, _ := os.ReadFile(clean); !strings.Contains(string(got), "type Doer interface{}") {
		t.Errorf("the renamed file holds:\n%s", got)
	}
}
