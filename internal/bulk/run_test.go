//go:build !anyspec

package bulk

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pplink/pagecall-go"
)

// fakeDeleter records the IDs it is asked to delete.
type fakeDeleter struct {
	mu  sync.Mutex
	ids []string
}

func (f *fakeDeleter) DeleteUser(_ context.Context, id string, _ ...pagecall.CallOption) (*pagecall.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, id)
	return &pagecall.User{}, nil
}

// sliceSource yields the IDs of a slice, with their index+1 as the line.
type sliceSource struct {
	ids []string
	i   int
}

func (s *sliceSource) Next(context.Context) (Item, error) {
	if s.i == len(s.ids) {
		return Item{}, io.EOF
	}
	s.i++
	return Item{ID: s.ids[s.i-1], Line: int64(s.i)}, nil
}

func TestRunAfterStopStartsNothing(t *testing.T) {
	stop := make(chan struct{})
	close(stop)
	var d fakeDeleter
	var got []Record
	err := Run(t.Context(), stop, &d, &sliceSource{ids: []string{"a", "..", "b", "c"}}, 2, SinkFunc(func(r Record) { got = append(got, r) }))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.ids) != 0 {
		t.Errorf("deleted %q after stop, want nothing", d.ids)
	}
	outcomes := map[string]string{}
	for _, r := range got {
		outcomes[r.ID] = r.Outcome
	}
	want := map[string]string{"a": OutcomeNotStarted, "..": OutcomeInvalid, "b": OutcomeNotStarted, "c": OutcomeNotStarted}
	if len(got) != 4 || !maps.Equal(outcomes, want) {
		t.Errorf("records = %+v, want one per ID with outcomes %v", got, want)
	}
}

func TestRunDeletesEachIDOnceAndCarriesItsLine(t *testing.T) {
	var d fakeDeleter
	ids := []string{"a", "b", "c", "d", "e", "f", "g"}
	n := 0
	err := Run(t.Context(), make(chan struct{}), &d, &sliceSource{ids: ids}, 3, SinkFunc(func(r Record) {
		n++
		if r.Outcome != OutcomeDeleted || r.Status != 200 {
			t.Errorf("record %+v, want deleted 200", r)
		}
		if want := int64(slices.Index(ids, r.ID) + 1); r.Line != want {
			t.Errorf("record %+v has line %d, want %d", r, r.Line, want)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(d.ids)
	if !slices.Equal(d.ids, ids) || n != len(ids) {
		t.Errorf("deleted %q with %d records, want each of %q once", d.ids, n, ids)
	}
}

// failingSink fails at its n-th Put.
type failingSink struct {
	n, puts int
}

var errSink = errors.New("sink full")

func (s *failingSink) Put(Record) error {
	s.puts++
	if s.puts == s.n {
		return errSink
	}
	return nil
}

// TestRunStopsWhenTheSinkFails: a record that cannot be kept stops the
// run: no deletion starts after it, so no ID is deleted without a record
// beyond those already in flight, and Run returns the sink's error.
func TestRunStopsWhenTheSinkFails(t *testing.T) {
	var d fakeDeleter
	src := &sliceSource{ids: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}}
	const workers = 2
	err := Run(t.Context(), make(chan struct{}), &d, src, workers, &failingSink{n: 2})
	if !errors.Is(err, errSink) {
		t.Fatalf("Run = %v, want the sink's error", err)
	}
	// Two records put, and at most the workers' IDs in flight and the
	// one the feeder held when the sink failed.
	if max := 2 + workers + 1; len(d.ids) > max {
		t.Errorf("deleted %d IDs after the sink failed at the 2nd record, want at most %d", len(d.ids), max)
	}
	if src.i == len(src.ids) {
		t.Error("the whole source was taken after the sink failed")
	}
}

// TestRunKeepsTheLastStatusAfterA503AndATimeout: an ID whose first
// attempt gets a 503 and whose retry times out is recorded as failed with
// status 503, the last answer that came, and 2 attempts.
func TestRunKeepsTheLastStatusAfterA503AndATimeout(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"message":"try later"}`)
			return
		}
		<-r.Context().Done() // the retry hangs until the client gives up
	}))
	defer srv.Close()
	c, err := pagecall.NewClient(
		pagecall.WithAPIKey("test-key"),
		pagecall.WithBaseURL(srv.URL),
		pagecall.WithInsecureHTTP(),
		pagecall.WithTimeout(500*time.Millisecond),
		pagecall.WithRetryPolicy(pagecall.RetryPolicy{MaxRetries: 1, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}),
		pagecall.WithHooks(StatusHooks()),
	)
	if err != nil {
		t.Fatal(err)
	}
	var got []Record
	err = Run(t.Context(), make(chan struct{}), c, &sliceSource{ids: []string{"u1"}}, 1, SinkFunc(func(r Record) { got = append(got, r) }))
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d requests, want 2 (the 503, then the retry that timed out)", n)
	}
	if len(got) != 1 || got[0].Outcome != OutcomeFailed || got[0].Status != http.StatusServiceUnavailable || got[0].Attempts != 2 {
		t.Errorf("records %+v, want one failed with status 503 and 2 attempts", got)
	}
}

// TestDryRunSendsNothingAndFlagsInvalidIDs: a dry run puts dry_run for a
// valid ID and invalid for one that could not be sent.
func TestDryRunSendsNothingAndFlagsInvalidIDs(t *testing.T) {
	var got []Record
	err := DryRun(t.Context(), &sliceSource{ids: []string{"a", "..", ""}}, SinkFunc(func(r Record) { got = append(got, r) }))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{OutcomeDryRun, OutcomeInvalid, OutcomeInvalid}
	var outcomes []string
	for _, r := range got {
		outcomes = append(outcomes, r.Outcome)
	}
	if !slices.Equal(outcomes, want) {
		t.Errorf("outcomes %q, want %q", outcomes, want)
	}
}

// failDeleter refuses every deletion.
type failDeleter struct{}

func (failDeleter) DeleteUser(context.Context, string, ...pagecall.CallOption) (*pagecall.User, error) {
	return nil, errors.New("boom")
}

// TestRunRecordsCarryTheirLineWhateverTheOutcome: the records of a failed,
// an invalid and a not-started ID carry the ID's line, as a deleted one
// does, so that a resumed run and a reader of --results can place them.
func TestRunRecordsCarryTheirLineWhateverTheOutcome(t *testing.T) {
	lines := func(stop chan struct{}, d Deleter, ids ...string) map[string]Record {
		got := map[string]Record{}
		if err := Run(t.Context(), stop, d, &sliceSource{ids: ids}, 1, SinkFunc(func(r Record) { got[r.ID] = r })); err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := lines(make(chan struct{}), failDeleter{}, "a", "..")
	stopped := make(chan struct{})
	close(stopped)
	maps.Copy(got, lines(stopped, &fakeDeleter{}, "x", "b"))
	want := map[string]Record{
		"a":  {Outcome: OutcomeFailed, Line: 1},
		"..": {Outcome: OutcomeInvalid, Line: 2},
		"b":  {Outcome: OutcomeNotStarted, Line: 2},
	}
	for id, w := range want {
		if r := got[id]; r.Outcome != w.Outcome || r.Line != w.Line {
			t.Errorf("%s: %+v, want %s at line %d", id, r, w.Outcome, w.Line)
		}
	}
}

// TestDeleteOneAfterStopSendsNothing: a job handed out just before stop
// closed is answered not_started by its worker, and not sent.
func TestDeleteOneAfterStopSendsNothing(t *testing.T) {
	stop := make(chan struct{})
	close(stop)
	var d fakeDeleter
	r := deleteOne(t.Context(), stop, &d, Item{ID: "a", Line: 3})
	if len(d.ids) != 0 || r.Outcome != OutcomeNotStarted || r.Line != 3 {
		t.Errorf("sent %q, record %+v; want nothing sent and not_started at line 3", d.ids, r)
	}
}

// cancelDeleter stands for a deletion cut off by a second interrupt: it
// cancels the run's context and fails with the cancellation.
type cancelDeleter struct{ cancel context.CancelFunc }

func (c cancelDeleter) DeleteUser(ctx context.Context, _ string, _ ...pagecall.CallOption) (*pagecall.User, error) {
	c.cancel()
	return nil, ctx.Err()
}

// TestRunRecordsADeletionCutOffByAbortAsAborted: a deletion that fails
// because the run's context was cancelled may have reached the API: it is
// aborted (unknown), not failed.
func TestRunRecordsADeletionCutOffByAbortAsAborted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []Record
	err := Run(ctx, make(chan struct{}), cancelDeleter{cancel}, &sliceSource{ids: []string{"a"}}, 1, SinkFunc(func(r Record) { got = append(got, r) }))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Outcome != OutcomeAborted {
		t.Errorf("records %+v, want one aborted", got)
	}
}

// TestRunCountsTheAttemptsOfADeletion: a deletion that succeeds on its
// retry records 2 attempts and the status of the answer that succeeded.
func TestRunCountsTheAttemptsOfADeletion(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"message":"try later"}`)
			return
		}
		_, _ = io.WriteString(w, `{"user":{"id":"x","user_id":"u1","name":"n","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z"}}`)
	}))
	defer srv.Close()
	c, err := pagecall.NewClient(
		pagecall.WithAPIKey("test-key"),
		pagecall.WithBaseURL(srv.URL),
		pagecall.WithInsecureHTTP(),
		pagecall.WithRetryPolicy(pagecall.RetryPolicy{MaxRetries: 1, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}),
	)
	if err != nil {
		t.Fatal(err)
	}
	var got []Record
	err = Run(t.Context(), make(chan struct{}), c, &sliceSource{ids: []string{"u1"}}, 1, SinkFunc(func(r Record) { got = append(got, r) }))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Outcome != OutcomeDeleted || got[0].Attempts != 2 || got[0].Status != 200 {
		t.Errorf("records %+v, want one deleted with status 200 and 2 attempts", got)
	}
}

// TestRunKeepsTheDriftOfADeletedUser: a 2xx answer whose body left the
// spec is a deletion all the same, and its record lists the drift.
func TestRunKeepsTheDriftOfADeletedUser(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"user":{"id":"x","user_id":"u1","name":"n","created_at":5,"updated_at":"2024-01-01T00:00:00Z"}}`)
	}))
	defer srv.Close()
	c, err := pagecall.NewClient(pagecall.WithAPIKey("test-key"), pagecall.WithBaseURL(srv.URL), pagecall.WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	var got []Record
	err = Run(t.Context(), make(chan struct{}), c, &sliceSource{ids: []string{"u1"}}, 1, SinkFunc(func(r Record) { got = append(got, r) }))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Outcome != OutcomeDeleted || len(got[0].Drift) != 1 || !strings.Contains(got[0].Drift[0], "/user/created_at") {
		t.Errorf("records %+v, want one deleted with a drift at /user/created_at", got)
	}
}

// TestFeedTakesNothingAfterTheSinkFailed: once the sink has failed (halt
// closed), the feeder takes no further Item from the Source, so that the
// Items left stay there for the next run (the Sink's contract).
func TestFeedTakesNothingAfterTheSinkFailed(t *testing.T) {
	halt := make(chan struct{})
	close(halt)
	src := &sliceSource{ids: []string{"a", "b"}}
	err := feed(t.Context(), make(chan struct{}), halt, src, make(chan Item), make(chan Record))
	if err != nil || src.i != 0 {
		t.Errorf("feed = %v and took %d Items after the sink failed, want nil and 0", err, src.i)
	}
}
