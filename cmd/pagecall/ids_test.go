package main

import (
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/pplink/pagecall-go"
)

func TestReadIDs(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		input    *string // nil: no --file
		want     []string
		wantDups int
	}{
		{name: "args only", args: []string{"a", "b"}, want: []string{"a", "b"}},
		{name: "args are kept verbatim, even empty or padded", args: []string{"", " a ", "."}, want: []string{"", " a ", "."}},
		{name: "duplicate args", args: []string{"a", "b", "a", "a"}, want: []string{"a", "b"}, wantDups: 2},
		{name: "lines", input: ptr("a\nb\nc\n"), want: []string{"a", "b", "c"}},
		{name: "no final newline", input: ptr("a\nb"), want: []string{"a", "b"}},
		{name: "blank lines and comments skipped", input: ptr("\n# heading\na\n\n   \n  # indented comment\nb\n"), want: []string{"a", "b"}},
		{name: "white space and CRLF trimmed", input: ptr("  a  \r\n\tb\r\n"), want: []string{"a", "b"}},
		{name: "a # inside an ID is part of it", input: ptr("a#1\n"), want: []string{"a#1"}},
		{name: "dot IDs are kept for the caller to reject", input: ptr(".\n..\n"), want: []string{".", ".."}},
		{name: "duplicates across args and lines keep the first position", args: []string{"b", "a"}, input: ptr("a\nc\nb\nc\n"), want: []string{"b", "a", "c"}, wantDups: 3},
		{name: "empty input", input: ptr(""), want: nil},
		{name: "only comments", input: ptr("# nothing\n\n"), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader
			if tt.input != nil {
				r = strings.NewReader(*tt.input)
			}
			got, err := readIDs(tt.args, r, "test")
			if err != nil {
				t.Fatalf("readIDs: %v", err)
			}
			if !slices.Equal(got.IDs, tt.want) {
				t.Errorf("IDs = %q, want %q", got.IDs, tt.want)
			}
			if got.Duplicates != tt.wantDups {
				t.Errorf("Duplicates = %d, want %d", got.Duplicates, tt.wantDups)
			}
		})
	}
}

func TestReadIDsErrors(t *testing.T) {
	t.Run("line too long", func(t *testing.T) {
		_, err := readIDs(nil, strings.NewReader(strings.Repeat("x", maxIDLine+1)+"\n"), "big.txt")
		if err == nil || !strings.Contains(err.Error(), "big.txt") || !strings.Contains(err.Error(), "longer than") {
			t.Fatalf("err = %v, want a line-too-long error naming big.txt", err)
		}
	})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := readIDs(nil, iotest.ErrReader(boom), "stdin")
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "stdin") {
			t.Fatalf("err = %v, want boom naming stdin", err)
		}
	})
}

func ptr(s string) *string { return &s }

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

func TestDeleteAllAfterStopStartsNothing(t *testing.T) {
	stop := make(chan struct{})
	close(stop)
	var d fakeDeleter
	var got []record
	deleteAll(t.Context(), stop, &d, []string{"a", "..", "b", "c"}, 2, func(r record) { got = append(got, r) })
	if len(d.ids) != 0 {
		t.Errorf("deleted %q after stop, want nothing", d.ids)
	}
	outcomes := map[string]string{}
	for _, r := range got {
		outcomes[r.ID] = r.Outcome
	}
	want := map[string]string{"a": outcomeNotStarted, "..": outcomeInvalid, "b": outcomeNotStarted, "c": outcomeNotStarted}
	if len(got) != 4 || !maps.Equal(outcomes, want) {
		t.Errorf("records = %+v, want one per ID with outcomes %v", got, want)
	}
}

func TestDeleteAllDeletesEachIDOnce(t *testing.T) {
	var d fakeDeleter
	ids := []string{"a", "b", "c", "d", "e", "f", "g"}
	n := 0
	deleteAll(t.Context(), make(chan struct{}), &d, ids, 3, func(r record) {
		n++
		if r.Outcome != outcomeDeleted || r.Status != 200 {
			t.Errorf("record %+v, want deleted 200", r)
		}
	})
	slices.Sort(d.ids)
	if !slices.Equal(d.ids, ids) || n != len(ids) {
		t.Errorf("deleted %q with %d records, want each of %q once", d.ids, n, ids)
	}
}
