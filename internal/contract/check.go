// Package contract checks what a Pagecall API answers against the spec
// the SDK was generated from (api/openapi.yaml with api/overlay.yaml) and
// against the published spec alone, for `pagecall contract check`.
//
// Every call goes through the SDK's request loop with Client.Do (its key,
// retries and limits), and every answer, 2xx or not, is checked as it was
// received. Nothing from an answer is reported but its shape, except an
// unknown enum value in a suggested overlay.
package contract

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"gopkg.in/yaml.v3"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/api"
	"github.com/pplink/pagecall-go/internal/overlay"
)

// Prefix starts the ID or name of every object that a run with Write
// creates, followed by a random part unique to the run.
const Prefix = "pagecall-contract-"

// Operation is one operation of the spec as the SDK names it: its
// operationId spelt as the SDK's method (GetUser), method and path
// template.
type Operation struct {
	ID, Method, Path string
}

// Spec is what answers are checked against: the embedded spec with the
// embedded overlay (and any extra overlay after it), and the published
// spec alone.
type Spec struct {
	overlaid *openapi3.T
	// published is nil when the published spec does not load.
	published *openapi3.T
}

// Load loads the embedded spec with the embedded overlay and extra (an
// overlay applied after it; nil for none), and the published spec alone.
// Its errors name the document at fault.
func Load(extra []byte) (*Spec, error) {
	merged, err := overlay.Apply(api.OpenAPI, api.Overlay)
	if err != nil {
		return nil, fmt.Errorf("embedded spec: %w", err)
	}
	if len(extra) > 0 && !noActions(extra) {
		if merged, err = overlay.Apply(merged, extra); err != nil {
			return nil, fmt.Errorf("--overlay: %w", err)
		}
	}
	s := &Spec{}
	if s.overlaid, err = loadDocument(merged); err != nil {
		return nil, fmt.Errorf("spec with overlay: %w", err)
	}
	s.published, _ = loadDocument(api.OpenAPI)
	return s, nil
}

// noActions reports whether overlay is a well-formed overlay with no
// actions, such as a --suggest-overlay file from a run that found nothing
// to suggest: it changes nothing, where the overlay library refuses it.
func noActions(overlay []byte) bool {
	var doc struct {
		Overlay string           `yaml:"overlay"`
		Actions []map[string]any `yaml:"actions"`
	}
	return yaml.Unmarshal(overlay, &doc) == nil && doc.Overlay != "" && len(doc.Actions) == 0
}

// loadDocument parses a self-contained OpenAPI document.
func loadDocument(b []byte) (*openapi3.T, error) {
	ld := openapi3.NewLoader()
	ld.IsExternalRefsAllowed = false
	return ld.LoadFromData(b)
}

// Options is how a run goes.
type Options struct {
	// Write also calls every write operation, on objects the run creates
	// (named Prefix and a random part) and removes at the end.
	Write bool
	// CleanupTimeout bounds the removal of what Write created (zero or
	// less: one minute). It starts when the checks end, and outlives ctx
	// and Stop.
	CleanupTimeout time.Duration
	// Stop, once closed, makes the run start no new check (the removal of
	// what it created still runs). Nil never closes.
	Stop <-chan struct{}
	// Notice gets the run's notices (the prefix of what Write creates, a
	// published spec that does not load). Nil discards them.
	Notice io.Writer
}

// run is one run of the check.
type run struct {
	c    *pagecall.Client
	spec *Spec
	ops  []Operation
	byID map[string]Operation
	stop <-chan struct{}
	rep  *Report
	// stopped is why the run stopped early ("interrupted"), "" while it
	// goes on: the reason given for every operation it did not run.
	stopped string
	// writesStopped is why the writes stopped ("CreateMember failed"):
	// the reason given for every write operation not run. The reads go
	// on.
	writesStopped string
}

// Run checks the answers to every GET operation of ops (and with
// o.Write, every write operation) against spec, and returns the report.
// Only calls are made that ops names.
func Run(ctx context.Context, c *pagecall.Client, spec *Spec, ops []Operation, o Options) *Report {
	notice := o.Notice
	if notice == nil {
		notice = io.Discard
	}
	r := &run{c: c, spec: spec, ops: ops, byID: map[string]Operation{}, stop: o.Stop,
		rep: &Report{Write: o.Write, ops: ops, findings: map[string]*Finding{}, called: map[string]int{},
			attempted: map[string]bool{}, notRun: map[string]string{}, seen: map[string]map[string]bool{}}}
	for _, op := range ops {
		r.byID[op.ID] = op
	}
	if spec.published == nil {
		fmt.Fprintln(notice, "pagecall: the published spec does not load without the overlay: no overlay fix can be confirmed or refuted")
	}
	known := map[string]map[string]any{}
	if !o.Write {
		r.reads(ctx, known)
		r.listNotRun("read-only run; --write runs it")
		return r.rep
	}
	w := &writer{run: r, prefix: Prefix + randomHex(4)}
	fmt.Fprintf(notice, "pagecall: --write: objects are named %s-*\n", w.prefix)
	w.create(ctx, known)
	if r.going(ctx) {
		r.reads(ctx, known)
	}
	// The cleanup outlives Stop and the run's context: it is bounded by
	// CleanupTimeout alone.
	bound := o.CleanupTimeout
	if bound <= 0 {
		bound = time.Minute
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
	w.cleanup(cctx)
	cancel()
	r.listNotRun("not exercised by --write")
	return r.rep
}

// going reports whether the run may start another call, and if not,
// records why it stops.
func (r *run) going(ctx context.Context) bool {
	switch {
	case r.stopped != "":
		return false
	case isClosed(r.stop):
		r.stopped = "interrupted"
	case ctx.Err() != nil:
		r.stopped = "the run ended: " + ctx.Err().Error()
	default:
		return true
	}
	return false
}

// skip records that op was not run, and why, unless it ran or a reason is
// already known.
func (r *run) skip(opID, why string) {
	if !r.rep.attempted[opID] && r.rep.notRun[opID] == "" {
		r.rep.notRun[opID] = why
	}
}

// listNotRun gives every operation the run did not call a reason: the
// one recorded when it was skipped, else why the run stopped, else
// otherwise.
func (r *run) listNotRun(otherwise string) {
	for _, op := range r.ops {
		why := r.stopped
		switch {
		case why != "":
		case op.Method == http.MethodGet:
			why = "no call reached it"
		case r.writesStopped != "":
			why = r.writesStopped
		default:
			why = otherwise
		}
		r.skip(op.ID, why)
	}
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// answer is what one call got: the status and decoded JSON object, or err
// (with status 0) when no answer came back.
type answer struct {
	status int
	body   map[string]any // the decoded JSON object, nil if none
	err    error
}

// ok reports whether the call got a 2xx answer.
func (a answer) ok() bool { return a.err == nil && a.status >= 200 && a.status < 300 }

// gone reports whether the answer to a GET of one object says that the
// object does not exist: a 4xx that is about the object, not about the
// caller (401, 403), the request's pace (429) or its time (408). The API
// answers 400 for an unknown ID where it declares no 404.
func (a answer) gone() bool {
	switch a.status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return a.status >= 400 && a.status < 500
}

// call sends one operation through Client.Do, with the SDK's auth,
// retries and limits, and checks the answer as received, whatever its
// status. body, if not nil, is sent as JSON.
func (r *run) call(ctx context.Context, opID string, pathValues []string, body any) answer {
	op, ok := r.byID[opID]
	if !ok {
		return answer{err: fmt.Errorf("the spec has no operation %s", opID)}
	}
	r.rep.attempted[opID] = true
	path, err := fillTemplate(op.Path, pathValues)
	if err != nil {
		return answer{err: err}
	}
	var raw json.RawMessage
	var info pagecall.ResponseInfo
	err = r.c.Do(ctx, op.Method, path, body, &raw, pagecall.WithResponseInfo(&info))
	var a answer
	var apiErr *pagecall.APIError
	switch {
	case err == nil:
		a.status = info.StatusCode
		r.check(op, received{status: info.StatusCode, contentType: info.Header.Get("Content-Type"), body: raw})
	case errors.As(err, &apiErr):
		// An answer outside 2xx: the SDK keeps its status, header and the
		// start of its body.
		raw = apiErr.Body
		a.status = apiErr.StatusCode
		a.err = fmt.Errorf("%s %s: status %d %s", op.Method, op.Path, apiErr.StatusCode, apiErr.Message)
		r.check(op, received{status: apiErr.StatusCode, contentType: apiErr.Header.Get("Content-Type"), body: raw})
	case errors.Is(err, pagecall.ErrMalformedResponse) && info.StatusCode != 0:
		// A 2xx whose body is not JSON: the SDK refused it unread.
		a.status, a.err = info.StatusCode, err
		r.check(op, received{status: info.StatusCode, contentType: info.Header.Get("Content-Type"), notJSON: true})
	default:
		return answer{err: err} // no answer
	}
	_ = json.Unmarshal(raw, &a.body)
	if a.err == nil && !a.ok() {
		a.err = fmt.Errorf("%s %s: status %d", op.Method, op.Path, a.status)
	}
	return a
}

// fillTemplate writes values into the {parameters} of a path template, in
// order, each escaped as one path segment.
func fillTemplate(template string, values []string) (string, error) {
	segs := strings.Split(template, "/")
	next := 0
	for i, seg := range segs {
		if _, ok := ParamName(seg); !ok {
			continue
		}
		if next == len(values) {
			return "", fmt.Errorf("%s needs %d path values, got %d", template, len(PathParamNames(template)), len(values))
		}
		segs[i] = url.PathEscape(values[next])
		next++
	}
	if next != len(values) {
		return "", fmt.Errorf("%s needs %d path values, got %d", template, next, len(values))
	}
	return strings.Join(segs, "/"), nil
}

// must records a call that got no 2xx answer as a failure of the run, and
// reports whether it got one.
func (r *run) must(opID string, a answer) bool {
	if !a.ok() {
		r.rep.Failures = append(r.rep.Failures, fmt.Sprintf("%s: %v", opID, a.err))
	}
	return a.ok()
}

// check checks one answer against both documents and records what it
// finds.
func (r *run) check(op Operation, ans received) {
	r.rep.Answers++
	r.rep.called[op.ID]++
	mine, _ := checkAnswer(r.spec.overlaid, op.Method, op.Path, ans, func(loc string, v any) {
		if r.rep.seen[loc] == nil {
			r.rep.seen[loc] = map[string]bool{}
		}
		r.rep.seen[loc][openAPIType(v)] = true
	})
	var theirs []issue
	comparable := false
	if r.spec.published != nil {
		theirs, comparable = checkAnswer(r.spec.published, op.Method, op.Path, ans, nil)
	}
	inTheirs := map[string]bool{}
	for _, i := range theirs {
		inTheirs[i.key()] = true
	}
	inMine := map[string]bool{}
	for _, i := range mine {
		inMine[i.key()] = true
		verdict := VerdictDrift
		switch {
		case i.allowed:
			verdict = VerdictUndocumented
		case comparable && !inTheirs[i.key()]:
			verdict = VerdictRefuted
		}
		r.rep.add(op, ans.status, i, verdict, i.problem)
	}
	for _, i := range theirs {
		if !inMine[i.key()] {
			r.rep.add(op, ans.status, i, VerdictConfirmed, "published spec: "+i.problem+" (the overlay's fix accepts the answer)")
		}
	}
}

// reads calls every GET operation, lists first, and follows the first item
// of each list into the operations below it. known holds, by collection
// path ("/rooms", "/rooms/{}/members"), the item to follow; a run with
// Write fills it with the objects it created.
func (r *run) reads(ctx context.Context, known map[string]map[string]any) {
	var gets []Operation
	for _, op := range r.ops {
		if op.Method == http.MethodGet {
			gets = append(gets, op)
		}
	}
	// Fewer path parameters first, so that a list answers before the
	// operations that need its IDs.
	slices.SortStableFunc(gets, func(a, b Operation) int {
		return len(PathParamNames(a.Path)) - len(PathParamNames(b.Path))
	})
	for _, op := range gets {
		if !r.going(ctx) {
			return
		}
		values, missing := fillPath(op.Path, known)
		if missing != "" {
			r.skip(op.ID, "no "+missing+" to follow")
			continue
		}
		a := r.call(ctx, op.ID, values, nil)
		r.must(op.ID, a)
		coll := normalizePath(op.Path)
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
		name, ok := ParamName(seg)
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
		if _, ok := ParamName(seg); ok {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// PathParamNames returns the {names} of a path template in order. The
// CLI names its positional arguments with it.
func PathParamNames(path string) []string {
	var names []string
	for _, seg := range strings.Split(path, "/") {
		if name, ok := ParamName(seg); ok {
			names = append(names, name)
		}
	}
	return names
}

// ParamName reports whether a path segment is a {parameter}, and its name.
func ParamName(seg string) (string, bool) {
	if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
		return seg[1 : len(seg)-1], true
	}
	return "", false
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

// isClosed reports whether c is closed, without blocking; a nil c never
// is.
func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
