//go:build !anyspec

package bulk

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestRecordWriterWritesOneLinePerRecord: one JSON line per record, HTML
// left unescaped, the line left out for an argument.
func TestRecordWriterWritesOneLinePerRecord(t *testing.T) {
	var b strings.Builder
	w := NewRecordWriter(&b)
	w.Write(Record{ID: "a<b>", Outcome: OutcomeDryRun})
	w.Write(Record{ID: "c", Line: 3, Outcome: OutcomeFailed, Status: 503, Attempts: 2, Error: "boom"})
	want := `{"id":"a<b>","outcome":"dry_run","attempts":0}` + "\n" +
		`{"id":"c","line":3,"outcome":"failed","status":503,"attempts":2,"error":"boom"}` + "\n"
	if b.String() != want || w.Err() != nil {
		t.Errorf("wrote %q (err %v), want %q", b.String(), w.Err(), want)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

// TestRecordWriterStopsAtTheFirstError: after a failed write, nothing
// more is written and Err keeps the first error.
func TestRecordWriterStopsAtTheFirstError(t *testing.T) {
	f := &failWriter{}
	w := NewRecordWriter(f)
	w.Write(Record{ID: "a"})
	w.Write(Record{ID: "b"})
	if f.n != 1 || w.Err() == nil {
		t.Errorf("%d writes, err %v; want 1 and the error", f.n, w.Err())
	}
}

// TestTallySummary: the summary line counts each outcome, and says what
// --resume and deduplication skipped.
func TestTallySummary(t *testing.T) {
	var tl Tally
	for _, o := range []string{OutcomeDeleted, OutcomeDeleted, OutcomeFailed, OutcomeInvalid, OutcomeNotStarted, OutcomeAborted} {
		tl.Add(Record{Outcome: o})
	}
	tl.Resumed, tl.Duplicates = 7, 1
	got := tl.Summary(false, 1500*time.Millisecond, true)
	want := "interrupted: deleted 2, failed 1, invalid 1, not started 1, aborted 1 of 6 in 1.5s (7 already deleted, skipped by --resume) (1 duplicate ID skipped)"
	if got != want {
		t.Errorf("Summary = %q\nwant      %q", got, want)
	}
	dry := Tally{Duplicates: 3}
	dry.Add(Record{Outcome: OutcomeDryRun})
	if got, want := dry.Summary(true, 0, false), "dry run: would delete 1, invalid 0 of 1; nothing sent (3 duplicate IDs skipped)"; got != want {
		t.Errorf("dry Summary = %q, want %q", got, want)
	}
}
