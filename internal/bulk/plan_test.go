//go:build !anyspec

package bulk

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// items drains p.
func items(t *testing.T, p *Plan) []Item {
	t.Helper()
	var out []Item
	for {
		it, err := p.Next(t.Context())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, it)
	}
}

func ids(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func newTestPlan(t *testing.T, in Input, o PlanOptions) *Plan {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	p, err := NewPlan(in, o)
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestPlanKeepsEachIDOnceAtItsFirstPosition: the input rules (trimming,
// blank lines and comments) and exact deduplication, first position kept.
func TestPlanKeepsEachIDOnceAtItsFirstPosition(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		input    *string // nil: no --file
		want     []string
		wantDups int
	}{
		{name: "args only", args: []string{"a", "b"}, want: []string{"a", "b"}},
		{name: "args are kept verbatim, even empty or padded", args: []string{"", " a ", ".", "x\ny"}, want: []string{"", " a ", ".", "x\ny"}},
		{name: "duplicate args", args: []string{"a", "b", "a", "a"}, want: []string{"a", "b"}, wantDups: 2},
		{name: "lines", input: ptr("a\nb\nc\n"), want: []string{"a", "b", "c"}},
		{name: "no final newline", input: ptr("a\nb"), want: []string{"a", "b"}},
		{name: "blank lines and comments skipped", input: ptr("\n# heading\na\n\n   \n  # indented comment\nb\n"), want: []string{"a", "b"}},
		{name: "white space and CRLF trimmed", input: ptr("  a  \r\n\tb\r\n"), want: []string{"a", "b"}},
		{name: "a # inside an ID is part of it", input: ptr("a#1\n"), want: []string{"a#1"}},
		{name: "dot IDs are kept for the caller to reject", input: ptr(".\n..\n"), want: []string{".", ".."}},
		{name: "duplicates across args and lines keep the first position", args: []string{"b", "a"}, input: ptr("a\nc\nb\nc\n"), want: []string{"b", "a", "c"}, wantDups: 3},
		{name: "IDs that differ only in case or a prefix are different", input: ptr("a\nA\nab\na\n"), want: []string{"a", "A", "ab"}, wantDups: 1},
		{name: "empty input", input: ptr(""), want: nil},
		{name: "only comments", input: ptr("# nothing\n\n"), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Args: tt.args, Name: "test"}
			if tt.input != nil {
				in.File = strings.NewReader(*tt.input)
			}
			p := newTestPlan(t, in, PlanOptions{})
			got := ids(items(t, p))
			if !slices.Equal(got, tt.want) {
				t.Errorf("IDs = %q, want %q", got, tt.want)
			}
			if p.Duplicates != tt.wantDups {
				t.Errorf("Duplicates = %d, want %d", p.Duplicates, tt.wantDups)
			}
			if p.Pending != len(tt.want) {
				t.Errorf("Pending = %d, want %d", p.Pending, len(tt.want))
			}
		})
	}
}

// TestPlanReportsBadInput: a line too long for an ID list, and a read
// error, fail NewPlan with an error that names the input.
func TestPlanReportsBadInput(t *testing.T) {
	t.Run("line too long", func(t *testing.T) {
		_, err := NewPlan(Input{File: strings.NewReader(strings.Repeat("x", MaxIDLine+1) + "\n"), Name: "big.txt"}, PlanOptions{Dir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "big.txt") || !strings.Contains(err.Error(), "longer than") {
			t.Fatalf("err = %v, want a line-too-long error naming big.txt", err)
		}
	})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := NewPlan(Input{File: iotest.ErrReader(boom), Name: "stdin"}, PlanOptions{Dir: t.TempDir()})
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "stdin") {
			t.Fatalf("err = %v, want boom naming stdin", err)
		}
	})
}

func ptr(s string) *string { return &s }

// TestPlanCarriesFileLineNumbers: an Item from the file carries its line
// in the file, blank lines and comments counted; an argument carries 0.
func TestPlanCarriesFileLineNumbers(t *testing.T) {
	p := newTestPlan(t, Input{Args: []string{"arg"}, File: strings.NewReader("# c\na\n\nb\na\nc\n")}, PlanOptions{})
	got := items(t, p)
	want := []Item{{ID: "arg", Line: 0}, {ID: "a", Line: 2}, {ID: "b", Line: 4}, {ID: "c", Line: 6}}
	if !slices.Equal(got, want) {
		t.Errorf("items = %+v, want %+v", got, want)
	}
}

// TestPlanSpillsToDiskAndStaysExact: with a memory limit far below the
// input, the sort spills many runs, and the result is still every ID
// once, in first-appearance order, with the exact duplicate count.
func TestPlanSpillsToDiskAndStaysExact(t *testing.T) {
	const n = 20000
	var in strings.Builder
	var want []string
	for i := range n {
		id := fmt.Sprintf("user-%05d", (i*7919)%n) // a permutation of 0..n-1
		want = append(want, id)
		in.WriteString(id + "\n")
	}
	for i := 0; i < n; i += 3 { // a third again, in another order
		fmt.Fprintf(&in, "user-%05d\n", n-1-i)
	}
	dir := t.TempDir()
	var runs int
	p := newTestPlan(t, Input{File: strings.NewReader(in.String())}, PlanOptions{Dir: dir, MemLimit: 16 << 10})
	// The run files are gone once NewPlan returns; count them through
	// a sorter of the same limit instead.
	s := newSorter(t.TempDir(), 16<<10)
	for i := range n {
		if err := s.add([]byte(fmt.Sprintf("user-%05d", i)), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	runs = len(s.runs)
	s.close()
	if runs < 10 {
		t.Fatalf("a %d-byte limit made %d runs for %d IDs: the test does not spill", 16<<10, runs, n)
	}
	got := ids(items(t, p))
	if !slices.Equal(got, want) {
		t.Errorf("got %d IDs, want the %d unique ones in first order", len(got), len(want))
	}
	if wantDups := (n + 2) / 3; p.Duplicates != wantDups {
		t.Errorf("Duplicates = %d, want %d", p.Duplicates, wantDups)
	}
	left, _ := os.ReadDir(dir)
	for _, d := range left {
		sub, _ := os.ReadDir(dir + "/" + d.Name())
		for _, f := range sub {
			if strings.HasPrefix(f.Name(), "run-") {
				t.Errorf("run file %s left after NewPlan", f.Name())
			}
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("Close left %d entries in the temporary directory", len(left))
	}
}

// TestPlanSkipsOnlyIDsRecordedAsDeleted: with the records of a resumed
// run, the IDs recorded as deleted are skipped, by exact ID: the other
// outcomes, torn or foreign lines, and IDs that are prefixes of a deleted
// one are kept. Old records without a line number count like new ones.
func TestPlanSkipsOnlyIDsRecordedAsDeleted(t *testing.T) {
	done := strings.Join([]string{
		`{"id":"u1","outcome":"deleted","status":200,"attempts":1}`,          // old format: no line
		`{"id":"u3","line":3,"outcome":"deleted","status":200,"attempts":1}`, // new format
		`{"id":"u4","line":4,"outcome":"failed","status":503,"attempts":3}`,  // not deleted
		`{"id":"u5","line":5,"outcome":"not_started","attempts":0}`,          // not sent
		`{"id":"u6","line":6,"outcome":"aborted","attempts":1}`,              // unknown
		`not a record`, // ignored
		`{"id":"u1","line":9,"outcome":"deleted","status":200,"attempts":1}`,  // deleted twice: still one skip
		`{"id":"u7x","line":7,"outcome":"deleted","status":200,"attempts":1}`, // not u7
	}, "\n") + "\n"
	in := Input{File: strings.NewReader("u1\nu2\nu3\nu4\nu5\nu6\nu7\nu3\n")}
	for _, limit := range []int{0, 64} { // in memory, and spilled to a run per record
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			in.File.(*strings.Reader).Seek(0, io.SeekStart)
			p := newTestPlan(t, in, PlanOptions{Done: strings.NewReader(done), MemLimit: limit})
			got := ids(items(t, p))
			if want := []string{"u2", "u4", "u5", "u6", "u7"}; !slices.Equal(got, want) {
				t.Errorf("IDs = %q, want %q", got, want)
			}
			if p.Done != 2 || p.Duplicates != 1 || p.Pending != 5 {
				t.Errorf("Done %d, Duplicates %d, Pending %d; want 2, 1, 5", p.Done, p.Duplicates, p.Pending)
			}
		})
	}
}

// TestPlanFailsWhenTheResumedRecordsCannotBeRead: a read error in the
// records of the run resumed fails NewPlan, rather than resuming as if
// fewer IDs were done and sending the rest again.
func TestPlanFailsWhenTheResumedRecordsCannotBeRead(t *testing.T) {
	boom := errors.New("boom")
	done := io.MultiReader(strings.NewReader(`{"id":"u1","outcome":"deleted"}`+"\n"), iotest.ErrReader(boom))
	_, err := NewPlan(Input{File: strings.NewReader("u1\nu2\n")}, PlanOptions{Dir: t.TempDir(), Done: done})
	if !errors.Is(err, boom) {
		t.Fatalf("NewPlan = %v, want the records' read error", err)
	}
}

// TestPlanReportsATruncatedSpool: a spool entry cut short is an error
// from Next, never the clean end (io.EOF) that would end a run early with
// the IDs after it silently left out.
func TestPlanReportsATruncatedSpool(t *testing.T) {
	p := newTestPlan(t, Input{File: strings.NewReader("aaaa\nbbbb\n")}, PlanOptions{})
	fi, err := p.spool.Stat()
	if err != nil {
		t.Fatal(err)
	}
	// The last entry keeps its line and length but loses its 4 ID bytes:
	// a read that finds no byte at all, io.EOF to the reader below.
	if err := p.spool.Truncate(fi.Size() - int64(len("bbbb"))); err != nil {
		t.Fatal(err)
	}
	if it, err := p.Next(t.Context()); err != nil || it.ID != "aaaa" {
		t.Fatalf("first Next = %+v, %v; want aaaa", it, err)
	}
	it, err := p.Next(t.Context())
	if err == nil || errors.Is(err, io.EOF) {
		t.Errorf("Next on a truncated entry = %+v, %v; want an error that is not io.EOF", it, err)
	}
}

// TestPlanRemovesItsTemporaryFilesWhenItFails: a NewPlan that fails (a
// bad input) leaves nothing in the temporary directory.
func TestPlanRemovesItsTemporaryFilesWhenItFails(t *testing.T) {
	dir := t.TempDir()
	_, err := NewPlan(Input{File: iotest.ErrReader(errors.New("boom")), Name: "stdin"}, PlanOptions{Dir: dir})
	if err == nil {
		t.Fatal("NewPlan succeeded on a failing input")
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("a failed NewPlan left %d entries in the temporary directory", len(left))
	}
}

// TestPlanRemovesTheResumedRecordsRunsOnReturn: the run files of the
// resumed run's deleted IDs, spilled beyond MemLimit, are gone once
// NewPlan returns: only the spool stays for the run's whole length.
func TestPlanRemovesTheResumedRecordsRunsOnReturn(t *testing.T) {
	var done, in strings.Builder
	for i := range 300 {
		fmt.Fprintf(&done, `{"id":"u%03d","outcome":"deleted"}`+"\n", i)
		fmt.Fprintf(&in, "u%03d\n", i)
	}
	dir := t.TempDir()
	p := newTestPlan(t, Input{File: strings.NewReader(in.String())}, PlanOptions{Dir: dir, MemLimit: 256, Done: strings.NewReader(done.String())})
	if p.Done != 300 {
		t.Fatalf("Done = %d, want 300", p.Done)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "*", "run-*"))
	if len(runs) != 0 {
		t.Errorf("%d run files left after NewPlan returned", len(runs))
	}
}
