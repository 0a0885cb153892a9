package contract

import (
	"bytes"
	"strings"
	"testing"
)

// TestReportFailed: new drift, a failed call or an object left behind
// each fails the run alone; undocumented properties and confirmed overlay
// fixes do not.
func TestReportFailed(t *testing.T) {
	t.Parallel()
	finding := func(verdict string) map[string]*Finding { return map[string]*Finding{"k": {Verdict: verdict}} }
	tests := []struct {
		name string
		rep  Report
		want bool
	}{
		{"clean", Report{}, false},
		{"undocumented", Report{findings: finding(VerdictUndocumented)}, false},
		{"confirmed", Report{findings: finding(VerdictConfirmed)}, false},
		{"drift", Report{findings: finding(VerdictDrift)}, true},
		{"refuted", Report{findings: finding(VerdictRefuted)}, true},
		{"failed call", Report{Failures: []string{"GetUser: status 500"}}, true},
		{"left behind alone", Report{Leftovers: []Leftover{{What: "any room named x"}}}, true},
	}
	for _, tt := range tests {
		if got := tt.rep.Failed(); got != tt.want {
			t.Errorf("%s: Failed() = %t, want %t", tt.name, got, tt.want)
		}
	}
}

// TestSummaryNamesWhatItLeft: an object a GET found is NOT REMOVED; one
// nothing could tell about is MAYBE NOT REMOVED; each with its command.
func TestSummaryNamesWhatItLeft(t *testing.T) {
	t.Parallel()
	rep := &Report{Write: true, Leftovers: []Leftover{
		{What: "user a", Known: true, Why: "DeleteUser failed and GetUser finds it", Fix: "pagecall users delete a"},
		{What: "user b", Why: "DeleteUser failed and GetUser could not tell", Fix: "pagecall users delete b"},
	}}
	var b bytes.Buffer
	rep.Summary(&b, "", "")
	for _, want := range []string{
		"  NOT REMOVED: user a (DeleteUser failed and GetUser finds it): pagecall users delete a\n",
		"  MAYBE NOT REMOVED: user b (DeleteUser failed and GetUser could not tell): pagecall users delete b\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Count(b.String(), "NOT REMOVED: user b") != 1 || strings.Contains(b.String(), "  NOT REMOVED: user b") {
		t.Errorf("user b is reported NOT REMOVED without a GET that finds it:\n%s", b.String())
	}
}

// TestSummaryGroupsWhatWasNotRun: the operations not run are listed on one
// line per reason, in the order of the operations, and those that ran are
// not.
func TestSummaryGroupsWhatWasNotRun(t *testing.T) {
	t.Parallel()
	rep := &Report{
		ops:       []Operation{{ID: "A"}, {ID: "B"}, {ID: "C"}, {ID: "D"}},
		attempted: map[string]bool{"D": true},
		notRun:    map[string]string{"A": "X failed", "B": "no rooms to follow", "C": "X failed", "D": "X failed"},
	}
	var b bytes.Buffer
	rep.Summary(&b, "", "")
	for _, want := range []string{"  not run (X failed): A, C\n", "  not run (no rooms to follow): B\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "D") {
		t.Errorf("an operation that ran is listed:\n%s", b.String())
	}
}

// TestReportKeepsStatusesApart: the same drift in a 200 and in a 400 of
// one operation is two findings, each with its status and count.
func TestReportKeepsStatusesApart(t *testing.T) {
	t.Parallel()
	rep := &Report{findings: map[string]*Finding{}}
	op := Operation{ID: "GetUser", Method: "GET", Path: "/users/{user_id}"}
	i := issue{kind: KindMissing, pointer: "/user"}
	rep.add(op, 200, i, VerdictDrift, "is missing")
	rep.add(op, 400, i, VerdictDrift, "is missing")
	rep.add(op, 200, i, VerdictDrift, "is missing")
	got := rep.Findings()
	if len(got) != 2 {
		t.Fatalf("findings %+v, want one per status", got)
	}
	counts := map[int]int{}
	for _, f := range got {
		counts[f.Status] = f.Count
	}
	if counts[200] != 2 || counts[400] != 1 {
		t.Errorf("counts by status %v, want 200:2 400:1", counts)
	}
}
