//go:build !anyspec

package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsumerInstallsAsAUser runs make consumer's script on a small tree
// (a root module and a nested one that imports it, with
// internal/modproxy copied in): a nested module that requires a
// placeholder version of the root, with a replace, fails as a user's go
// get does; one that requires the candidate derived from the latest
// release tag (v1.2.3 gives v1.2.4-rc.1) installs, builds and runs; one
// that requires a published root above the candidate fails, because the
// consumer would not be using the working tree's root.
func TestConsumerInstallsAsAUser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command many times")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	goSum := read("go.sum")
	modproxy := read("internal/modproxy/main.go")
	script := read("scripts/consumer.sh")
	xmod := ""
	for _, l := range strings.Split(read("go.mod"), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "golang.org/x/mod" {
			xmod = f[1]
		}
	}
	if xmod == "" {
		t.Fatal("go.mod does not require golang.org/x/mod")
	}
	for _, tc := range []struct {
		name    string
		tag     string
		require string // the version of the root that nested/go.mod requires
		replace bool
		// published: a version of both modules that the machine's own
		// GOPROXY serves, as if already released.
		published string
		wantOK    bool
		wantOut   string
	}{
		{"placeholder", "", "v0.0.0-00010101000000-000000000000", true, "", false, "FAIL: a user's 'go get example.com/m/nested@v1.0.0-rc.1' fails"},
		{"after a release tag", "v1.2.3", "v1.2.4-rc.1", false, "", true, "consumer ran"},
		{"a published root above the candidate", "v1.2.3", "v1.2.5", false, "v1.2.5", false, "example.com/m resolved to v1.2.5, want v1.2.4-rc.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			nestedMod := "module example.com/m/nested\n\ngo 1.26.0\n\nrequire example.com/m " + tc.require + "\n"
			if tc.replace {
				nestedMod += "\nreplace example.com/m => ../\n"
			}
			for name, data := range map[string]string{
				"go.mod":                    "module example.com/m\n\ngo 1.26.0\n\nrequire golang.org/x/mod " + xmod + "\n",
				"go.sum":                    goSum,
				"m.go":                      "package m\n\n// V is a value.\nconst V = 1\n",
				"internal/modproxy/main.go": modproxy,
				"internal/modproxy/testdata/consumer/main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/m/nested\"\n)\n\nfunc main() { fmt.Println(\"consumer ran\", nested.V) }\n",
				"nested/go.mod":       nestedMod,
				"nested/n.go":         "package nested\n\nimport \"example.com/m\"\n\n// V is the root's V.\nconst V = m.V\n",
				"scripts/consumer.sh": script,
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
			if tc.tag != "" {
				git("tag", tc.tag)
			}
			goproxy := "off"
			if tc.published != "" {
				pub := t.TempDir()
				cmd := exec.Command("go", "run", "./internal/modproxy", "-version", tc.published, "-o", pub)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("publishing %s: %v\n%s", tc.published, err, out)
				}
				goproxy = "file://" + filepath.ToSlash(pub)
			}
			cmd := exec.Command("bash", filepath.Join(dir, "scripts", "consumer.sh"))
			// Nothing from the network: third-party modules come from this
			// machine's module cache, as the script arranges.
			cmd.Env = append(os.Environ(), "GOPROXY="+goproxy, "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod",
				"CONSUMER_VERSION=", "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir), "TMPDIR="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if ok := err == nil; ok != tc.wantOK || !strings.Contains(string(out), tc.wantOut) {
				t.Errorf("consumer.sh: err %v, want success %v, saying %q:\n%s", err, tc.wantOK, tc.wantOut, out)
			}
		})
	}
}
