//go:build !anyspec

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/internal/erasejob"
	"github.com/redis/go-redis/v9"
)

// testRedis returns the address of the real redis-server the integration
// tests use, $PAGECALL_TEST_REDIS (.ci/run starts one). Without it the
// test is skipped, except on CI (CI=true), where it fails: CI must run it.
func testRedis(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("PAGECALL_TEST_REDIS")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but PAGECALL_TEST_REDIS is not set: .ci/run (or the workflow) must start a redis-server for the integration tests")
		}
		t.Skip("set PAGECALL_TEST_REDIS=127.0.0.1:PORT (a redis-server; .ci/run starts one) to run this integration test")
	}
	return addr
}

// jobName returns a job name no other test run uses.
func jobName(t *testing.T) string {
	return fmt.Sprintf("%s-%d-%d", strings.ReplaceAll(t.Name(), "/", "-"), os.Getpid(), time.Now().UnixNano())
}

// writeIDs writes ids, one per line, to a file in dir.
func writeIDs(t *testing.T, dir, name string, ids []string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(ids, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// exportJob runs --export and parses every record, failing on a line that
// is not a whole record in the format of --results, or on an ID exported
// twice.
func exportJob(t *testing.T, env []string, redisURL, job string) map[string]record {
	t.Helper()
	file := filepath.Join(t.TempDir(), "export.jsonl")
	r := runCLI(t, env, "", "users", "delete", "--redis", redisURL, "--job", job, "--export", file)
	if r.code != exitOK {
		t.Fatalf("--export: exit %d\n%s", r.code, r.stderr)
	}
	out := map[string]record{}
	for _, rec := range readResults(t, file) {
		if _, dup := out[rec.ID]; dup {
			t.Fatalf("two final records for %s", rec.ID)
		}
		out[rec.ID] = rec
	}
	return out
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestJobRefusesBadInput: a job's bad input exits 2 with a clear error,
// sends no request and leaves Redis as it was: --job without --redis, an
// unreachable Redis, a URL that is not one (its password never printed),
// flags that do not go with --job, a job that does not exist.
func TestJobRefusesBadInput(t *testing.T) {
	t.Parallel()
	mini := miniredis.RunT(t)
	srv := newMock(t, "u1")
	ids := writeIDs(t, t.TempDir(), "ids.txt", []string{"u1"})
	redisURL := "redis://" + mini.Addr()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"job without redis", []string{"--job", "j", "--file", ids}, "--job needs --redis URL"},
		{"status without job", []string{"--redis", redisURL, "--status"}, "need --job NAME"},
		{"unreachable redis", []string{"--redis", "redis://" + closedPort(t), "--job", "j", "--file", ids}, "cannot reach Redis"},
		{"not a URL", []string{"--redis", "http://user:s3cret-pw@host", "--job", "j", "--file", ids}, "is not a Redis URL"},
		{"arguments", []string{"--redis", redisURL, "--job", "j", "u1"}, "the IDs come from --file"},
		{"results", []string{"--redis", redisURL, "--job", "j", "--file", ids, "--results", "r.jsonl"}, "use --export FILE"},
		{"dry run", []string{"--redis", redisURL, "--job", "j", "--file", ids, "--dry-run"}, "--dry-run does not apply"},
		{"claim after", []string{"--redis", redisURL, "--job", "j", "--file", ids, "--claim-after", "0s"}, "--claim-after must be"},
		{"bad name", []string{"--redis", redisURL, "--job", "a:b", "--file", ids}, "bad job name"},
		{"no such job", []string{"--redis", redisURL, "--job", "nojob"}, "no such job"},
		{"status of no job", []string{"--redis", redisURL, "--job", "nojob", "--status"}, "no such job"},
		{"export of no job", []string{"--redis", redisURL, "--job", "nojob", "--export", filepath.Join(t.TempDir(), "x.jsonl")}, "no such job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, mockEnv(srv), "", append([]string{"users", "delete"}, tc.args...)...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q does not say %q", r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, "s3cret-pw") {
				t.Error("stderr repeats the password of the Redis URL")
			}
		})
	}
	if keys := mini.Keys(); len(keys) != 0 {
		t.Errorf("Redis keys %q, want none", keys)
	}
	if got := deletePaths(srv); len(got) != 0 {
		t.Errorf("DELETE requests %q, want none", got)
	}
}

// TestJobRefusesOtherIDs: a job name already used for other IDs is
// refused (exit 2): nothing in Redis changes and nothing is sent. The same
// file again is not refused: its load is a no-op and the worker finds the
// job done.
func TestJobRefusesOtherIDs(t *testing.T) {
	t.Parallel()
	mini := miniredis.RunT(t)
	srv := newMock(t, "a1", "a2", "b1")
	dir := t.TempDir()
	first := writeIDs(t, dir, "a.txt", []string{"a1", "a2"})
	other := writeIDs(t, dir, "b.txt", []string{"a1", "b1"})
	redisURL := "redis://" + mini.Addr()
	job := []string{"users", "delete", "--redis", redisURL, "--job", "erase-a"}
	if r := runCLI(t, mockEnv(srv), "", append(job, "--file", first)...); r.code != exitOK {
		t.Fatalf("first run: exit %d", r.code)
	}
	before := mini.Dump()
	sent := len(deletePaths(srv))
	r := runCLI(t, mockEnv(srv), "", append(job, "--file", other)...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "loaded from other IDs") {
		t.Errorf("other IDs: exit %d, stderr %q; want 2 and a clear error", r.code, r.stderr)
	}
	if after := mini.Dump(); after != before {
		t.Errorf("Redis changed:\nbefore %s\nafter %s", before, after)
	}
	if n := len(deletePaths(srv)); n != sent || !srv.UserExists("b1") {
		t.Error("a request was sent for the refused job")
	}
	if r := runCLI(t, mockEnv(srv), "", append(job, "--file", first)...); r.code != exitOK || !strings.Contains(r.stderr, "2 lines were loaded before") {
		t.Errorf("the same file again: exit %d, stderr %q; want 0, nothing loaded", r.code, r.stderr)
	}
}

// TestJobStatusAndExport: --status prints the counts per outcome, the IDs
// to do and the workers; --export writes one record per ID in the format
// of --results, a duplicate line and an invalid ID included.
func TestJobStatusAndExport(t *testing.T) {
	t.Parallel()
	mini := miniredis.RunT(t)
	srv := newMock(t, "s1", "s2")
	ids := writeIDs(t, t.TempDir(), "ids.txt", []string{"s1", "# a comment", "s2", "s1", "..", "gone"})
	redisURL := "redis://" + mini.Addr()
	job := []string{"users", "delete", "--redis", redisURL, "--job", "st"}
	r := runCLI(t, mockEnv(srv), "", append(job, "--file", ids)...)
	if r.code != exitFailure { // "gone" does not exist: failed
		t.Errorf("exit %d, want 1 (one ID failed)", r.code)
	}
	if got := records(t, r.stdout); len(got) != 3 {
		t.Errorf("the worker printed %d records, want 3 (the invalid one was recorded by the load)", len(got))
	}
	st := runCLI(t, mockEnv(srv), "", append(job, "--status")...)
	for _, want := range []string{
		"job st: 4 IDs loaded (1 duplicate lines skipped); done",
		"final records: 4, deleted 2, failed 1, invalid 1",
		"to do: 0 (in flight 0, waiting 0)",
		"workers seen recently: 0",
	} {
		if !strings.Contains(st.stdout, want) {
			t.Errorf("--status lacks %q", want)
		}
	}
	recs := exportJob(t, mockEnv(srv), redisURL, "st")
	want := map[string]string{"s1": outcomeDeleted, "s2": outcomeDeleted, "..": outcomeInvalid, "gone": outcomeFailed}
	if len(recs) != len(want) {
		t.Errorf("exported %d records, want %d", len(recs), len(want))
	}
	for id, outcome := range want {
		if recs[id].Outcome != outcome {
			t.Errorf("%s: exported %+v, want %s", id, recs[id], outcome)
		}
	}
}

// plainBinary returns the CLI built without -race: a fleet of processes
// instrumented by the race detector, on a shared machine, is slow enough
// that its shared limiter's Redis round trips time out and it falls back
// to each process's own limit, which measures the machine, not the job.
// The race-enabled binary runs every other test.
func plainBinary(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return binary
	}
	plainOnce.Do(func() {
		out := filepath.Join(filepath.Dir(binary), "pagecall-plain")
		b, err := exec.CommandContext(t.Context(), "go", "build", "-o", out, ".").CombinedOutput()
		if err != nil {
			plainErr = fmt.Errorf("go build: %v\n%s", err, b)
			return
		}
		plainPath = out
	})
	if plainErr != nil {
		t.Fatal(plainErr)
	}
	return plainPath
}

var (
	plainOnce sync.Once
	plainPath string
	plainErr  error
)

// startWorker starts one worker process of a job (the binary bin),
// bounded by timeout.
func startWorker(t *testing.T, bin string, env []string, timeout time.Duration, args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stdout, &stderr
}

// TestJobSurvivesAKilledWorker is the distributed erasure's promise, with
// separate processes: workers share one job through a real redis-server,
// against the mock, at a fleet rate; one worker is killed with SIGKILL at
// about 30 %. Every ID ends with exactly one final record (deleted); the
// mock's log shows one DELETE per ID, except at most the killed worker's
// in-flight IDs, each of which is recorded as a re-send; the DELETEs of
// all the workers together stay within the rate.
//
// Full size (make test-long): 3 workers, 20,000 IDs, --rate 400. Under
// -short: 2 workers, 500 IDs, --rate 100.
func TestJobSurvivesAKilledWorker(t *testing.T) {
	addr := testRedis(t)
	t.Parallel()
	workers, n, rate, concurrency := 3, 20000, 400, 8
	if testing.Short() {
		workers, n, rate = 2, 500, 100
	}
	const claimAfter = 2 * time.Second
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("job-%05d", i)
	}
	srv := newMock(t, ids...)
	file := writeIDs(t, t.TempDir(), "ids.txt", ids)
	redisURL, name := "redis://"+addr, jobName(t)
	env := mockEnv(srv)
	args := []string{"users", "delete", "--redis", redisURL, "--job", name, "--rate", fmt.Sprint(rate),
		"--concurrency", fmt.Sprint(concurrency), "--claim-after", claimAfter.String()}
	timeout := 2*time.Minute + time.Duration(n/rate)*time.Second

	start := time.Now()
	type worker struct {
		cmd            *exec.Cmd
		stdout, stderr *syncBuffer
	}
	ws := make([]worker, workers)
	bin := plainBinary(t)
	cmd, stdout, stderr := startWorker(t, bin, env, timeout, append(args, "--file", file)...)
	ws[0] = worker{cmd, stdout, stderr}
	waitFor(t, 30*time.Second, func() bool { return strings.Contains(stderr.String(), "job "+name+": created") })
	for i := 1; i < workers; i++ {
		cmd, stdout, stderr := startWorker(t, bin, env, timeout, args...)
		ws[i] = worker{cmd, stdout, stderr}
	}
	deletes := func() int { return len(deletePaths(srv)) }
	waitFor(t, timeout, func() bool { return deletes() >= n*3/10 })
	victim := ws[workers-1]
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := deletes()
	_ = victim.cmd.Wait()
	for _, w := range ws[:workers-1] {
		err := w.cmd.Wait()
		if _, exited := err.(*exec.ExitError); err != nil && !exited {
			t.Fatal(err)
		}
		if code := w.cmd.ProcessState.ExitCode(); code != exitOK {
			t.Errorf("worker exit %d, want 0\nstderr:\n%s", code, w.stderr)
		}
	}
	elapsed := time.Since(start)
	for i, w := range ws {
		t.Logf("worker %d stderr:\n%s", i, w.stderr)
	}

	recs := exportJob(t, env, redisURL, name)
	sent := map[string]int{}
	var at []time.Time
	for _, r := range srv.Requests() {
		if r.Method == "DELETE" {
			sent[strings.TrimPrefix(r.Path, "/v1/users/")]++
			at = append(at, r.Time)
		}
	}
	resent := 0
	for _, id := range ids {
		rec, ok := recs[id]
		switch {
		case !ok:
			t.Errorf("%s has no final record", id)
		case rec.Outcome != outcomeDeleted:
			t.Errorf("%s: final record %+v, want deleted", id, rec)
		}
		switch sent[id] {
		case 1:
			if rec.Resent {
				t.Errorf("%s sent once but recorded as a re-send", id)
			}
		case 2:
			resent++
			if !rec.Resent {
				t.Errorf("%s sent twice, but its record %+v is not marked as a re-send", id, rec)
			}
		default:
			t.Errorf("%s sent %d times", id, sent[id])
		}
		if srv.UserExists(id) {
			t.Errorf("%s was not deleted", id)
		}
	}
	if resent > concurrency {
		t.Errorf("%d IDs sent twice, want at most the killed worker's %d in flight", resent, concurrency)
	}

	// The rate of all the workers together: over the run, and in every
	// one-second window, with the 10 % allowance for the jitter
	// between admission (in each worker) and arrival (at the mock).
	slices.SortFunc(at, time.Time.Compare)
	span := at[len(at)-1].Sub(at[0])
	avg := float64(len(at)-1) / span.Seconds()
	if avg > float64(rate)*1.02 {
		t.Errorf("the workers sent %.1f DELETEs/s together, over the fleet's --rate %d", avg, rate)
	}
	perSecond := make([]int, int(at[len(at)-1].Sub(at[0])/time.Second)+1)
	for _, a := range at {
		perSecond[int(a.Sub(at[0])/time.Second)]++
	}
	t.Logf("DELETEs per second from the first: %v", perSecond)
	peak := 0
	for i, j := 0, 0; i < len(at); i++ {
		for at[i].Sub(at[j]) >= time.Second {
			j++
		}
		peak = max(peak, i-j+1)
	}
	if float64(peak) > float64(rate)*1.1 {
		t.Errorf("%d DELETEs in one second, over the fleet's --rate %d", peak, rate)
	}
	t.Logf("%d workers, %d IDs, --rate %d --concurrency %d --claim-after %v: %v; one killed with SIGKILL after %d DELETEs (%.0f %%); "+
		"%d DELETEs for %d IDs (%.4f per ID), %d re-sent; %.1f DELETEs/s overall, at most %d in one second",
		workers, n, rate, concurrency, claimAfter, elapsed.Round(100*time.Millisecond), killedAt, 100*float64(killedAt)/float64(n),
		len(at), n, float64(len(at))/float64(n), resent, avg, peak)
}

// TestJobTakesOverADeadWorker: IDs held by a worker that died are taken
// over by a worker process after --claim-after. The one the dead worker
// had deleted (its DELETE sent, its record never written) is sent again;
// the API answers "user not found", and it is recorded as deleted and
// marked as a re-send. The one it had not sent is deleted plainly.
func TestJobTakesOverADeadWorker(t *testing.T) {
	t.Parallel()
	mini := miniredis.RunT(t)
	srv := newMock(t, "held-sent", "held-unsent", "free")
	file := writeIDs(t, t.TempDir(), "ids.txt", []string{"held-sent", "held-unsent", "free"})
	redisURL := "redis://" + mini.Addr()
	job := []string{"users", "delete", "--redis", redisURL, "--job", "takeover", "--claim-after", "1s"}

	// Load the job as a loader would, without working on it.
	rdb := redis.NewClient(&redis.Options{Addr: mini.Addr()})
	defer rdb.Close()
	j, err := erasejob.New(rdb, "takeover")
	if err != nil {
		t.Fatal(err)
	}
	lines := fileLines(file)
	fp, err := erasejob.Fingerprint(lines)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Load(t.Context(), lines, erasejob.LoadOptions{Fingerprint: fp, Target: erasejob.Target(newClient(t, srv).BaseURL(), srv.APIKey())}); err != nil {
		t.Fatal(err)
	}
	// A worker that then died took the first two IDs (the package doc
	// names the stream and the group), and had deleted the first.
	if err := rdb.XReadGroup(t.Context(), &redis.XReadGroupArgs{
		Group: "workers", Consumer: "dead", Streams: []string{"pagecall:erase:{takeover}:ids", ">"}, Count: 2,
	}).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := newClient(t, srv).DeleteUser(t.Context(), "held-sent"); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	r := runCLI(t, mockEnv(srv), "", job...)
	if r.code != exitOK {
		t.Fatalf("worker: exit %d", r.code)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("the worker finished in %v: it took the dead worker's IDs before --claim-after 1s", d)
	}
	recs := exportJob(t, mockEnv(srv), redisURL, "takeover")
	if rec := recs["held-sent"]; rec.Outcome != outcomeDeleted || !rec.Resent || rec.Status != 400 {
		t.Errorf("held-sent: %+v, want deleted, resent, with the not-found answer's status 400", rec)
	}
	for _, id := range []string{"held-unsent", "free"} {
		if rec := recs[id]; rec.Outcome != outcomeDeleted || rec.Resent || rec.Status != 200 {
			t.Errorf("%s: %+v, want deleted (200), not a re-send", id, rec)
		}
	}
	if !strings.Contains(r.stderr, "(1 re-sent after a worker died)") {
		t.Errorf("the summary does not count the re-send: %q", r.stderr)
	}
}

// TestDeleteJobItem: only a redelivered ID whose DELETE the API answers
// "user not found" is a re-send counted as deleted; a first delivery
// answered so is a failure, and an aborted DELETE has no final record.
func TestDeleteJobItem(t *testing.T) {
	t.Parallel()
	srv := newMock(t, "exists")
	c := newClient(t, srv)
	for _, tc := range []struct {
		id          string
		redelivered bool
		outcome     string
		resent      bool
	}{
		{"exists", true, outcomeDeleted, false},
		{"missing", true, outcomeDeleted, true},
		{"missing", false, outcomeFailed, false},
	} {
		f, ok := deleteJobItem(t.Context(), c, erasejob.Item{ID: tc.id, Redelivered: tc.redelivered})
		var rec record
		if err := json.Unmarshal(f.Record, &rec); err != nil || !ok {
			t.Fatalf("%+v: ok %v, record %s: %v", tc, ok, f.Record, err)
		}
		if f.Outcome != tc.outcome || rec.Outcome != tc.outcome || f.Resent != tc.resent || rec.Resent != tc.resent {
			t.Errorf("%s (redelivered %v): outcome %s, resent %v, record %s; want %s, resent %v",
				tc.id, tc.redelivered, f.Outcome, f.Resent, f.Record, tc.outcome, tc.resent)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, ok := deleteJobItem(ctx, c, erasejob.Item{ID: "exists"}); ok {
		t.Error("an aborted DELETE got a final record")
	}
}

// TestUserGone: what counts as the API's "user does not exist".
func TestUserGone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&pagecall.APIError{StatusCode: 404}, true},
		{&pagecall.APIError{StatusCode: 400, Message: "user not found"}, true},
		{&pagecall.RequestError{Last: &pagecall.APIError{StatusCode: 400, Message: "User Not Found"}}, true},
		{&pagecall.APIError{StatusCode: 400, Message: "invalid parameters"}, false},
		{&pagecall.APIError{StatusCode: 500, Message: "not found"}, false},
		{errors.New("not found"), false},
		{nil, false},
	} {
		if got := userGone(tc.err); got != tc.want {
			t.Errorf("userGone(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
