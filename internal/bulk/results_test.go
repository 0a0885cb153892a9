//go:build !anyspec

package bulk

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResultsDropsATornLastLineAndAppendsWholeOnes: a file whose last
// line was cut short loses that line at open (Dropped says how much),
// Records gives what was there before, and each Write appends one whole
// line.
func TestResultsDropsATornLastLineAndAppendsWholeOnes(t *testing.T) {
	name := filepath.Join(t.TempDir(), "results.jsonl")
	whole := `{"id":"u1","outcome":"deleted","status":200,"attempts":1}` + "\n"
	torn := `{"id":"u2","outcome":"del`
	if err := os.WriteFile(name, []byte(whole+torn), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := OpenResults(name)
	if err != nil {
		t.Fatal(err)
	}
	if r.Dropped != int64(len(torn)) {
		t.Errorf("Dropped = %d, want %d", r.Dropped, len(torn))
	}
	old, err := r.Records()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(old)
	if string(b) != whole {
		t.Errorf("Records = %q, want %q", b, whole)
	}
	r.Write(Record{ID: "u2", Line: 2, Outcome: OutcomeDeleted, Status: 200, Attempts: 1})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(name)
	want := whole + `{"id":"u2","line":2,"outcome":"deleted","status":200,"attempts":1}` + "\n"
	if string(got) != want {
		t.Errorf("file = %q, want %q", got, want)
	}
}

// TestResultsNilWritesNothing: a run without --results uses a nil
// *Results.
func TestResultsNilWritesNothing(t *testing.T) {
	var r *Results
	r.Write(Record{ID: "u1"})
	if err := r.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}

// TestResultsReportsAFailedWrite: a write that fails is reported by
// Close, and nothing is written after it.
func TestResultsReportsAFailedWrite(t *testing.T) {
	name := filepath.Join(t.TempDir(), "results.jsonl")
	r, err := OpenResults(name)
	if err != nil {
		t.Fatal(err)
	}
	r.f.Close() // every write now fails
	r.Write(Record{ID: "u1"})
	if err := r.Close(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Close = %v, want the write's error", err)
	}
}

// TestResultsAppendsAfterATornLineWithoutRecords: a run without --resume
// never calls Records; its first record still lands right after the last
// whole line, where the torn one was, with no gap.
func TestResultsAppendsAfterATornLineWithoutRecords(t *testing.T) {
	name := filepath.Join(t.TempDir(), "results.jsonl")
	whole := `{"id":"u1","outcome":"deleted","status":200,"attempts":1}` + "\n"
	if err := os.WriteFile(name, []byte(whole+`{"id":"u2","outc`), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := OpenResults(name)
	if err != nil {
		t.Fatal(err)
	}
	r.Write(Record{ID: "u3", Outcome: OutcomeDeleted, Status: 200, Attempts: 1})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(name)
	if want := whole + `{"id":"u3","outcome":"deleted","status":200,"attempts":1}` + "\n"; string(got) != want {
		t.Errorf("file = %q, want %q", got, want)
	}
}
