package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/pplink/pagecall-go/api"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
	"gopkg.in/yaml.v3"
)

// repoRoot is the module root, from this package's directory.
var repoRoot = filepath.Join("..", "..")

func TestDescribeBuild(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "2937030ae2daaf4159904c2b51b9697aa7458169"},
		{Key: "vcs.time", Value: "2026-11-28T23:40:45Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	main := func(v string, settings ...debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: modulePath, Version: v}, Settings: settings}
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		s    stamp
		want buildDesc
	}{
		{"release build: the stamp wins over what the toolchain saw", main("v0.0.0-20261128234045-2937030ae2da+dirty", vcs...), true,
			stamp{"v0.3.0", "ffffffffffffffffffffffffffffffffffffffff", "2026-12-01T10:00:00Z"},
			buildDesc{Version: "v0.3.0", Commit: "ffffffffffffffffffffffffffffffffffffffff", Time: "2026-12-01T10:00:00Z", Go: "go1.99.1"}},
		{"go install @tag: no commit recorded", main("v0.3.0"), true, stamp{},
			buildDesc{Version: "v0.3.0", Go: "go1.99.1"}},
		{"go install @commit: the pseudo-version's revision", main("v0.0.0-20261128234045-2937030ae2da"), true, stamp{},
			buildDesc{Version: "v0.0.0-20261128234045-2937030ae2da", Commit: "2937030ae2da", Go: "go1.99.1"}},
		{"go build in a checkout: vcs settings", main("v0.0.0-20261128234045-2937030ae2da+dirty", vcs...), true, stamp{},
			buildDesc{Version: "v0.0.0-20261128234045-2937030ae2da+dirty", Commit: "2937030ae2daaf4159904c2b51b9697aa7458169", Time: "2026-11-28T23:40:45Z", Modified: true, Go: "go1.99.1"}},
		{"go build without VCS", main("(devel)"), true, stamp{},
			buildDesc{Version: "(devel)", Go: "go1.99.1"}},
		{"built as a dependency of another main module", &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: "example.com/tool"},
			Deps: []*debug.Module{{Path: modulePath, Version: "v0.2.0"}}}, true, stamp{},
			buildDesc{Version: "v0.2.0", Go: "go1.99.1"}},
		{"no build information", nil, false, stamp{},
			buildDesc{Version: "(devel)", Go: runtime.Version()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeBuild(tt.bi, tt.ok, tt.s); got != tt.want {
				t.Errorf("describeBuild = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestWriteVersionCommitLine(t *testing.T) {
	spec := describeSpec([]byte("openapi: 3.0.0\ninfo: {title: T, version: 9.9.9}\n"))
	for _, tt := range []struct {
		b    buildDesc
		want string
	}{
		{buildDesc{Version: "(devel)"}, "commit   unknown (built without VCS information)\n"},
		{buildDesc{Version: "v0.3.0"}, "commit   unknown (go install records none; the tag v0.3.0 names it)\n"},
		{buildDesc{Version: "v0.3.0", Commit: "abc", Time: "2026-11-28T23:40:45Z", Modified: true}, "commit   abc (modified) 2026-11-28T23:40:45Z\n"},
	} {
		var out bytes.Buffer
		writeVersion(&out, tt.b, spec)
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("output for %+v:\n%s\nlacks %q", tt.b, out.String(), tt.want)
		}
		if !strings.Contains(out.String(), "spec     T 9.9.9\n") {
			t.Errorf("output lacks the spec line:\n%s", out.String())
		}
	}
	if got := describeSpec([]byte("not: [yaml")); got.Title != "unknown" || got.Version != "unknown" || len(got.SHA256) != 64 {
		t.Errorf("describeSpec(unparsable) = %+v, want unknown title and version and a digest", got)
	}
}

// buildCLI builds this package into dir with extra go build arguments and
// environment (KEY=VALUE), in srcDir (the package directory when "").
func buildCLI(t *testing.T, srcDir string, env []string, args ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pagecall")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append(append([]string{"build", "-o", bin}, args...), ".")...)
	cmd.Dir = srcDir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %q: %v\n%s", args, err, out)
	}
	return bin
}

// versionOutput runs bin version and returns its output by label.
func versionOutput(t *testing.T, bin string) map[string]string {
	t.Helper()
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", bin, err, out)
	}
	t.Logf("%s version:\n%s", bin, out)
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if len(l) < 9 {
			t.Fatalf("short line %q in:\n%s", l, out)
		}
		lines[strings.TrimSpace(l[:9])] = l[9:]
	}
	return lines
}

// checkSpecLines checks the spec lines against api/openapi.yaml as git
// and crypto/sha256 see it on disk, independently of the code under test.
func checkSpecLines(t *testing.T, lines map[string]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Info struct{ Title, Version string } `yaml:"info"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if want := doc.Info.Title + " " + doc.Info.Version; lines["spec"] != want {
		t.Errorf("spec = %q, want %q", lines["spec"], want)
	}
	sum := sha256.Sum256(data)
	if want := hex.EncodeToString(sum[:]); lines["sha256"] != want {
		t.Errorf("sha256 = %q, want %q (sha256 of api/openapi.yaml)", lines["sha256"], want)
	}
	if out, err := exec.Command("git", "hash-object", "--no-filters", filepath.Join(repoRoot, "api", "openapi.yaml")).Output(); err == nil {
		if want := strings.TrimSpace(string(out)); lines["git blob"] != want {
			t.Errorf("git blob = %q, want %q (git hash-object)", lines["git blob"], want)
		}
	} else {
		t.Logf("git hash-object unavailable (%v): git blob line not checked", err)
	}
	if want := runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH; lines["go"] != want {
		t.Errorf("go = %q, want %q", lines["go"], want)
	}
}

// TestVersionReleaseBuild builds the CLI with the flags and ldflags that
// .goreleaser.yaml gives its build, so a renamed variable, which -X would
// silently ignore, fails here.
func TestVersionReleaseBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI once more; nothing in it depends on the spec version")
	}
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(repoRoot, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Builds []struct {
			ID      string   `yaml:"id"`
			Main    string   `yaml:"main"`
			Env     []string `yaml:"env"`
			Flags   []string `yaml:"flags"`
			Ldflags []string `yaml:"ldflags"`
		} `yaml:"builds"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Builds) != 1 || cfg.Builds[0].Main != "./cmd/pagecall" {
		t.Fatalf(".goreleaser.yaml builds = %+v, want one build of ./cmd/pagecall", cfg.Builds)
	}
	b := cfg.Builds[0]
	// The fields of goreleaser's template context that the ldflags may use.
	fields := map[string]string{
		"Version":    "1.2.3",
		"Tag":        "v1.2.3",
		"FullCommit": "0123456789abcdef0123456789abcdef01234567",
		"CommitDate": "2026-11-28T12:00:00Z",
	}
	var ldflags []string
	for _, l := range b.Ldflags {
		tmpl, err := template.New("ldflags").Option("missingkey=error").Parse(l)
		if err != nil {
			t.Fatalf("ldflags %q: %v", l, err)
		}
		var out strings.Builder
		if err := tmpl.Execute(&out, fields); err != nil {
			t.Fatalf("ldflags %q uses a field this test does not know: %v", l, err)
		}
		ldflags = append(ldflags, out.String())
	}
	bin := buildCLI(t, "", b.Env, append(b.Flags, "-ldflags="+strings.Join(ldflags, " "))...)
	lines := versionOutput(t, bin)
	if lines["pagecall"] != "v1.2.3" {
		t.Errorf("pagecall = %q, want v1.2.3", lines["pagecall"])
	}
	if want := fields["FullCommit"] + " " + fields["CommitDate"]; lines["commit"] != want {
		t.Errorf("commit = %q, want %q", lines["commit"], want)
	}
	checkSpecLines(t, lines)
}

// TestVersionGoBuild builds the CLI as a plain go build in the git checkout
// and expects the checkout's HEAD as the commit.
func TestVersionGoBuild(t *testing.T) {
	t.Parallel()
	// The go command stamps VCS information only where the repository root
	// has a .git directory; a git worktree's .git is a file.
	if fi, err := os.Stat(filepath.Join(repoRoot, ".git")); err != nil || !fi.IsDir() {
		t.Skip("not a git clone with a .git directory (a worktree, or a scratch copy): go build records no VCS information")
	}
	head, err := exec.Command("git", "-C", repoRoot, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("git rev-parse HEAD: %v", err)
	}
	bin := buildCLI(t, "", []string{"GOFLAGS=-mod=readonly"}, "-buildvcs=true")
	lines := versionOutput(t, bin)
	if !strings.HasPrefix(lines["commit"], strings.TrimSpace(string(head))+" ") {
		t.Errorf("commit = %q, want HEAD %s and its time", lines["commit"], head)
	}
	// Go 1.24+ stamps a pseudo-version (with +dirty for a modified tree).
	if !module.IsPseudoVersion(lines["pagecall"]) {
		t.Errorf("pagecall = %q, want a pseudo-version", lines["pagecall"])
	}
	checkSpecLines(t, lines)
}

// TestVersionGoInstall runs go install …@VERSION against a module proxy on
// disk that serves this tree as that version, with every dependency served
// from the local module cache, so nothing is fetched from the network.
func TestVersionGoInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks the dependencies into a fresh module cache")
	}
	t.Parallel()
	ls := exec.Command("git", "-C", repoRoot, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	out, err := ls.Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	const version = "v0.0.0-20261128120000-0123456789ab"
	tmp := t.TempDir()
	proxy := filepath.Join(tmp, "proxy")
	dir := filepath.Join(proxy, filepath.FromSlash(modulePath), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var files []modzip.File
	for _, f := range strings.Split(string(out), "\x00") {
		if fi, err := os.Lstat(filepath.Join(repoRoot, f)); f != "" && err == nil && fi.Mode().IsRegular() {
			files = append(files, diskFile{filepath.Join(repoRoot, f), f})
		}
	}
	zf, err := os.Create(filepath.Join(dir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := modzip.Create(zf, module.Version{Path: modulePath, Version: version}, files); err != nil {
		t.Fatal(err)
	}
	if err := zf.Close(); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]string{"Version": version, "Time": "2026-11-28T12:00:00Z"})
	for name, data := range map[string][]byte{version + ".mod": gomod, version + ".info": info, "list": []byte(version + "\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	fileURL := func(p string) string {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	}
	gobin := filepath.Join(tmp, "bin")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, "go", "install", "-trimpath", modulePath+"/cmd/pagecall@"+version)
	install.Dir = tmp
	install.Env = append(os.Environ(),
		// Only the two directories: no fallback to the network.
		"GOPROXY="+fileURL(proxy)+","+fileURL(filepath.Join(strings.TrimSpace(string(modcache)), "cache", "download")),
		"GOMODCACHE="+filepath.Join(tmp, "modcache"),
		"GOFLAGS=-modcacherw", // so that t.TempDir can remove it
		// As .goreleaser.yaml builds: -trimpath keeps the build cache's
		// keys free of the module cache's location, so the dependencies
		// compiled for TestVersionReleaseBuild and make cross-build are
		// reused although this module cache is new.
		"CGO_ENABLED=0",
		"GOSUMDB=off", "GOWORK=off", "GOTOOLCHAIN=local", "GOBIN="+gobin,
	)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	bin := filepath.Join(gobin, "pagecall")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	lines := versionOutput(t, bin)
	if lines["pagecall"] != version {
		t.Errorf("pagecall = %q, want %s", lines["pagecall"], version)
	}
	if lines["commit"] != "0123456789ab" {
		t.Errorf("commit = %q, want the pseudo-version's 0123456789ab", lines["commit"])
	}
	checkSpecLines(t, lines)
}

// diskFile is a file of the module zip, read from disk.
type diskFile struct{ disk, rel string }

// Path is the slash-separated path inside the module.
func (f diskFile) Path() string { return filepath.ToSlash(f.rel) }

// Lstat describes the file on disk.
func (f diskFile) Lstat() (os.FileInfo, error) { return os.Lstat(f.disk) }

// Open opens the file on disk.
func (f diskFile) Open() (io.ReadCloser, error) { return os.Open(f.disk) }

// TestVersionMatchesEmbeddedSpec checks the version command of the binary
// TestMain built; its spec lines must describe api/openapi.yaml.
func TestVersionMatchesEmbeddedSpec(t *testing.T) {
	t.Parallel()
	if !bytes.Equal(api.OpenAPI, mustRead(t, filepath.Join(repoRoot, "api", "openapi.yaml"))) {
		t.Fatal("api.OpenAPI differs from api/openapi.yaml")
	}
	lines := versionOutput(t, binary)
	checkSpecLines(t, lines)
	if !regexp.MustCompile(`^(\(devel\)|v\d+\.\d+\.\d+\S*)$`).MatchString(lines["pagecall"]) {
		t.Errorf("pagecall = %q, want a module version or (devel)", lines["pagecall"])
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
