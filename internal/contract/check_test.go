// These tests are written against the checked-in spec's own operations
// (their names, paths and answers), which older published versions lack or
// name otherwise, so `make spec-history` leaves them out (-tags anyspec).

//go:build !anyspec

package contract

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/api"
	"github.com/pplink/pagecall-go/pagecalltest"
)

// testSpec loads the embedded spec and its operations, named as the SDK
// names them (the overlaid operationId with a capital, as the CLI's
// generated table has them).
func testSpec(t *testing.T) (*Spec, []Operation) {
	t.Helper()
	spec, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	var ops []Operation
	for path, item := range spec.overlaid.Paths.Map() {
		for method, op := range item.Operations() {
			ops = append(ops, Operation{ID: strings.ToUpper(op.OperationID[:1]) + op.OperationID[1:], Method: method, Path: path})
		}
	}
	slices.SortFunc(ops, func(a, b Operation) int { return strings.Compare(a.Path+a.Method, b.Path+b.Method) })
	return spec, ops
}

// testClient is a client of srv that never retries, so that one fault is
// one failed call.
func testClient(t *testing.T, srv *pagecalltest.Server) *pagecall.Client {
	t.Helper()
	c, err := pagecall.NewClient(pagecall.WithAPIKey(srv.APIKey()), pagecall.WithBaseURL(srv.URL()),
		pagecall.WithMaxRetries(0), pagecall.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testRun runs the check against srv.
func testRun(t *testing.T, srv *pagecalltest.Server, o Options) (*Report, []Operation) {
	t.Helper()
	spec, ops := testSpec(t)
	if o.CleanupTimeout == 0 {
		o.CleanupTimeout = 10 * time.Second
	}
	return Run(t.Context(), testClient(t, srv), spec, ops, o), ops
}

// TestCallKeepsTheStatusOfAnErrorAnswer: an answer outside 2xx comes back
// from Client.Do as an error, and the call keeps its status, which is what
// tells "the object is gone" (the API's 400 for an unknown user) from "no
// answer" (status 0).
func TestCallKeepsTheStatusOfAnErrorAnswer(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	spec, ops := testSpec(t)
	r := &run{c: testClient(t, srv), spec: spec, ops: ops, byID: map[string]Operation{},
		rep: &Report{findings: map[string]*Finding{}, called: map[string]int{}, attempted: map[string]bool{},
			notRun: map[string]string{}, seen: map[string]map[string]bool{}}}
	for _, op := range ops {
		r.byID[op.ID] = op
	}
	a := r.call(t.Context(), "GetUser", []string{"nobody-" + randomHex(4)}, nil)
	if a.status != http.StatusBadRequest || a.ok() || !a.gone() || a.err == nil {
		t.Errorf("GetUser of an unknown user: status %d, ok %t, gone %t, err %v; want 400, not ok, gone, an error", a.status, a.ok(), a.gone(), a.err)
	}
	if r.rep.Answers != 1 {
		t.Errorf("the error answer was not checked: %d answers", r.rep.Answers)
	}

	// Two: net/http resends a GET once when a reused connection resets.
	srv.Inject(pagecalltest.Fault{Route: "GET /users/{user_id}", Reset: true, Count: 2})
	a = r.call(t.Context(), "GetUser", []string{"someone"}, nil)
	if a.status != 0 || a.gone() || a.err == nil {
		t.Errorf("no answer: status %d, gone %t, err %v; want 0, not gone, an error", a.status, a.gone(), a.err)
	}
}

// TestAnswerGoneOnlyForAnAnswerAboutTheObject: a 4xx about the object says
// it is gone; one about the caller, the pace or the time says nothing, nor
// does a 5xx or no answer.
func TestAnswerGoneOnlyForAnAnswerAboutTheObject(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{400: true, 404: true, 410: true, 0: false, 200: false,
		401: false, 403: false, 408: false, 429: false, 500: false, 502: false, 503: false} {
		if got := (answer{status: status}).gone(); got != want {
			t.Errorf("status %d: gone %t, want %t", status, got, want)
		}
	}
}

// TestRunReadOnlyCallsOnlyGets: without Write, only GET operations are
// sent, and every write operation is listed as not run, with why.
func TestRunReadOnlyCallsOnlyGets(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	rep, ops := testRun(t, srv, Options{})
	for _, req := range srv.Requests() {
		if req.Method != http.MethodGet {
			t.Errorf("read-only run sent %s %s", req.Method, req.Path)
		}
	}
	notRun := rep.NotRun()
	for _, op := range ops {
		if op.Method != http.MethodGet && !slices.Contains(notRun, op.ID+" (read-only run; --write runs it)") {
			t.Errorf("%s is not listed as not run: %q", op.ID, notRun)
		}
	}
	if rep.Failed() {
		t.Errorf("a clean read-only run failed: %+v", rep)
	}
}

// TestRunListsWhatItDidNotRunAfterAFailure: when a write fails, every
// operation after it is listed as not run, naming the failure; an
// interrupted run names the interrupt for every operation.
func TestRunListsWhatItDidNotRunAfterAFailure(t *testing.T) {
	t.Parallel()
	t.Run("failure", func(t *testing.T) {
		t.Parallel()
		srv := pagecalltest.NewTestServer(t)
		srv.Inject(pagecalltest.Fault{Route: "POST /rooms/{room_id}/members", Status: 400})
		rep, _ := testRun(t, srv, Options{Write: true})
		notRun := rep.NotRun()
		for _, op := range []string{"UpdateMember", "SendRoomMessage", "CreateRoomPages"} {
			if !slices.Contains(notRun, op+" (CreateMember failed)") {
				t.Errorf("%s is not listed as not run after CreateMember failed: %q", op, notRun)
			}
		}
		if slices.ContainsFunc(notRun, func(s string) bool {
			return strings.HasPrefix(s, "CreateMember ") || strings.HasPrefix(s, "DeleteUser ")
		}) {
			t.Errorf("an operation that ran is listed as not run: %q", notRun)
		}
		if !rep.Failed() {
			t.Error("a failed write did not fail the run")
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		t.Parallel()
		srv := pagecalltest.NewTestServer(t)
		stop := make(chan struct{})
		close(stop)
		rep, ops := testRun(t, srv, Options{Stop: stop})
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("an interrupted run sent %d requests", n)
		}
		if got := rep.NotRun(); len(got) != len(ops) || !strings.HasSuffix(got[0], " (interrupted)") {
			t.Errorf("not run: %q, want all %d operations, interrupted", got, len(ops))
		}
	})
}

// TestRunNamesTheCollectionAReadHadNothingToFollow: when the list of rooms
// fails, the operations below /rooms are listed as not run because there
// was no room to follow, not with a reason given at the end.
func TestRunNamesTheCollectionAReadHadNothingToFollow(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	srv.Inject(pagecalltest.Fault{Route: "GET /rooms", Status: 500})
	rep, _ := testRun(t, srv, Options{})
	notRun := rep.NotRun()
	for _, want := range []string{"GetRoom (no rooms to follow)", "ListMembers (no rooms to follow)"} {
		if !slices.Contains(notRun, want) {
			t.Errorf("not run lacks %q: %q", want, notRun)
		}
	}
}

// TestFillTemplateEscapesEachValue: a path value is one escaped segment,
// and a wrong number of values is refused.
func TestFillTemplateEscapesEachValue(t *testing.T) {
	t.Parallel()
	got, err := fillTemplate("/rooms/{room_id}/members/{member_id}", []string{"a/b", "c d"})
	if err != nil || got != "/rooms/a%2Fb/members/c%20d" {
		t.Errorf("got %q, %v", got, err)
	}
	for _, values := range [][]string{{"a"}, {"a", "b", "c"}} {
		if _, err := fillTemplate("/rooms/{room_id}/members/{member_id}", values); err == nil {
			t.Errorf("%q: no error", values)
		}
	}
}

// TestVerdictIsDriftWhenThePublishedSpecHasNoSuchOperation: an answer that
// breaks the overlaid spec, for an operation the published spec does not
// have, is drift: nothing refutes an overlay change there.
func TestVerdictIsDriftWhenThePublishedSpecHasNoSuchOperation(t *testing.T) {
	t.Parallel()
	spec, ops := testSpec(t)
	published, err := loadDocument(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	published.Paths.Delete("/users/{user_id}")
	r := &run{spec: &Spec{overlaid: spec.overlaid, published: published},
		rep: &Report{findings: map[string]*Finding{}, called: map[string]int{}, seen: map[string]map[string]bool{}}}
	op := Operation{ID: "GetUser", Method: http.MethodGet, Path: "/users/{user_id}"}
	if !slices.Contains(ops, op) {
		t.Fatalf("no %+v in the spec", op)
	}
	r.check(op, received{status: 200, contentType: "application/json", body: []byte(`{}`)})
	found := r.rep.Findings()
	if len(found) == 0 {
		t.Fatal("an answer without its user gave no finding")
	}
	for _, f := range found {
		if f.Verdict != VerdictDrift {
			t.Errorf("%s %s: verdict %s, want %s", f.Operation, f.Pointer, f.Verdict, VerdictDrift)
		}
	}
}

// TestCallChecksATwoHundredThatIsNotJSON: a 2xx whose body is not JSON,
// which the SDK refuses unread, is still an answer: its status is kept
// and it is reported as body drift, not taken for no answer.
func TestCallChecksATwoHundredThatIsNotJSON(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>maintenance</html>"))
	}))
	t.Cleanup(srv.Close)
	c, err := pagecall.NewClient(pagecall.WithAPIKey("k"), pagecall.WithBaseURL(srv.URL), pagecall.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	spec, ops := testSpec(t)
	r := &run{c: c, spec: spec, ops: ops, byID: map[string]Operation{},
		rep: &Report{findings: map[string]*Finding{}, called: map[string]int{}, attempted: map[string]bool{},
			notRun: map[string]string{}, seen: map[string]map[string]bool{}}}
	for _, op := range ops {
		r.byID[op.ID] = op
	}
	a := r.call(t.Context(), "ListUsers", nil, nil)
	if a.status != http.StatusOK || a.ok() {
		t.Errorf("status %d, ok %t: want 200 kept, and not ok", a.status, a.ok())
	}
	if !slices.ContainsFunc(r.rep.Findings(), func(f *Finding) bool { return f.Operation == "ListUsers" && f.Kind == KindBody }) {
		t.Errorf("findings %+v, want body drift for ListUsers", r.rep.Findings())
	}
}

// TestRunReadsAfterAFailedWrite: a failed write stops the writes only;
// the reads still run, on what was created.
func TestRunReadsAfterAFailedWrite(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	srv.Inject(pagecalltest.Fault{Route: "POST /rooms/{room_id}/members", Status: 400})
	testRun(t, srv, Options{Write: true})
	for _, want := range []string{"GET /users", "GET /users/{user_id}", "GET /rooms/{id}"} {
		if !slices.ContainsFunc(srv.Requests(), func(r pagecalltest.Request) bool { return r.Route == want }) {
			t.Errorf("no %s after CreateMember failed", want)
		}
	}
}

// cancelAfter is a transport that cancels a run's context once a request
// matching method and path suffix has been answered.
type cancelAfter struct {
	method, suffix string
	cancel         func()
}

func (c cancelAfter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if req.Method == c.method && strings.HasSuffix(req.URL.Path, c.suffix) {
		c.cancel()
	}
	return resp, err
}

// TestCleanupOutlivesTheRunsContext: the run's context ends after the
// writes; the cleanup, bounded by CleanupTimeout alone, still removes
// what was created.
func TestCleanupOutlivesTheRunsContext(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c, err := pagecall.NewClient(pagecall.WithAPIKey(srv.APIKey()), pagecall.WithBaseURL(srv.URL()), pagecall.WithMaxRetries(0),
		pagecall.WithHTTPClient(&http.Client{Transport: cancelAfter{method: http.MethodPost, suffix: "/pages/create_many", cancel: cancel}}))
	if err != nil {
		t.Fatal(err)
	}
	spec, ops := testSpec(t)
	rep := Run(ctx, c, spec, ops, Options{Write: true, CleanupTimeout: 10 * time.Second})
	if left := leftBehind(srv); len(left) != 0 {
		t.Errorf("left behind after the run's context ended: %q (leftovers %+v)", left, rep.Leftovers)
	}
	if len(rep.Removed) != 2 {
		t.Errorf("removed %q, want the room and the user", rep.Removed)
	}
}
