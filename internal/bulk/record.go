package bulk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Outcomes of one ID in a Record.
const (
	OutcomeDeleted    = "deleted"     // the API deleted the user
	OutcomeFailed     = "failed"      // the API refused, or the network failed
	OutcomeInvalid    = "invalid"     // "", "." or "..": never sent
	OutcomeDryRun     = "dry_run"     // a dry run: would be deleted, nothing sent
	OutcomeNotStarted = "not_started" // stopped before its turn: never sent
	OutcomeAborted    = "aborted"     // in flight when the run was aborted: unknown
)

// Record is the final result of one ID: one line of the JSON Lines output
// of a bulk delete.
type Record struct {
	ID string `json:"id"`
	// Line is the ID's line in the input file (from 1); 0, and left out
	// of the JSON, for an ID given as an argument.
	Line     int64  `json:"line,omitempty"`
	Outcome  string `json:"outcome"`
	Status   int    `json:"status,omitempty"` // HTTP status of the last answer, if any
	Attempts int    `json:"attempts"`         // requests sent for the ID, retries included
	Error    string `json:"error,omitempty"`
	// Drift lists where the 2xx answer left the spec: the user was
	// deleted all the same (see docs/RELIABILITY.md).
	Drift []string `json:"drift,omitempty"`
	// Resent: a DELETE of a distributed job (users delete --job) that a
	// worker which died had most likely sent already; its "not found"
	// answer counts as deleted.
	Resent bool `json:"resent,omitempty"`
}

// notStarted is the record of an item that a stop left unsent.
func notStarted(it Item) Record {
	return Record{ID: it.ID, Line: it.Line, Outcome: OutcomeNotStarted, Error: "interrupted before it started; not sent"}
}

// lineEncoder encodes records as JSON lines, '\n' included, with HTML
// left unescaped, reusing one buffer.
type lineEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newLineEncoder() *lineEncoder {
	e := &lineEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// line returns r as one JSON line; the bytes are valid until the next call.
func (e *lineEncoder) line(r Record) ([]byte, error) {
	e.buf.Reset()
	err := e.enc.Encode(r) // Encode ends the line with '\n'
	return e.buf.Bytes(), err
}

// RecordWriter writes records as JSON Lines and keeps the first error.
type RecordWriter struct {
	w   io.Writer
	e   *lineEncoder
	err error
}

// NewRecordWriter returns a RecordWriter that writes to w, one Write per
// record.
func NewRecordWriter(w io.Writer) *RecordWriter { return &RecordWriter{w: w, e: newLineEncoder()} }

// Write writes r as one line. After an error it writes nothing more.
func (w *RecordWriter) Write(r Record) {
	if w.err != nil {
		return
	}
	var b []byte
	if b, w.err = w.e.line(r); w.err == nil {
		_, w.err = w.w.Write(b)
	}
}

// Err returns the first error of a Write.
func (w *RecordWriter) Err() error { return w.err }

// Tally counts the records of a run by outcome.
type Tally struct {
	Total, Deleted, Failed, Invalid, DryRun, NotStarted, Aborted int
	// Resumed counts the IDs skipped because the run resumed had deleted them.
	Resumed int
	// Duplicates counts the IDs skipped because they appeared before.
	Duplicates int
}

// Add counts r.
func (t *Tally) Add(r Record) {
	t.Total++
	switch r.Outcome {
	case OutcomeDeleted:
		t.Deleted++
	case OutcomeFailed:
		t.Failed++
	case OutcomeInvalid:
		t.Invalid++
	case OutcomeDryRun:
		t.DryRun++
	case OutcomeNotStarted:
		t.NotStarted++
	case OutcomeAborted:
		t.Aborted++
	}
}

// Summary is the line printed at the end of a run, e.g.
// "deleted 4, failed 1, invalid 0 of 5 in 1.2s".
func (t *Tally) Summary(dry bool, d time.Duration, interrupted bool) string {
	var b strings.Builder
	if interrupted {
		b.WriteString("interrupted: ")
	}
	if dry {
		fmt.Fprintf(&b, "dry run: would delete %d, invalid %d of %d; nothing sent", t.DryRun, t.Invalid, t.Total)
	} else {
		fmt.Fprintf(&b, "deleted %d, failed %d, invalid %d", t.Deleted, t.Failed, t.Invalid)
		if t.NotStarted > 0 {
			fmt.Fprintf(&b, ", not started %d", t.NotStarted)
		}
		if t.Aborted > 0 {
			fmt.Fprintf(&b, ", aborted %d", t.Aborted)
		}
		fmt.Fprintf(&b, " of %d in %.1fs", t.Total, d.Seconds())
	}
	if t.Resumed > 0 {
		fmt.Fprintf(&b, " (%d already deleted, skipped by --resume)", t.Resumed)
	}
	switch t.Duplicates {
	case 0:
	case 1:
		b.WriteString(" (1 duplicate ID skipped)")
	default:
		fmt.Fprintf(&b, " (%d duplicate IDs skipped)", t.Duplicates)
	}
	return b.String()
}
