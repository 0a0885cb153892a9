package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/pplink/pagecall-go/internal/bulk"
)

// Short names for the records the CLI tests read (the end-to-end tests of
// users delete live in e2e_test.go and resume_test.go, which run the
// binary).
type record = bulk.Record

const (
	outcomeDeleted    = bulk.OutcomeDeleted
	outcomeFailed     = bulk.OutcomeFailed
	outcomeInvalid    = bulk.OutcomeInvalid
	outcomeDryRun     = bulk.OutcomeDryRun
	outcomeNotStarted = bulk.OutcomeNotStarted
	outcomeAborted    = bulk.OutcomeAborted
)

// TestDeleteKeepsTheLastStatusAfterA503AndATimeout: the built CLI, whose
// first attempt gets a 503 and whose retry gets no answer before
// --timeout, records the ID as failed with status 503 (the last answer
// that came) and 2 attempts, not with no status at all.
func TestDeleteKeepsTheLastStatusAfterA503AndATimeout(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"message":"try later"}`)
			return
		}
		<-r.Context().Done() // the retry hangs until the CLI gives up
	}))
	defer srv.Close()
	r := runCLI(t, cliEnv("PAGECALL_BASE_URL="+srv.URL, "PAGECALL_API_KEY=test-key"), "",
		"users", "delete", "--timeout", "3s", "--max-retries", "1", "--results", t.TempDir()+"/results.jsonl", "u1")
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d requests, want 2 (the 503, then the retry that timed out)", n)
	}
	recs := records(t, r.stdout)
	if got := recs["u1"]; r.code != exitFailure || got.Outcome != outcomeFailed || got.Status != http.StatusServiceUnavailable || got.Attempts != 2 {
		t.Errorf("exit %d, record %+v; want exit 1 and u1 failed with status 503 after 2 attempts", r.code, got)
	}
}
