package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// readResults parses a --results file line by line, failing the test on a
// line that is not a whole record (a torn line included).
func readResults(t *testing.T, name string) []record {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s ends in a torn line: %q", name, b[max(0, len(b)-80):])
	}
	var recs []record
	for i, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if len(b) == 0 {
			break
		}
		var r record
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil || r.ID == "" {
			t.Fatalf("%s line %d %q is not a record: %v", name, i+1, line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestDeleteKillAndResume: a bulk delete of 10,000 IDs (each given twice
// in the file) at --rate 2000 --concurrency 16 is killed with SIGKILL
// part-way, then run again with --resume. Every ID ends up deleted, none
// is sent more than twice, at most --concurrency are sent twice (those in
// flight at the kill), every record carries the ID's first line, the
// duplicates are neither sent nor recorded, run 2 removes its temporary
// files, and the results file parses line by line after the kill and at
// the end.
//
// Under -short (make test, and spec-history on every spec version) it
// deletes 1,000 IDs at --rate 500, killed after 300; make test-long runs
// the full size.
func TestDeleteKillAndResume(t *testing.T) {
	t.Parallel()
	const concurrency = 16
	n, killAfter, rate := 10000, 3000, 2000 // killAfter: records in the file
	if testing.Short() {
		// A lower rate keeps the kill well before the end on a loaded machine.
		n, killAfter, rate = 1000, 300, 500
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("bulk-%05d", i)
	}
	srv := newMock(t, ids...)
	dir := t.TempDir()
	idFile, results := filepath.Join(dir, "ids.txt"), filepath.Join(dir, "results.jsonl")
	// Every ID twice: the second time, after all of them, must be
	// neither sent nor recorded, in either run.
	if err := os.WriteFile(idFile, []byte(strings.Join(append(ids, ids...), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"users", "delete", "--file", idFile, "--rate", fmt.Sprint(rate), "--concurrency", fmt.Sprint(concurrency), "--results", results}
	// The runs' temporary files (spool and sorted chunks) go here.
	tmp := t.TempDir()
	env := append(mockEnv(srv), "TMPDIR="+tmp)

	// Run 1, killed once killAfter records are in the file.
	cmd, _, _ := command(t, env, "", args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := func() int {
		b, _ := os.ReadFile(results)
		return bytes.Count(b, []byte("\n"))
	}
	waitFor(t, 50*time.Second, func() bool { return lines() >= killAfter })
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	first := readResults(t, results)
	if len(first) >= n {
		t.Fatalf("run 1 finished all %d IDs before the kill: nothing to resume", n)
	}
	for _, r := range first {
		if r.Outcome != outcomeDeleted || r.Attempts != 1 {
			t.Errorf("run 1: %+v, want deleted in 1 attempt", r)
		}
	}

	// Run 2 resumes. Its records on stdout are not logged.
	left, _ := os.ReadDir(tmp) // run 1, killed, could not remove its own
	cmd, _, stderr := command(t, env, "", append(args, "--resume")...)
	err := cmd.Run()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatal(err)
	}
	r := cliResult{code: cmd.ProcessState.ExitCode(), stderr: stderr.String()}
	all := readResults(t, results)
	if !strings.Contains(r.stderr, fmt.Sprintf("(%d already deleted, skipped by --resume)", len(first))) {
		t.Errorf("run 2's summary does not count the %d IDs it skipped", len(first))
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("(%d duplicate IDs skipped)", n)) {
		t.Errorf("run 2's summary does not count the %d duplicates", n)
	}
	if after, _ := os.ReadDir(tmp); len(after) != len(left) {
		t.Errorf("run 2 left %d entries in TMPDIR, want its own removed (%d were left by the killed run 1)", len(after)-len(left), len(left))
	}

	sent := map[string]int{}
	for _, p := range deletePaths(srv) {
		sent[strings.TrimPrefix(p, "/v1/users/")]++
	}
	twice := map[string]bool{}
	for _, id := range ids {
		if srv.UserExists(id) {
			t.Errorf("%s was not deleted", id)
		}
		switch sent[id] {
		case 1:
		case 2:
			twice[id] = true
		default:
			t.Errorf("%s was sent %d times, want 1 or 2", id, sent[id])
		}
	}
	if len(twice) > concurrency {
		t.Errorf("%d IDs were sent twice, want at most %d (those in flight at the kill)", len(twice), concurrency)
	}

	// Every ID has a record; the IDs sent twice are the only ones that
	// failed, as "not found": run 1 had deleted them.
	final := map[string]record{}
	for _, rec := range all {
		final[rec.ID] = rec
		if want := int64(slices.Index(ids, rec.ID) + 1); rec.Line != want {
			t.Errorf("%s recorded with line %d, want %d (its first line)", rec.ID, rec.Line, want)
		}
	}
	if len(all) != n {
		t.Errorf("%d records, want %d: exactly one per ID", len(all), n)
	}
	for _, id := range ids {
		rec, ok := final[id]
		switch {
		case !ok:
			t.Errorf("%s has no record", id)
		case rec.Outcome == outcomeDeleted:
		case rec.Outcome == outcomeFailed && twice[id] && rec.Status >= 400 && rec.Status < 500 && rec.Attempts == 1:
		default:
			t.Errorf("%s: final record %+v", id, rec)
		}
	}
	t.Logf("killed after %d of %d records; %d IDs sent twice; run 2: exit %d, %d records; %s",
		len(first), n, len(twice), r.code, len(all)-len(first), strings.TrimSpace(r.stderr))
}

// TestResultsDropsTornLine: a results file whose last line was cut short
// (as only a power cut leaves it) is repaired before the run appends to
// it, and its complete records are still honoured by --resume.
func TestResultsDropsTornLine(t *testing.T) {
	t.Parallel()
	srv := newMock(t, "u2", "u3")
	results := filepath.Join(t.TempDir(), "results.jsonl")
	torn := `{"id":"u1","outcome":"deleted","status":200,"attempts":1}` + "\n" + `{"id":"u2","outcome":"del`
	if err := os.WriteFile(results, []byte(torn), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, mockEnv(srv), "", "users", "delete", "--results", results, "--resume", "u1", "u2", "u3")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0", r.code)
	}
	if !strings.Contains(r.stderr, "dropped a torn last line") {
		t.Error("stderr does not say the torn line was dropped")
	}
	recs := readResults(t, results)
	if len(recs) != 3 || recs[0].ID != "u1" {
		t.Fatalf("records %+v, want u1's old one and two new", recs)
	}
	if got := deletePaths(srv); len(got) != 2 {
		t.Errorf("DELETE requests %q, want u2 and u3 only (u1 is recorded as deleted)", got)
	}
}

// TestDeleteFlagsNeedEachOther: --resume needs --results, and --rate must
// be a rate.
func TestDeleteFlagsNeedEachOther(t *testing.T) {
	t.Parallel()
	srv := newMock(t)
	for _, args := range [][]string{
		{"users", "delete", "--resume", "a", "b"},
		{"users", "delete", "--rate", "-1", "a", "b"},
		{"users", "delete", "--rate", "NaN", "a", "b"},
	} {
		if r := runCLI(t, mockEnv(srv), "", args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

// TestDeleteRate: --rate caps the requests of the whole run. Each arrival
// is checked against the earliest time the limit allows it, so a slow
// machine cannot fail the test, only sending too fast can.
func TestDeleteRate(t *testing.T) {
	t.Parallel()
	const n, rate = 200, 100
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("r%03d", i)
	}
	srv := newMock(t, ids...)
	start := time.Now()
	cmd, _, stderr := command(t, mockEnv(srv), "", append([]string{"users", "delete", "--rate", fmt.Sprint(rate), "--concurrency", "16"}, ids...)...)
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var at []time.Time
	for _, r := range srv.Requests() {
		if r.Method == "DELETE" {
			at = append(at, r.Time)
		}
	}
	if len(at) != n {
		t.Fatalf("%d DELETE requests, want %d", len(at), n)
	}
	slices.SortFunc(at, time.Time.Compare)
	// Burst 1, and one request of slack for a clock read before a preemption.
	for k := 3; k <= n; k++ {
		if early := start.Add(time.Duration(k-2) * time.Second / rate).Sub(at[k-1]); early > 0 {
			t.Fatalf("request %d arrived %v before --rate %d allows", k, early, rate)
		}
	}
	t.Logf("%d deletes at --rate %d: the last %v after the start (at least %v)", n, rate,
		at[n-1].Sub(start).Round(time.Millisecond), time.Duration(n-2)*time.Second/rate)
}

// TestResumeRetriesAllButDeleted: --resume skips only the IDs the results
// file records as deleted. An ID recorded as not_started, aborted or failed
// was not (or not surely) deleted, so it is sent again.
func TestResumeRetriesAllButDeleted(t *testing.T) {
	t.Parallel()
	srv := newMock(t, "u-deleted", "u-not-started", "u-aborted", "u-failed")
	results := filepath.Join(t.TempDir(), "results.jsonl")
	var old strings.Builder
	for _, rec := range []record{
		{ID: "u-deleted", Outcome: outcomeDeleted, Status: 200, Attempts: 1},
		{ID: "u-not-started", Outcome: outcomeNotStarted},
		{ID: "u-aborted", Outcome: outcomeAborted, Attempts: 1},
		{ID: "u-failed", Outcome: outcomeFailed, Status: 503, Attempts: 3},
	} {
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		old.Write(append(b, '\n'))
	}
	if err := os.WriteFile(results, []byte(old.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, mockEnv(srv), "", "users", "delete", "--results", results, "--resume",
		"u-deleted", "u-not-started", "u-aborted", "u-failed")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0", r.code)
	}
	got := deletePaths(srv)
	slices.Sort(got)
	want := []string{"/v1/users/u-aborted", "/v1/users/u-failed", "/v1/users/u-not-started"}
	if !slices.Equal(got, want) {
		t.Errorf("DELETE requests %q, want %q: every ID but the one recorded as deleted", got, want)
	}
	if !srv.UserExists("u-deleted") {
		t.Error("u-deleted, recorded as deleted, was sent again")
	}
	for id, outcome := range map[string]string{"u-not-started": outcomeNotStarted, "u-aborted": outcomeAborted, "u-failed": outcomeFailed} {
		if srv.UserExists(id) {
			t.Errorf("%s, recorded as %s, was not retried", id, outcome)
		}
	}
}
