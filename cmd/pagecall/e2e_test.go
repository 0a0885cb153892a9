package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pplink/pagecall-go/api"
	"github.com/pplink/pagecall-go/pagecalltest"
	"gopkg.in/yaml.v3"
)

// binary is the pagecall binary TestMain builds.
var binary string

// runTimeout bounds each run of the binary.
const runTimeout = 60 * time.Second

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pagecall-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "pagecall")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.CommandContext(ctx, "go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building pagecall: %v\n", err)
		return 1
	}
	return m.Run()
}

// cliResult is what one run of the binary did.
type cliResult struct {
	code           int
	stdout, stderr string
}

// cliEnv is the environment for the binary: the test's, without any
// PAGECALL_ variable, plus vars.
//
// Under -race the binary is built with -race too, and the race runtime
// sleeps a second at exit (GORACE atexit_sleep_ms, default 1000) to catch
// races with goroutines still running. The tests run the binary over a
// hundred times, so that second was most of make test's time; it is cut
// to 0 unless GORACE already sets it.
func cliEnv(vars ...string) []string {
	var out []string
	gorace := ""
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "PAGECALL_"):
		case strings.HasPrefix(kv, "GORACE="):
			gorace = strings.TrimPrefix(kv, "GORACE=")
		default:
			out = append(out, kv)
		}
	}
	if !strings.Contains(gorace, "atexit_sleep_ms") {
		gorace = strings.TrimSpace(gorace + " atexit_sleep_ms=0")
	}
	out = append(out, "GORACE="+gorace)
	return append(out, vars...)
}

// mockEnv points the binary at srv.
func mockEnv(srv *pagecalltest.Server) []string {
	return cliEnv("PAGECALL_BASE_URL="+srv.URL(), "PAGECALL_API_KEY="+srv.APIKey())
}

// command prepares a run of the binary, bounded by runTimeout.
func command(t *testing.T, env []string, stdin string, args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	return cmd, &stdout, &stderr
}

// runCLI runs the binary to completion.
func runCLI(t *testing.T, env []string, stdin string, args ...string) cliResult {
	t.Helper()
	cmd, stdout, stderr := command(t, env, stdin, args...)
	err := cmd.Run()
	return result(t, cmd, err, stdout, stderr)
}

func result(t *testing.T, cmd *exec.Cmd, err error, stdout, stderr *syncBuffer) cliResult {
	t.Helper()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("running %v: %v\nstderr:\n%s", cmd.Args, err, stderr)
		}
	}
	r := cliResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	t.Logf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", cmd.Args[1:], r.code, r.stdout, r.stderr)
	return r
}

// records parses JSON Lines output, failing on anything else.
func records(t *testing.T, stdout string) map[string]record {
	t.Helper()
	out := map[string]record{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r record
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("stdout line %q is not a record: %v", sc.Text(), err)
		}
		if _, dup := out[r.ID]; dup {
			t.Fatalf("two records for %q", r.ID)
		}
		out[r.ID] = r
	}
	return out
}

// deletePaths returns the paths of the DELETE requests srv received.
func deletePaths(srv *pagecalltest.Server) []string {
	var paths []string
	for _, r := range srv.Requests() {
		if r.Method == "DELETE" {
			paths = append(paths, r.Path)
		}
	}
	return paths
}

func newMock(t *testing.T, users ...string) *pagecalltest.Server {
	t.Helper()
	srv := pagecalltest.NewTestServer(t)
	for _, u := range users {
		srv.AddUser(u, nil)
	}
	return srv
}

func TestDeleteSingle(t *testing.T) {
	t.Parallel()
	srv := newMock(t)
	r := runCLI(t, mockEnv(srv), "", "users", "delete", "external_user_102932")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0", r.code)
	}
	var user map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &user); err != nil {
		t.Fatalf("stdout is not one JSON object: %v", err)
	}
	if user["user_id"] != "external_user_102932" {
		t.Errorf("user_id = %v, want external_user_102932", user["user_id"])
	}
	if srv.UserExists("external_user_102932") {
		t.Error("the user still exists")
	}
	if got := deletePaths(srv); !slices.Equal(got, []string{"/v1/users/external_user_102932"}) {
		t.Errorf("DELETE requests = %q, want one", got)
	}
}

func TestDeleteSingleFailure(t *testing.T) {
	t.Parallel()
	srv := newMock(t)
	r := runCLI(t, mockEnv(srv), "", "users", "delete", "nobody")
	if r.code != exitFailure {
		t.Fatalf("exit %d, want 1", r.code)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	if !strings.Contains(r.stderr, "400") {
		t.Errorf("stderr does not give the status 400")
	}
}

func TestDeleteBulkSomeFail(t *testing.T) {
	t.Parallel()
	srv := newMock(t, "u1", "u2", "u3", "u4")
	srv.Inject(pagecalltest.Fault{Route: "DELETE /users/u3", Status: 500, Count: 100})
	r := runCLI(t, mockEnv(srv), "", "users", "delete", "--max-retries", "0", "--concurrency", "3",
		"u1", "u2", "u3", "u4", "ghost")
	if r.code != exitFailure {
		t.Fatalf("exit %d, want 1", r.code)
	}
	recs := records(t, r.stdout)
	want := map[string]struct {
		outcome string
		status  int
	}{
		"u1": {outcomeDeleted, 200}, "u2": {outcomeDeleted, 200}, "u4": {outcomeDeleted, 200},
		"u3": {outcomeFailed, 500}, "ghost": {outcomeFailed, 400},
	}
	if len(recs) != len(want) {
		t.Errorf("%d records, want %d", len(recs), len(want))
	}
	for id, w := range want {
		got := recs[id]
		if got.Outcome != w.outcome || got.Status != w.status {
			t.Errorf("%s: outcome %q status %d, want %q %d", id, got.Outcome, got.Status, w.outcome, w.status)
		}
		if (w.outcome == outcomeFailed) != (got.Error != "") {
			t.Errorf("%s: error %q: want one exactly when failed", id, got.Error)
		}
	}
	if !strings.Contains(r.stderr, "deleted 3, failed 2, invalid 0 of 5 in ") {
		t.Errorf("stderr lacks the summary")
	}
	for _, id := range []string{"u1", "u2", "u4"} {
		if srv.UserExists(id) {
			t.Errorf("%s still exists", id)
		}
	}
	if !srv.UserExists("u3") {
		t.Error("u3 was deleted despite the fault")
	}
}

func TestDeleteMissingKey(t *testing.T) {
	t.Parallel()
	srv := newMock(t, "u1")
	for _, args := range [][]string{
		{"users", "delete", "external_user_102932"},
		{"users", "delete", "external_user_102932", "u1"},
		{"users", "delete", "--file", "-"},
	} {
		r := runCLI(t, cliEnv("PAGECALL_BASE_URL="+srv.URL()), "u1\n", args...)
		if r.code != exitUsage {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
		if !strings.Contains(r.stderr, "PAGECALL_API_KEY") {
			t.Errorf("%v: stderr does not name PAGECALL_API_KEY", args)
		}
		if r.stdout != "" {
			t.Errorf("%v: stdout = %q, want nothing", args, r.stdout)
		}
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("the mock got %d requests, want none", len(reqs))
	}
}

func TestDeleteAPIKeyFile(t *testing.T) {
	t.Parallel()
	const key = "file-key-0123456789"
	srv := pagecalltest.NewTestServer(t, pagecalltest.WithAPIKey(key))
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, cliEnv("PAGECALL_BASE_URL="+srv.URL()), "", "users", "delete", "--api-key-file", file, "--verbose", "external_user_102932")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0", r.code)
	}
	if strings.Contains(r.stdout+r.stderr, key) {
		t.Error("the API key was printed")
	}
	if r := runCLI(t, cliEnv("PAGECALL_BASE_URL="+srv.URL()), "", "users", "delete", "--api-key", key, "x"); r.code != exitUsage {
		t.Errorf("--api-key: exit %d, want 2 (no such flag)", r.code)
	}
}

func TestDeleteVerboseLogsRetriesNotKey(t *testing.T) {
	t.Parallel()
	const key = "verbose-secret-key-42"
	srv := pagecalltest.NewTestServer(t, pagecalltest.WithAPIKey(key))
	srv.Inject(pagecalltest.Fault{Route: "DELETE", Status: 503, RetryAfter: "0"})
	r := runCLI(t, cliEnv("PAGECALL_BASE_URL="+srv.URL(), "PAGECALL_API_KEY="+key), "",
		"users", "delete", "--verbose", "external_user_102932")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0", r.code)
	}
	for _, want := range []string{"attempt failed", "attempt=1", "attempt succeeded", "attempt=2", "level=DEBUG"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if strings.Contains(r.stderr, key) || strings.Contains(r.stdout, key) {
		t.Error("the API key was printed")
	}
}

func TestDeleteDryRun(t *testing.T) {
	t.Parallel()
	srv := newMock(t, "u1")
	// No API key: a dry run needs none.
	r := runCLI(t, cliEnv("PAGECALL_BASE_URL="+srv.URL()), "", "users", "delete", "--dry-run", "u1", "external_user_102932")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0", r.code)
	}
	recs := records(t, r.stdout)
	if len(recs) != 2 || recs["u1"].Outcome != outcomeDryRun || recs["external_user_102932"].Outcome != outcomeDryRun {
		t.Errorf("records = %+v, want two dry_run", recs)
	}
	if !strings.Contains(r.stderr, "dry run: would delete 2, invalid 0 of 2; nothing sent") {
		t.Error("stderr lacks the dry-run summary")
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("the mock got %d requests, want none", len(reqs))
	}
}

func TestDeleteFromStdin(t *testing.T) {
	t.Parallel()
	srv := newMock(t, "u1", "u2", "u3")
	stdin := "# users to remove\nu1\n\n   u2   \r\nu1\n  # u9 is commented out\nu3\n"
	r := runCLI(t, mockEnv(srv), stdin, "users", "delete", "--file", "-", "u2")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0", r.code)
	}
	recs := records(t, r.stdout)
	if len(recs) != 3 {
		t.Errorf("%d records, want 3", len(recs))
	}
	for _, id := range []string{"u1", "u2", "u3"} {
		if recs[id].Outcome != outcomeDeleted {
			t.Errorf("%s: outcome %q, want deleted", id, recs[id].Outcome)
		}
	}
	paths := deletePaths(srv)
	slices.Sort(paths)
	if want := []string{"/v1/users/u1", "/v1/users/u2", "/v1/users/u3"}; !slices.Equal(paths, want) {
		t.Errorf("DELETE requests = %q, want %q (each once)", paths, want)
	}
	if !strings.Contains(r.stderr, "deleted 3, failed 0, invalid 0 of 3") || !strings.Contains(r.stderr, "2 duplicate IDs skipped") {
		t.Error("stderr lacks the summary with 2 duplicates")
	}
}

func TestDeleteFileOfOneIsJSONLines(t *testing.T) {
	t.Parallel()
	srv := newMock(t)
	file := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(file, []byte("external_user_102932\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, mockEnv(srv), "", "users", "delete", "--file", file)
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0", r.code)
	}
	if recs := records(t, r.stdout); recs["external_user_102932"].Outcome != outcomeDeleted {
		t.Errorf("records = %+v, want one deleted record", recs)
	}
}

func TestDeleteInvalidIDs(t *testing.T) {
	t.Parallel()
	srv := newMock(t, "u1")
	r := runCLI(t, mockEnv(srv), "", "users", "delete", "", ".", "..", "u1")
	if r.code != exitUsage {
		t.Fatalf("exit %d, want 2", r.code)
	}
	recs := records(t, r.stdout)
	for _, id := range []string{"", ".", ".."} {
		if recs[id].Outcome != outcomeInvalid || recs[id].Error == "" {
			t.Errorf("%q: record %+v, want invalid with an error", id, recs[id])
		}
	}
	if recs["u1"].Outcome != outcomeDeleted {
		t.Errorf("u1: outcome %q, want deleted", recs["u1"].Outcome)
	}
	if got := deletePaths(srv); !slices.Equal(got, []string{"/v1/users/u1"}) {
		t.Errorf("DELETE requests = %q, want only u1's", got)
	}
	if !strings.Contains(r.stderr, "deleted 1, failed 0, invalid 3 of 4") {
		t.Error("stderr lacks the summary")
	}

	// A single invalid ID is a usage error too, and is not sent.
	r = runCLI(t, mockEnv(srv), "", "users", "delete", "..")
	if r.code != exitUsage || !strings.Contains(r.stderr, "invalid user ID") {
		t.Errorf("single ..: exit %d, stderr %q; want 2 and an invalid-ID message", r.code, r.stderr)
	}
	if n := len(deletePaths(srv)); n != 1 {
		t.Errorf("%d DELETE requests, want still 1", n)
	}
}

func TestDeleteUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"users", "delete"},
		{"users", "delete", "--concurrency", "0", "a", "b"},
		{"users", "delete", "--file", filepath.Join(t.TempDir(), "missing.txt")},
		{"users", "delete", "--no-such-flag", "a"},
		{"no-such-command"},
	} {
		r := runCLI(t, cliEnv("PAGECALL_API_KEY=k", "PAGECALL_BASE_URL=http://127.0.0.1:1/v1"), "", args...)
		if r.code != exitUsage || r.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 with a message", args, r.code, r.stderr)
		}
	}
}

// TestDeleteInterrupt sends one signal while deletions are in flight: those
// finish (they are not cancelled), nothing new starts, the summary is
// printed and the exit status is 130.
func TestDeleteInterrupt(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			ids := []string{"u1", "u2", "u3", "u4", "u5", "u6"}
			srv := newMock(t, ids...)
			const delay = 2 * time.Second
			srv.Inject(pagecalltest.Fault{Route: "DELETE", Count: len(ids), Delay: delay})
			cmd, stdout, stderr := command(t, mockEnv(srv), "", append([]string{"users", "delete", "--concurrency", "2"}, ids...)...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Two requests are in flight once they have taken their fault.
			waitFor(t, 10*time.Second, func() bool { return srv.PendingFaults() == len(ids)-2 })
			sent := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			r := result(t, cmd, cmd.Wait(), stdout, stderr)
			if r.code != exitInterrupted {
				t.Fatalf("exit %d, want 130", r.code)
			}
			recs := records(t, r.stdout)
			var deleted []string
			for _, id := range ids {
				switch recs[id].Outcome {
				case outcomeDeleted:
					deleted = append(deleted, "/v1/users/"+id)
				case outcomeNotStarted:
				default:
					t.Errorf("%s: outcome %q, want deleted or not_started", id, recs[id].Outcome)
				}
			}
			if len(deleted) != 2 {
				t.Errorf("%d deleted, want the 2 in flight to finish", len(deleted))
			}
			if time.Since(sent) > delay+5*time.Second {
				t.Error("took too long to exit")
			}
			paths := deletePaths(srv)
			slices.Sort(paths)
			if !slices.Equal(paths, deleted) {
				t.Errorf("DELETE requests = %q, want exactly the deleted %q, each once", paths, deleted)
			}
			if !strings.Contains(r.stderr, "interrupted: deleted 2, failed 0, invalid 0, not started 4 of 6") {
				t.Error("stderr lacks the interrupted summary")
			}
		})
	}
}

// TestDeleteSecondInterruptAborts: a second signal cancels what is in
// flight instead of waiting for it.
func TestDeleteSecondInterruptAborts(t *testing.T) {
	t.Parallel()
	srv := newMock(t, "u1", "u2", "u3")
	srv.Inject(pagecalltest.Fault{Route: "DELETE", Count: 3, Delay: time.Minute})
	cmd, stdout, stderr := command(t, mockEnv(srv), "", "users", "delete", "--concurrency", "2", "u1", "u2", "u3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return srv.PendingFaults() == 1 })
	_ = cmd.Process.Signal(syscall.SIGINT)
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(stderr.String(), "press Ctrl-C again") })
	start := time.Now()
	_ = cmd.Process.Signal(syscall.SIGINT)
	r := result(t, cmd, cmd.Wait(), stdout, stderr)
	if r.code != exitInterrupted {
		t.Fatalf("exit %d, want 130", r.code)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("the second interrupt did not abort promptly")
	}
	recs := records(t, r.stdout)
	aborted := 0
	for _, rec := range recs {
		if rec.Outcome == outcomeAborted {
			aborted++
		}
	}
	if aborted != 2 || recs["u3"].Outcome != outcomeNotStarted {
		t.Errorf("records = %+v, want 2 aborted and u3 not started", recs)
	}
	if !strings.Contains(r.stderr, "aborted 2") {
		t.Error("stderr summary lacks the aborted count")
	}
}

// syncBuffer is a bytes.Buffer that a test may read while os/exec copies
// the child's output into it from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond every 20ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	var doc struct {
		Info struct{ Title, Version string } `yaml:"info"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil || doc.Info.Version == "" {
		t.Fatalf("the embedded spec has no info.version: %v", err)
	}
	r := runCLI(t, cliEnv(), "", "version")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0", r.code)
	}
	// "(devel)" when built without VCS stamping, else a module version
	// (a pseudo-version in a git checkout).
	if !regexp.MustCompile(`(?m)^pagecall +(\(devel\)|v\d+\.\d+\.\d+\S*)$`).MatchString(r.stdout) {
		t.Errorf("stdout lacks a module version line:\n%s", r.stdout)
	}
	if want := "spec     " + doc.Info.Title + " " + doc.Info.Version; !strings.Contains(r.stdout, want) {
		t.Errorf("stdout lacks %q", want)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	r := runCLI(t, cliEnv(), "", "demo") // no key, no base URL
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0", r.code)
	}
	for _, want := range []string{
		"attempt 1: POST /v1/users: 503 Service Unavailable",
		"-> retrying in 1s",
		"attempt 2: 200 OK",
		"created in 2 attempts",
		`sent {"name":"standup","record":false,"type":"private"}`,
		"type host",
		"https://app.pagecall.com/meet?room_id=",
		"   ada (host)",
		"terminated: true",
		`"user_id":"ada"`,
		"errors.As(err, &apiErr) == true",
		"apiErr.StatusCode = 400",
		"The mock received 8 requests",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
}

func TestHelpAndCompletion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--help"}, {"users", "--help"}, {"users", "delete", "--help"}, {"mock", "--help"},
		{"demo", "--help"}, {"version", "--help"}, {"completion", "--help"},
	} {
		r := runCLI(t, cliEnv(), "", args...)
		if r.code != exitOK || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%v: exit %d; want 0 and a usage text", args, r.code)
		}
	}
	r := runCLI(t, cliEnv(), "", "--help")
	for _, want := range []string{"Exit status:", "130", "PAGECALL_API_KEY"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("root help lacks %q", want)
		}
	}
	r = runCLI(t, cliEnv(), "", "completion", "bash")
	if r.code != exitOK || !strings.Contains(r.stdout, "bash completion") {
		t.Errorf("completion bash: exit %d; want 0 and a bash script", r.code)
	}
}

// TestMockCommand runs "pagecall mock" with a failing ID, deletes through
// it with a second binary, and stops it with SIGINT.
func TestMockCommand(t *testing.T) {
	t.Parallel()
	mock, base, mockOut, mockErr := startMock(t, "--user", "alice", "--user", "bob", "--fail-id", "bob", "--fail-status", "500")
	if !strings.Contains(mockOut.String(), "PAGECALL_BASE_URL="+base+" PAGECALL_API_KEY="+pagecalltest.APIKey+" pagecall users delete external_user_102932") {
		t.Error("the mock does not print a ready-to-paste command")
	}

	r := runCLI(t, cliEnv("PAGECALL_BASE_URL="+base, "PAGECALL_API_KEY="+pagecalltest.APIKey), "",
		"users", "delete", "--max-retries", "0", "alice", "bob")
	recs := records(t, r.stdout)
	if r.code != exitFailure || recs["alice"].Outcome != outcomeDeleted || recs["bob"].Status != 500 {
		t.Errorf("exit %d, records %+v; want 1 with alice deleted and bob failing with 500", r.code, recs)
	}

	_ = mock.Process.Signal(syscall.SIGINT)
	if res := result(t, mock, mock.Wait(), mockOut, mockErr); res.code != exitOK {
		t.Errorf("mock exit %d after SIGINT, want 0", res.code)
	}
	if !strings.Contains(mockErr.String(), "path=/v1/users/alice") {
		t.Error("the mock did not log the requests")
	}

	if r := runCLI(t, cliEnv(), "", "mock", "--addr", "0.0.0.0:0"); r.code != exitUsage || !strings.Contains(r.stderr, "loopback") {
		t.Errorf("non-loopback --addr: exit %d; want 2 naming loopback", r.code)
	}
}

// startMock starts "pagecall mock" on a free loopback port with args and
// returns it, once it is ready, with its base URL and output.
func startMock(t *testing.T, args ...string) (mock *exec.Cmd, base string, stdout, stderr *syncBuffer) {
	t.Helper()
	mock, stdout, stderr = command(t, cliEnv(), "", append([]string{"mock", "--addr", "127.0.0.1:0"}, args...)...)
	if err := mock.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(stdout.String(), "Press Ctrl-C to stop.") })
	for line := range strings.Lines(stdout.String()) {
		if u, ok := strings.CutPrefix(line, "Mock Pagecall API listening on "); ok {
			base = strings.TrimSpace(u)
		}
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/v1") {
		t.Fatalf("no base URL in the mock's output:\n%s", stdout)
	}
	return mock, base, stdout, stderr
}

// TestMockLoadFaults plays the mock's load faults against the CLI: a rate
// limit window the client waits out, a blip, and a failure rate.
func TestMockLoadFaults(t *testing.T) {
	t.Parallel()
	users := []string{"--user", "alice", "--user", "bob", "--user", "carol"}
	tests := []struct {
		name     string
		flags    []string
		delete   []string // flags of the delete
		wantCode int
		wantLog  string // in the mock's request log
	}{
		{"429 window, waited out", []string{"--fail-for", "1s", "--fail-status", "429", "--retry-after", "1"}, nil, exitOK, "status=429"},
		{"blip of 3, not retried", []string{"--blip", "3"}, []string{"--max-retries", "0"}, exitFailure, "status=503"},
		{"every request fails", []string{"--fail-rate", "1", "--seed", "1", "--fail-status", "502"}, []string{"--max-retries", "0"}, exitFailure, "status=502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mock, base, mockOut, mockErr := startMock(t, append(users, tt.flags...)...)
			args := append([]string{"users", "delete", "--concurrency", "3"}, tt.delete...)
			r := runCLI(t, cliEnv("PAGECALL_BASE_URL="+base, "PAGECALL_API_KEY="+pagecalltest.APIKey), "", append(args, "alice", "bob", "carol")...)
			if r.code != tt.wantCode {
				t.Errorf("delete: exit %d, want %d", r.code, tt.wantCode)
			}
			for id, rec := range records(t, r.stdout) {
				if ok := rec.Outcome == outcomeDeleted; ok != (tt.wantCode == exitOK) {
					t.Errorf("%s: outcome %s", id, rec.Outcome)
				}
			}
			_ = mock.Process.Signal(syscall.SIGINT)
			result(t, mock, mock.Wait(), mockOut, mockErr)
			if !strings.Contains(mockErr.String(), tt.wantLog) {
				t.Errorf("the mock's log lacks %q", tt.wantLog)
			}
		})
	}
	if r := runCLI(t, cliEnv(), "", "mock", "--fail-rate", "1.5"); r.code != exitUsage {
		t.Errorf("--fail-rate 1.5: exit %d, want 2", r.code)
	}
}
