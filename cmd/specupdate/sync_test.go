package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// historyDir holds the published versions, beside the repository.
var historyDir = filepath.Join("..", "..", "..", "shared", "specs", "pagecall-history")

// published returns the paths of the published versions numbered ns
// (their file names are NN_DATE_COMMIT.yaml). It skips the test under
// -short, saying why (short), and where ../shared is not present (as make
// spec-history does).
func published(t *testing.T, short string, ns ...string) []string {
	t.Helper()
	if testing.Short() {
		t.Skip(short)
	}
	var paths []string
	for _, n := range ns {
		m, _ := filepath.Glob(filepath.Join(historyDir, n+"_*.yaml"))
		if len(m) != 1 {
			t.Skipf("published version %s not present in %s (found %d)", n, historyDir, len(m))
		}
		paths = append(paths, m[0])
	}
	return paths
}

// outputs reads a $GITHUB_OUTPUT-style file.
func outputs(t *testing.T, file string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		k, v, _ := strings.Cut(l, "=")
		m[k] = v
	}
	return m
}

// TestSync19To20 plays the spec watch on a scratch copy of the module's own
// files set back to version 19, with upstream at version 20: the copy must
// end up at version 20 with the code go generate gives, and the report must
// name the /users/{id} -> /users/{user_id} rename that oasdiff does not.
func TestSync19To20(t *testing.T) {
	v := published(t, "regenerates, builds and tests a scratch copy of the module", "19", "20")
	v19, v20 := v[0], v[1]
	ctx := context.Background()

	files, err := moduleFiles(ctx, moduleRoot)
	if err != nil {
		t.Fatal(err)
	}
	scratch := filepath.Join(t.TempDir(), "module")
	if err := copyFiles(moduleRoot, scratch, files); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(v19)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(scratch, specFile), old, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := goCmd("generate", "./...")(ctx, scratch, io.Discard); err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	report, outFile := filepath.Join(out, "report.md"), filepath.Join(out, "outputs")
	var log bytes.Buffer
	o := syncOptions{Report: report, Outputs: outFile, Source: "pagecall-history/20", checks: historySteps, goAPI: true}
	if err := syncSpec(ctx, scratch, v20, o, &log); err != nil {
		t.Fatalf("sync: %v\n%s", err, log.String())
	}
	body, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", body)

	// The changed tree: version 20, and internal/wire as go generate makes it.
	want, _ := os.ReadFile(v20)
	if got, _ := os.ReadFile(filepath.Join(scratch, specFile)); !bytes.Equal(got, want) {
		t.Errorf("scratch %s is not version 20", specFile)
	}
	if repoSpec, _ := os.ReadFile(filepath.Join(moduleRoot, specFile)); bytes.Equal(repoSpec, want) {
		// The repository is at version 20 too, so the synced copy must be
		// the repository again, file for file: whatever go generate makes
		// from the spec (internal/wire and any generated file elsewhere) included.
		for _, f := range files {
			a, errA := os.ReadFile(filepath.Join(moduleRoot, f))
			b, errB := os.ReadFile(filepath.Join(scratch, f))
			if errA == nil && (errB != nil || !bytes.Equal(a, b)) {
				t.Errorf("scratch %s differs from the repository's at version 20", f)
			}
		}
	}
	// At 19 the generated parameter was named id; at 20, userID.
	if gen, _ := os.ReadFile(filepath.Join(scratch, genFile)); !bytes.Contains(gen, []byte("DeleteUser(ctx context.Context, userID string")) {
		t.Errorf("scratch %s was not regenerated for version 20", genFile)
	}

	for _, want := range []string{
		"**Not breaking**",
		"17 operations -> 17: 0 added, 0 removed, 3 renamed or moved",
		"- `DELETE /users/{user_id}` method `DeleteUser`: path renamed from `/users/{id}`: parameter names only, the same URL (oasdiff does not report this)",
		"- `GET /users/{user_id}` method `GetUser`: path renamed from `/users/{id}`",
		"- `PUT /users/{user_id}` method `UpdateUser`: path renamed from `/users/{id}`",
		"No breaking changes to report", // oasdiff's own words
		"Passed.",
		"ok  \tgithub.com/pplink/pagecall-go\t", // go test's line for the root package
		"Source: pagecall-history/20",
		"## Go API (apidiff)\n\n" + apidiffModule, // next to oasdiff's report
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// 19 to 20 renames a path parameter only: nothing a Go caller names.
	if !regexp.MustCompile(`\*\*(none|compatible)\*\*`).Match(body) {
		t.Errorf("report does not classify the Go API change as none or compatible")
	}
	if got := outputs(t, outFile); got["changed"] != "true" || got["breaking"] != "false" || !strings.HasPrefix(got["title"], "Pagecall spec update: openapi3.yaml blob ") {
		t.Errorf("outputs = %v, want changed=true breaking=false and a title", got)
	}

	// Upstream unchanged since: nothing to do, and no pull request.
	out2 := filepath.Join(t.TempDir(), "outputs")
	log.Reset()
	if err := syncSpec(ctx, scratch, v20, syncOptions{Outputs: out2}, &log); err != nil {
		t.Fatal(err)
	}
	if got := outputs(t, out2); got["changed"] != "false" || !strings.Contains(log.String(), "nothing to do") {
		t.Errorf("second sync: outputs %v, log %q; want changed=false and nothing to do", got, log.String())
	}
}

// TestSyncLabelsBreaking takes version 01 on top of 20: refused without
// ALLOW_BREAKING, labelled breaking with it. The checks after the
// replacement are a stand-in here: TestSync19To20 runs the real ones.
func TestSyncLabelsBreaking(t *testing.T) {
	v := published(t, "runs oasdiff", "01", "20")
	v01, v20 := v[0], v[1]
	ctx := context.Background()

	root := t.TempDir()
	for _, f := range []string{overlayFile, genConfig} {
		data, err := os.ReadFile(filepath.Join(moduleRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, root, f, string(data))
	}
	cur, _ := os.ReadFile(v20)
	writeFile(t, root, specFile, string(cur))
	if err := os.MkdirAll(filepath.Join(root, wireDir), 0o755); err != nil { // the generated package's home, which an update snapshots
		t.Fatal(err)
	}

	dir := t.TempDir()
	report, outFile := filepath.Join(dir, "report.md"), filepath.Join(dir, "outputs")
	var log bytes.Buffer
	err := syncSpec(ctx, root, v01, syncOptions{Report: report, Outputs: outFile}, &log)
	if err == nil || !strings.Contains(err.Error(), "breaking changes (error or warning level) and 3 generated methods removed or renamed") {
		t.Fatalf("sync without ALLOW_BREAKING = %v, want a refusal naming both kinds of breaking change", err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, specFile)); !bytes.Equal(got, cur) {
		t.Error("a refused sync changed api/openapi.yaml")
	}
	body, _ := os.ReadFile(report)
	for _, want := range []string{"**Update failed**", "Breaking for Go callers: SendRoomMessage removed (POST /rooms/{room_id}/message)", "api-path-removed-without-deprecation", "Not run"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("refusal report lacks %q:\n%s", want, body)
		}
	}
	if got := outputs(t, outFile); got["changed"] != "false" || got["breaking"] != "true" {
		t.Errorf("outputs = %v, want changed=false breaking=true", got)
	}

	ran := false
	stub := []step{{"stand-in check", func(context.Context, string, io.Writer) error { ran = true; return nil }}}
	outFile2 := filepath.Join(dir, "outputs2")
	err = syncSpec(ctx, root, v01, syncOptions{AllowBreaking: true, Report: report, Outputs: outFile2, checks: stub}, &log)
	if err != nil || !ran {
		t.Fatalf("sync with ALLOW_BREAKING = %v (checks ran: %v), want success", err, ran)
	}
	body, _ = os.ReadFile(report)
	if !strings.Contains(string(body), "**Breaking**: ") || !strings.Contains(string(body), "Taken with ALLOW_BREAKING=1") {
		t.Errorf("report does not label the change breaking:\n%s", body)
	}
	if got := outputs(t, outFile2); got["changed"] != "true" || got["breaking"] != "true" || !strings.HasSuffix(got["title"], "(breaking)") {
		t.Errorf("outputs = %v, want changed=true breaking=true and a (breaking) title", got)
	}
}
