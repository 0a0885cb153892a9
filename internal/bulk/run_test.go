package bulk

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
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
