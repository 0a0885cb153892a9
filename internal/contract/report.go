package contract

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/pplink/pagecall-go/api"
	"github.com/pplink/pagecall-go/internal/specid"
)

// Output formats of Report.Print.
const (
	FormatJSONL = "jsonl" // one finding a line
	FormatTable = "table" // aligned columns for people
)

// Finding is one line of the report: one way answers to one operation left
// a document, with how many answers showed it.
type Finding struct {
	Operation string `json:"operation"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	Pointer   string `json:"pointer"`
	Kind      string `json:"kind"`
	Verdict   string `json:"verdict"`
	Problem   string `json:"problem"`
	Count     int    `json:"count"`

	issue issue // for suggestions
}

// IsNew reports whether f is new drift: drift, or an overlay change the
// answers refute.
func (f *Finding) IsNew() bool { return f.Verdict == VerdictDrift || f.Verdict == VerdictRefuted }

// Leftover is an object a run with Write created and did not remove.
type Leftover struct {
	// What names the object: "user pagecall-contract-ab12-user".
	What string
	// Known is true when a GET said the object still exists; false when
	// nothing said whether it does (the delete and the check both failed).
	Known bool
	// Why says what went wrong; Fix is the command that removes it.
	Why, Fix string
}

// Report is what a run found and did.
type Report struct {
	// Write is whether the run called the write operations.
	Write bool
	// Answers is how many answers were checked.
	Answers int
	// Failures lists the calls that got no 2xx answer.
	Failures []string
	// Removed lists what the run created and removed: "user ID".
	Removed []string
	// Leftovers lists what it created and did not remove.
	Leftovers []Leftover

	ops       []Operation // as given to Run
	findings  map[string]*Finding
	order     []string
	called    map[string]int    // answers per operation
	attempted map[string]bool   // operations a call was sent for
	notRun    map[string]string // why, by operation the run did not call
	// seen holds, by schema location in the spec with the overlay, the
	// OpenAPI types of the values answers held there.
	seen map[string]map[string]bool
}

// add records one issue found in an answer to op.
func (r *Report) add(op Operation, status int, i issue, verdict, problem string) {
	k := fmt.Sprint(op.ID, status, i.pointer, i.kind, verdict)
	if f := r.findings[k]; f != nil {
		f.Count++
		return
	}
	r.findings[k] = &Finding{Operation: op.ID, Method: op.Method, Path: op.Path, Status: status,
		Pointer: i.pointer, Kind: i.kind, Verdict: verdict, Problem: problem, Count: 1, issue: i}
	r.order = append(r.order, k)
}

// Findings returns the findings: new drift first, then by operation.
func (r *Report) Findings() []*Finding {
	rank := map[string]int{VerdictDrift: 0, VerdictRefuted: 1, VerdictUndocumented: 2, VerdictConfirmed: 3}
	var out []*Finding
	for _, k := range r.order {
		out = append(out, r.findings[k])
	}
	slices.SortStableFunc(out, func(a, b *Finding) int {
		if d := rank[a.Verdict] - rank[b.Verdict]; d != 0 {
			return d
		}
		return strings.Compare(a.Operation+" "+a.Pointer, b.Operation+" "+b.Pointer)
	})
	return out
}

// NotRun returns, in the order of the operations given to Run, each
// operation the run did not call and why: "UpdateUser (CreateUser
// failed)".
func (r *Report) NotRun() []string {
	var out []string
	for _, op := range r.ops {
		if why, ok := r.notRun[op.ID]; ok && !r.attempted[op.ID] {
			out = append(out, op.ID+" ("+why+")")
		}
	}
	return out
}

// notRunGroup is the operations not run for one reason.
type notRunGroup struct {
	why string
	ops []string
}

// notRunByReason groups the operations not run by why, in the order of
// the operations given to Run.
func (r *Report) notRunByReason() []notRunGroup {
	var out []notRunGroup
	for _, op := range r.ops {
		why, ok := r.notRun[op.ID]
		if !ok || r.attempted[op.ID] {
			continue
		}
		i := slices.IndexFunc(out, func(g notRunGroup) bool { return g.why == why })
		if i < 0 {
			out = append(out, notRunGroup{why: why})
			i = len(out) - 1
		}
		out[i].ops = append(out[i].ops, op.ID)
	}
	return out
}

// NewDrift returns the number of new drift findings.
func (r *Report) NewDrift() int {
	n := 0
	for _, f := range r.findings {
		if f.IsNew() {
			n++
		}
	}
	return n
}

// Failed reports whether the run must exit with failure: new drift, a
// call that failed, or an object left behind.
func (r *Report) Failed() bool {
	return r.NewDrift() > 0 || len(r.Failures) > 0 || len(r.Leftovers) > 0
}

// Print writes the findings to w: JSON Lines, or a table.
func (r *Report) Print(w io.Writer, format string) error {
	found := r.Findings()
	if format != FormatTable {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, f := range found {
			if err := enc.Encode(f); err != nil {
				return err
			}
		}
		return nil
	}
	if len(found) == 0 {
		_, err := fmt.Fprintln(w, "No drift: every answer fits the spec.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OPERATION\tROUTE\tSTATUS\tPOINTER\tKIND\tVERDICT\tCOUNT\tPROBLEM")
	for _, f := range found {
		fmt.Fprintf(tw, "%s\t%s %s\t%d\t%s\t%s\t%s\t%d\t%s\n", f.Operation, f.Method, f.Path, f.Status,
			orNone(f.Pointer), f.Kind, f.Verdict, f.Count, f.Problem)
	}
	return tw.Flush()
}

// Summary says what the run did on w: the counts, what it did not run and
// why, what failed, what it removed and what it left behind. overlayFile
// and suggestFile name the files given, "" for none.
func (r *Report) Summary(w io.Writer, overlayFile, suggestFile string) {
	counts := map[string]int{}
	for _, f := range r.findings {
		counts[f.Verdict]++
	}
	mode := "read-only"
	if r.Write {
		mode = "with --write"
	}
	extra := ""
	if overlayFile != "" {
		extra = " + " + overlayFile
	}
	id := specid.Of(api.OpenAPI).GitBlob[:12]
	fmt.Fprintf(w, "pagecall contract check (%s): %d answers from %d operations, checked against spec %s + overlay%s\n",
		mode, r.Answers, len(r.called), id, extra)
	fmt.Fprintf(w, "  new drift: %d (%d drift, %d overlay-refuted); undocumented: %d; overlay fixes confirmed: %d\n",
		r.NewDrift(), counts[VerdictDrift], counts[VerdictRefuted], counts[VerdictUndocumented], counts[VerdictConfirmed])
	for _, g := range r.notRunByReason() {
		fmt.Fprintf(w, "  not run (%s): %s\n", g.why, strings.Join(g.ops, ", "))
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "  failed: %s\n", f)
	}
	if len(r.Removed) > 0 {
		fmt.Fprintf(w, "  removed what --write created: %s\n", strings.Join(r.Removed, ", "))
	}
	for _, l := range r.Leftovers {
		label := "NOT REMOVED"
		if !l.Known {
			label = "MAYBE NOT REMOVED"
		}
		fmt.Fprintf(w, "  %s: %s (%s): %s\n", label, l.What, l.Why, l.Fix)
	}
	if suggestFile != "" {
		fmt.Fprintf(w, "  overlay actions suggested in %s\n", suggestFile)
	}
}

// orNone returns s, or "none" when s is empty.
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
