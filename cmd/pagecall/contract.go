package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/api"
	"github.com/pplink/pagecall-go/internal/overlay"
	"github.com/pplink/pagecall-go/internal/specid"
	"github.com/spf13/cobra"
)

// contractPrefix starts the ID or name of every object that contract check
// --write creates, followed by a random part unique to the run.
const contractPrefix = "pagecall-contract-"

type contractOptions struct {
	client         clientFlags
	write          bool
	format         string
	suggest        string
	overlay        string
	cleanupTimeout time.Duration
}

func newContractCmd(e *env) *cobra.Command {
	contract := &cobra.Command{
		Use:   "contract",
		Short: "Check what the live API answers against the spec this SDK was generated from",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var o contractOptions
	check := &cobra.Command{
		Use:   "check [flags]",
		Short: "Find where the API's answers differ from the spec (read-only unless --write)",
		Long: `Call the API and check every answer (status and body) against the embedded
OpenAPI document with its overlay, the spec the SDK was generated from, and
against the published document without the overlay.

By default it is read-only: it calls every GET operation, following IDs
from list answers to the get operations (the first room, its members and
sessions, the first user). --write also calls every write operation, on
objects it creates itself, named ` + contractPrefix + `<random>; it removes
them all at the end, also after a failure, a timeout or Ctrl-C, and lists
anything it could not remove. It never changes an object it did not create.

Each finding is one line: operation (the operationId, spelt as the SDK's
method: GetUser), method, path
(template), status, pointer (RFC 6901 into the body, * for every item of a
list), kind, verdict and problem. No value from an answer is printed, except
an unknown enum value in a suggested overlay. Verdicts:
  drift              the answer breaks the spec and the overlay does not fix it
  overlay-refuted    the answer breaks the overlay's change; the published
                     spec accepts it
  overlay-confirmed  the published spec refuses the answer; the overlay's fix
                     accepts it: the overlay says what the API does
  undocumented       a property no schema declares (allowed: not new drift)
Kinds: type, null, missing, enum, format, extra, status, body, other.

--suggest-overlay FILE writes overlay actions (api/overlay.yaml's format,
each with its why) that make the spec accept what was observed; --overlay
FILE applies such a file after the embedded overlay, to check them.
Paste the report into an issue when the SDK fails on a real answer.

Exit status: 0 no new drift, 1 new drift (or a call failed, or an object
could not be removed), 2 usage or configuration error, 130 interrupted.`,
		Example: `  pagecall contract check
  pagecall contract check --format jsonl > drift.jsonl
  pagecall contract check --write --suggest-overlay suggested.yaml
  pagecall contract check --overlay suggested.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runContractCheck(cmd.Context(), e, &o)
		},
	}
	fs := check.Flags()
	fs.BoolVar(&o.write, "write", false, "also exercise every write operation on objects the check creates (and removes)")
	fs.StringVarP(&o.format, "format", "o", "", "output: jsonl or table (default: table on a terminal, else jsonl)")
	fs.StringVar(&o.suggest, "suggest-overlay", "", "write overlay actions that would make the spec accept what was observed to this file")
	fs.StringVar(&o.overlay, "overlay", "", "apply this overlay file after the embedded overlay (e.g. a --suggest-overlay file)")
	fs.DurationVar(&o.cleanupTimeout, "cleanup-timeout", time.Minute, "bound on removing what --write created, after the run or an interrupt")
	_ = check.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{formatJSONL, formatTable}, cobra.ShellCompDirectiveNoFileComp))
	o.client.register(fs)
	contract.AddCommand(check)
	return contract
}

// finding is one line of the report: one way answers to one operation left
// a document, with how many answers showed it.
type finding struct {
	Operation string `json:"operation"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	Pointer   string `json:"pointer"`
	Kind      string `json:"kind"`
	Verdict   string `json:"verdict"`
	Problem   string `json:"problem"`
	Count     int    `json:"count"`

	issue issue // for --suggest-overlay
}

// isNew reports whether f is new drift: what makes the exit status 1.
func (f *finding) isNew() bool { return f.Verdict == verdictDrift || f.Verdict == verdictRefuted }

// contractRun is one run of contract check.
type contractRun struct {
	e         *env
	c         *pagecall.Client
	overlaid  *openapi3.T
	published *openapi3.T // nil if the published document does not load
	ops       map[string]cliOperation
	stop      <-chan struct{}

	findings map[string]*finding
	order    []string
	answers  int
	called   map[string]int // answers per operation
	failures []string       // calls that got no answer worth checking
	skipped  []string
	removed  []string // what --write created and removed
	// seen holds, by schema location in the spec with the overlay, the
	// OpenAPI types of the values answers held there.
	seen map[string]map[string]bool
}

// runContractCheck is "pagecall contract check".
func runContractCheck(ctx context.Context, e *env, o *contractOptions) error {
	if o.format != "" && o.format != formatJSONL && o.format != formatTable {
		return usageErrorf("--format %q: want jsonl or table", o.format)
	}
	if o.cleanupTimeout <= 0 {
		return usageErrorf("--cleanup-timeout must be positive")
	}
	var extra []byte
	if o.overlay != "" {
		b, err := os.ReadFile(o.overlay)
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("--overlay: %w", err))
		}
		extra = b
	}
	overlaid, published, err := contractDocuments(extra)
	if err != nil {
		return withCode(exitUsage, err)
	}
	c, err := o.client.newClient(e, newLogger(e.Stderr, o.client.verbose))
	if err != nil {
		return err
	}
	r := &contractRun{e: e, c: c, overlaid: overlaid, published: published, ops: map[string]cliOperation{},
		findings: map[string]*finding{}, called: map[string]int{}, seen: map[string]map[string]bool{}}
	for _, op := range cliOperations {
		r.ops[op.operationID] = op
	}
	if published == nil {
		fmt.Fprintln(e.Stderr, "pagecall: the published spec does not load without the overlay: no overlay fix can be confirmed or refuted")
	}

	ctx, sw := watchSignals(ctx, e.Signals, e.Stderr, "starting no new call; removing what was created; press Ctrl-C again to abort the call in flight")
	defer sw.Release()
	r.stop = sw.Stopped()

	var leftovers []string
	known := map[string]map[string]any{}
	if o.write {
		w := &contractWriter{run: r, prefix: contractPrefix + randomHex(4)}
		fmt.Fprintf(e.Stderr, "pagecall: --write: objects are named %s-*\n", w.prefix)
		w.create(ctx, known)
		if !isClosed(r.stop) && ctx.Err() == nil {
			r.reads(ctx, known)
		}
		// The cleanup outlives a second Ctrl-C and the run's context: it
		// is bounded by --cleanup-timeout alone.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.cleanupTimeout)
		leftovers = w.cleanup(cctx)
		cancel()
	} else {
		r.reads(ctx, known)
	}
	sw.Release()

	if err := r.print(o.format); err != nil {
		return withCode(exitFailure, err)
	}
	if o.suggest != "" {
		if err := writeSuggestions(o.suggest, r.sorted(), r.seen); err != nil {
			return withCode(exitFailure, err)
		}
	}
	newDrift := r.summary(o, leftovers)
	switch {
	case sw.Interrupted():
		return withCode(exitInterrupted, nil)
	case newDrift > 0 || len(r.failures) > 0 || len(leftovers) > 0:
		return withCode(exitFailure, nil)
	}
	return nil
}

// contractDocuments loads the embedded spec with the embedded overlay (and
// extra, if any, after it), and the published spec alone. published is nil
// if it does not load.
func contractDocuments(extra []byte) (overlaid, published *openapi3.T, err error) {
	merged, err := overlay.Apply(api.OpenAPI, api.Overlay)
	if err != nil {
		return nil, nil, fmt.Errorf("embedded spec: %w", err)
	}
	if len(extra) > 0 {
		if merged, err = overlay.Apply(merged, extra); err != nil {
			return nil, nil, fmt.Errorf("--overlay: %w", err)
		}
	}
	load := func(b []byte) (*openapi3.T, error) {
		ld := openapi3.NewLoader()
		ld.IsExternalRefsAllowed = false
		return ld.LoadFromData(b)
	}
	if overlaid, err = load(merged); err != nil {
		return nil, nil, fmt.Errorf("spec with overlay: %w", err)
	}
	published, _ = load(api.OpenAPI)
	return overlaid, published, nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// answer is what one call got: the status and raw body, or err when no
// answer came back.
type answer struct {
	status int
	body   map[string]any // the decoded JSON object, nil if none
	err    error
}

// ok reports whether the call got a 2xx answer.
func (a answer) ok() bool { return a.err == nil && a.status >= 200 && a.status < 300 }

// call sends one operation through the SDK's generated client, with its
// auth, retries and limits, and checks the raw answer. body, if not nil, is
// sent as JSON.
func (r *contractRun) call(ctx context.Context, opID string, pathValues []string, body any) answer {
	op, ok := r.ops[opID]
	if !ok {
		return answer{err: fmt.Errorf("the spec has no operation %s", opID)}
	}
	// The raw answer, through Client.Do (the SDK's auth, retries and
	// limits): a 2xx body as it came, or what an *APIError kept of another.
	path := op.path
	for _, v := range pathValues {
		if i, j := strings.Index(path, "{"), strings.Index(path, "}"); i >= 0 && j > i {
			path = path[:i] + url.PathEscape(v) + path[j+1:]
		}
	}
	var in any
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return answer{err: err}
		}
		in = raw
	}
	var (
		out  json.RawMessage
		info pagecall.ResponseInfo
	)
	status, header, data := 0, http.Header(nil), []byte(nil)
	err := r.c.Do(ctx, op.method, path, in, &out, pagecall.WithResponseInfo(&info))
	var apiErr *pagecall.APIError
	switch {
	case errors.As(err, &apiErr):
		status, header, data = apiErr.StatusCode, apiErr.Header, apiErr.Body
	case err != nil && info.StatusCode == 0:
		return answer{err: err}
	default:
		status, header, data = info.StatusCode, info.Header, out
	}
	resp := &http.Response{StatusCode: status, Header: header}
	r.check(op, resp.StatusCode, resp.Header.Get("Content-Type"), data)
	a := answer{status: resp.StatusCode}
	_ = json.Unmarshal(data, &a.body)
	if !a.ok() {
		msg, _ := a.body["message"].(string)
		a.err = fmt.Errorf("%s %s: status %d %s", op.method, op.path, resp.StatusCode, msg)
	}
	return a
}

// must records a call that got no 2xx answer as a failure of the run, and
// reports whether it got one.
func (r *contractRun) must(opID string, a answer) bool {
	if !a.ok() {
		r.failures = append(r.failures, fmt.Sprintf("%s: %v", opID, a.err))
	}
	return a.ok()
}

// check checks one answer against both documents and records what it
// finds.
func (r *contractRun) check(op cliOperation, status int, contentType string, body []byte) {
	r.answers++
	r.called[op.operationID]++
	mine, _ := checkAnswer(r.overlaid, op.method, op.path, status, contentType, body, func(loc string, v any) {
		if r.seen[loc] == nil {
			r.seen[loc] = map[string]bool{}
		}
		r.seen[loc][openAPIType(v)] = true
	})
	var theirs []issue
	comparable := false
	if r.published != nil {
		theirs, comparable = checkAnswer(r.published, op.method, op.path, status, contentType, body, nil)
	}
	inTheirs := map[string]bool{}
	for _, i := range theirs {
		inTheirs[i.key()] = true
	}
	inMine := map[string]bool{}
	for _, i := range mine {
		inMine[i.key()] = true
		verdict := verdictDrift
		switch {
		case i.allowed:
			verdict = verdictUndocumented
		case comparable && !inTheirs[i.key()]:
			verdict = verdictRefuted
		}
		r.add(op, status, i, verdict, i.problem)
	}
	for _, i := range theirs {
		if !inMine[i.key()] {
			r.add(op, status, i, verdictConfirmed, "published spec: "+i.problem+" (the overlay's fix accepts the answer)")
		}
	}
}

func (r *contractRun) add(op cliOperation, status int, i issue, verdict, problem string) {
	k := fmt.Sprint(op.operationID, status, i.pointer, i.kind, verdict)
	if f := r.findings[k]; f != nil {
		f.Count++
		return
	}
	r.findings[k] = &finding{Operation: op.operationID, Method: op.method, Path: op.path, Status: status,
		Pointer: i.pointer, Kind: i.kind, Verdict: verdict, Problem: problem, Count: 1, issue: i}
	r.order = append(r.order, k)
}

// sorted returns the findings: new drift first, then by operation.
func (r *contractRun) sorted() []*finding {
	rank := map[string]int{verdictDrift: 0, verdictRefuted: 1, verdictUndocumented: 2, verdictConfirmed: 3}
	var out []*finding
	for _, k := range r.order {
		out = append(out, r.findings[k])
	}
	slices.SortStableFunc(out, func(a, b *finding) int {
		if d := rank[a.Verdict] - rank[b.Verdict]; d != 0 {
			return d
		}
		return strings.Compare(a.Operation+" "+a.Pointer, b.Operation+" "+b.Pointer)
	})
	return out
}

// reads calls every GET operation of the spec, lists first, and follows
// the first item of each list into the operations below it. known holds,
// by collection path ("/rooms", "/rooms/{}/members"), the item to follow;
// --write fills it with the objects it created.
func (r *contractRun) reads(ctx context.Context, known map[string]map[string]any) {
	var gets []cliOperation
	for _, op := range cliOperations {
		if op.method == http.MethodGet {
			gets = append(gets, op)
		}
	}
	// Fewer path parameters first, so that a list answers before the
	// operations that need its IDs.
	slices.SortStableFunc(gets, func(a, b cliOperation) int {
		return len(pathParamNames(a.path)) - len(pathParamNames(b.path))
	})
	for _, op := range gets {
		if isClosed(r.stop) || ctx.Err() != nil {
			return
		}
		values, missing := fillPath(op.path, known)
		if missing != "" {
			r.skipped = append(r.skipped, fmt.Sprintf("%s (no %s to follow)", op.operationID, missing))
			continue
		}
		a := r.call(ctx, op.operationID, values, nil)
		r.must(op.operationID, a)
		coll := normalizePath(op.path)
		if _, have := known[coll]; !have && a.ok() {
			if item := firstItem(a.body); item != nil {
				known[coll] = item
			}
		}
	}
}

// fillPath returns the values of path's parameters, each the ID of the
// known item of the collection before it, or the collection it lacks.
func fillPath(path string, known map[string]map[string]any) (values []string, missing string) {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		name, ok := paramName(seg)
		if !ok {
			continue
		}
		coll := normalizePath(strings.Join(segs[:i], "/"))
		item := known[coll]
		id := ""
		for _, field := range []string{name, "id", "user_id"} {
			if s, ok := item[field].(string); ok && s != "" {
				id = s
				break
			}
		}
		if id == "" {
			return nil, strings.TrimPrefix(coll, "/")
		}
		values = append(values, id)
	}
	return values, ""
}

// normalizePath writes every {parameter} of a path as {}.
func normalizePath(path string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if _, ok := paramName(seg); ok {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// firstItem returns the first object of the one array property of a list
// answer, or nil.
func firstItem(body map[string]any) map[string]any {
	for _, name := range slices.Sorted(maps.Keys(body)) {
		if list, ok := body[name].([]any); ok && len(list) > 0 {
			item, _ := list[0].(map[string]any)
			return item
		}
	}
	return nil
}

// print writes the findings to stdout: JSON Lines, or a table.
func (r *contractRun) print(format string) error {
	if format == "" {
		format = formatJSONL
		if r.e.StdoutIsTerminal {
			format = formatTable
		}
	}
	found := r.sorted()
	if format == formatJSONL {
		enc := json.NewEncoder(r.e.Stdout)
		enc.SetEscapeHTML(false)
		for _, f := range found {
			if err := enc.Encode(f); err != nil {
				return err
			}
		}
		return nil
	}
	if len(found) == 0 {
		_, err := fmt.Fprintln(r.e.Stdout, "No drift: every answer fits the spec.")
		return err
	}
	tw := tabwriter.NewWriter(r.e.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OPERATION\tROUTE\tSTATUS\tPOINTER\tKIND\tVERDICT\tCOUNT\tPROBLEM")
	for _, f := range found {
		fmt.Fprintf(tw, "%s\t%s %s\t%d\t%s\t%s\t%s\t%d\t%s\n", f.Operation, f.Method, f.Path, f.Status,
			orNone(f.Pointer), f.Kind, f.Verdict, f.Count, f.Problem)
	}
	return tw.Flush()
}

// summary writes the run's summary to stderr and returns the number of
// new drift findings.
func (r *contractRun) summary(o *contractOptions, leftovers []string) int {
	counts := map[string]int{}
	for _, f := range r.findings {
		counts[f.Verdict]++
	}
	mode := "read-only"
	if o.write {
		mode = "with --write"
	}
	id := specid.Of(api.OpenAPI).GitBlob[:12]
	newDrift := counts[verdictDrift] + counts[verdictRefuted]
	w := r.e.Stderr
	fmt.Fprintf(w, "pagecall contract check (%s): %d answers from %d operations, checked against spec %s + overlay%s\n",
		mode, r.answers, len(r.called), id, map[bool]string{true: " + " + o.overlay, false: ""}[o.overlay != ""])
	fmt.Fprintf(w, "  new drift: %d (%d drift, %d overlay-refuted); undocumented: %d; overlay fixes confirmed: %d\n",
		newDrift, counts[verdictDrift], counts[verdictRefuted], counts[verdictUndocumented], counts[verdictConfirmed])
	for _, s := range r.skipped {
		fmt.Fprintf(w, "  skipped: %s\n", s)
	}
	for _, f := range r.failures {
		fmt.Fprintf(w, "  failed: %s\n", f)
	}
	if len(r.removed) > 0 {
		fmt.Fprintf(w, "  removed what --write created: %s\n", strings.Join(r.removed, ", "))
	}
	for _, l := range leftovers {
		fmt.Fprintf(w, "  NOT REMOVED: %s\n", l)
	}
	if o.suggest != "" {
		fmt.Fprintf(w, "  overlay actions suggested in %s\n", o.suggest)
	}
	return newDrift
}
