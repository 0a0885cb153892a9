//go:build !anyspec

package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAPICompatFailsOnlyIncompatibleSameMajor pins make api-compat's rule:
// each module is compared with its own latest release tag (v* for the
// root, otel/v* for otel); an incompatible change fails at the same major
// version v1 or later, and passes while the tag is a v0 or when the
// module's path has moved to a new major version; a module with no tag is
// skipped. apidiff is a fake that reports an incompatible change for the
// module paths in FAKE_INCOMPAT.
func TestAPICompatFailsOnlyIncompatibleSameMajor(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	script, err := os.ReadFile("apicompat.sh")
	if err != nil {
		t.Fatal(err)
	}
	apidiff := fakeTool(t, "apidiff", `[ "$2" = -w ] && exit 0
case " $FAKE_INCOMPAT " in
*" $3 "*) printf 'Incompatible changes:\n- F: removed\n' ;;
*) printf 'Compatible changes:\n- G: added\n' ;;
esac
`)
	for _, tc := range []struct {
		name     string
		rootPath string
		tags     []string
		incompat string
		wantRC   int
		wantOut  string
	}{
		{"no release tag", "example.com/m", nil, "example.com/m", 0, "skipped"},
		{"v1 incompatible", "example.com/m", []string{"v1.0.0"}, "example.com/m", 1, "FAIL"},
		{"v1 compatible", "example.com/m", []string{"v1.0.0"}, "", 0, "compatible with v1.0.0"},
		{"v0 incompatible", "example.com/m", []string{"v0.3.0"}, "example.com/m", 0, "allowed while v0"},
		{"new major version", "example.com/m/v2", []string{"v1.2.0"}, "example.com/m/v2", 0, "major version is now v2"},
		{"nested against its own v0 tag", "example.com/m", []string{"v1.0.0", "otel/v0.1.0"}, "example.com/m/otel", 0, "incompatible with otel/v0.1.0, allowed while v0"},
		{"nested v1 incompatible", "example.com/m", []string{"v1.0.0", "otel/v1.0.0"}, "example.com/m/otel", 1, "incompatible with otel/v1.0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range map[string]string{
				"go.mod":               "module " + tc.rootPath + "\n\ngo 1.22\n",
				"otel/go.mod":          "module example.com/m/otel\n\ngo 1.22\n",
				"scripts/apicompat.sh": string(script),
			} {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			git := func(args ...string) {
				cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}
			git("init", "-q")
			git("add", ".")
			git("commit", "-q", "-m", "base")
			for _, tag := range tc.tags {
				git("tag", tag)
			}
			cmd := exec.Command("bash", filepath.Join(dir, "scripts", "apicompat.sh"))
			cmd.Env = append(os.Environ(), "APIDIFF="+apidiff, "FAKE_INCOMPAT="+tc.incompat, "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir))
			out, err := cmd.CombinedOutput()
			rc := 0
			if ee, ok := err.(*exec.ExitError); ok {
				rc = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if rc != tc.wantRC || !strings.Contains(string(out), tc.wantOut) {
				t.Errorf("apicompat.sh exited %d, want %d, saying %q:\n%s", rc, tc.wantRC, tc.wantOut, out)
			}
		})
	}
}
