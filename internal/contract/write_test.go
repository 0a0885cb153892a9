// These tests are written against the checked-in spec's own operations
// (their names, paths and answers), which older published versions lack or
// name otherwise, so `make spec-history` leaves them out (-tags anyspec).

//go:build !anyspec

package contract

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/pagecalltest"
)

// leftBehind returns the users and rooms in srv that a run created.
func leftBehind(srv *pagecalltest.Server) []string {
	var out []string
	for _, id := range srv.UserIDs() {
		if strings.HasPrefix(id, Prefix) {
			out = append(out, "user "+id)
		}
	}
	for _, id := range srv.RoomIDs() {
		if room, _ := srv.Room(id); strings.HasPrefix(room["name"].(string), Prefix) {
			out = append(out, "room "+id)
		}
	}
	return out
}

// removedUser reports whether the report lists the run's user as removed.
func removedUser(rep *Report) bool {
	return slices.ContainsFunc(rep.Removed, func(s string) bool { return strings.HasPrefix(s, "user "+Prefix) })
}

// TestRemoveTrustsOnlyAGet pins how a delete that did not answer 2xx is
// decided: by a GET of the object. A GET that says it is gone makes it
// removed (a lost DELETE answer, with no retry, of a user that was
// deleted); one that finds it makes it NOT REMOVED; no answer or a 5xx
// (a validating proxy's) leaves it unknown, never removed and never
// "NOT REMOVED".
func TestRemoveTrustsOnlyAGet(t *testing.T) {
	t.Parallel()
	deleteFails := pagecalltest.Fault{Route: "DELETE /users/{user_id}", Status: 502}
	tests := []struct {
		name    string
		faults  []pagecalltest.Fault
		removed bool
		left    int  // objects left in the mock
		known   bool // the leftover is known to exist
		failed  bool
	}{
		{name: "delete answer lost", faults: []pagecalltest.Fault{{Route: "DELETE /users/{user_id}", Truncate: true}}, removed: true},
		{name: "delete refused, get finds it", faults: []pagecalltest.Fault{deleteFails}, left: 1, known: true, failed: true},
		// A 4xx to the DELETE is not the GET's word: the user is still there.
		{name: "delete answered 400, get finds it", faults: []pagecalltest.Fault{{Route: "DELETE /users/{user_id}", Status: 400}},
			left: 1, known: true, failed: true},
		{name: "delete refused, get 502", faults: []pagecalltest.Fault{deleteFails, {Route: "GET /users/{user_id}", Status: 502, Count: 10}},
			left: 1, failed: true},
		{name: "delete refused, get unanswered", faults: []pagecalltest.Fault{deleteFails, {Route: "GET /users/{user_id}", Reset: true, Count: 10}},
			left: 1, failed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pagecalltest.NewTestServer(t)
			rep := func() *Report {
				// The faults apply to the cleanup only: the reads of the
				// run's own user come first.
				spec, ops := testSpec(t)
				r := &run{c: testClient(t, srv), spec: spec, ops: ops, byID: map[string]Operation{},
					rep: &Report{Write: true, ops: ops, findings: map[string]*Finding{}, called: map[string]int{},
						attempted: map[string]bool{}, notRun: map[string]string{}, seen: map[string]map[string]bool{}}}
				for _, op := range ops {
					r.byID[op.ID] = op
				}
				w := &writer{run: r, prefix: Prefix + randomHex(4)}
				w.create(t.Context(), map[string]map[string]any{})
				for _, f := range tt.faults {
					srv.Inject(f)
				}
				w.cleanup(t.Context())
				return r.rep
			}()
			if got := removedUser(rep); got != tt.removed {
				t.Errorf("user reported removed: %t, want %t; removed %q, leftovers %+v", got, tt.removed, rep.Removed, rep.Leftovers)
			}
			users := slices.DeleteFunc(leftBehind(srv), func(s string) bool { return !strings.HasPrefix(s, "user ") })
			if len(users) != tt.left {
				t.Errorf("users left in the mock: %q, want %d", users, tt.left)
			}
			if len(rep.Leftovers) != tt.left {
				t.Fatalf("leftovers %+v, want %d", rep.Leftovers, tt.left)
			}
			if tt.left > 0 && rep.Leftovers[0].Known != tt.known {
				t.Errorf("leftover known %t, want %t: %+v", rep.Leftovers[0].Known, tt.known, rep.Leftovers[0])
			}
			if rep.Failed() != tt.failed {
				t.Errorf("failed %t, want %t: %+v", rep.Failed(), tt.failed, rep)
			}
		})
	}
}

// TestCleanupLeavesNoUserWhoseCreateAnswerWasLost: CreateUser created the
// user but its answer was lost; the run deletes it all the same.
func TestCleanupLeavesNoUserWhoseCreateAnswerWasLost(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	srv.Inject(pagecalltest.Fault{Route: "POST /users", Truncate: true})
	rep, _ := testRun(t, srv, Options{Write: true})
	if left := leftBehind(srv); len(left) != 0 {
		t.Errorf("left behind: %q", left)
	}
	if !rep.Failed() || len(rep.Leftovers) != 0 {
		t.Errorf("failed %t, leftovers %+v; want failed (CreateUser), nothing left", rep.Failed(), rep.Leftovers)
	}
}

// TestCleanupDoesNotReportRemovedAUserNeverCreated: CreateUser is refused
// (the user is not created); the cleanup's DELETE and GET say it does not
// exist, and it is neither reported removed nor left behind; the GET that
// said so ran, and is not listed as not run.
func TestCleanupDoesNotReportRemovedAUserNeverCreated(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	srv.Inject(pagecalltest.Fault{Route: "POST /users", Status: 500})
	// With no user to follow, the reads skip GetUser; the cleanup then
	// calls it, and it is no longer listed as not run.
	srv.Inject(pagecalltest.Fault{Route: "GET /users", Status: 500})
	rep, _ := testRun(t, srv, Options{Write: true})
	if notRun := rep.NotRun(); slices.ContainsFunc(notRun, func(s string) bool { return strings.HasPrefix(s, "GetUser ") }) {
		t.Errorf("GetUser ran in the cleanup and is listed as not run: %q", notRun)
	}
	if left := leftBehind(srv); len(left) != 0 {
		t.Fatalf("the mock holds %q: the refused create should have created nothing", left)
	}
	if removedUser(rep) {
		t.Errorf("a user that was never created is reported removed: %q", rep.Removed)
	}
	if len(rep.Leftovers) != 0 {
		t.Errorf("leftovers %+v, want none", rep.Leftovers)
	}
	if !rep.Failed() {
		t.Error("a failed CreateUser did not fail the run")
	}
}

// TestCleanupListsTheRoomWhenListingFails: CreateRoom created a room but
// its answer was lost, and the list that would find it by name fails:
// the room is reported left behind, the run fails, and the user is still
// removed.
func TestCleanupListsTheRoomWhenListingFails(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	srv.Inject(pagecalltest.Fault{Route: "POST /rooms", Truncate: true})
	// Two: the reads list rooms, then the cleanup does.
	srv.Inject(pagecalltest.Fault{Route: "GET /rooms", Status: 500, Count: 2})
	rep, _ := testRun(t, srv, Options{Write: true})
	if len(rep.Leftovers) != 1 || !strings.HasPrefix(rep.Leftovers[0].What, "any room named "+Prefix) {
		t.Errorf("leftovers %+v, want the room by its name", rep.Leftovers)
	}
	if !rep.Failed() {
		t.Error("the run left a room behind and did not fail")
	}
	if !removedUser(rep) {
		t.Errorf("the user was not removed: %q", rep.Removed)
	}
}

// TestWriteSendsPageEntities: CreateRoomPages sends a page with entities,
// so the answer's entities are checked: against the mock, which answers
// as the overlay says, the overlay's retype is confirmed.
func TestWriteSendsPageEntities(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	rep, _ := testRun(t, srv, Options{Write: true})
	sent := false
	for _, req := range srv.Requests() {
		if req.Route == "POST /rooms/{room_id}/pages/create_many" {
			var pages []map[string]any
			if json.Unmarshal(req.Body, &pages) != nil || len(pages) != 1 {
				t.Fatalf("CreateRoomPages sent %s, want one page", req.Body)
			}
			// Not an empty list: an answer with no entity checks nothing.
			entities, _ := pages[0]["entities"].([]any)
			sent = len(entities) > 0
		}
	}
	if !sent {
		t.Error("CreateRoomPages sent no entities")
	}
	if !slices.ContainsFunc(rep.Findings(), func(f *Finding) bool {
		return f.Operation == "CreateRoomPages" && f.Pointer == "/pages/*/entities" && f.Verdict == VerdictConfirmed
	}) {
		t.Errorf("no confirmation of the entities fix: %+v", rep.Findings())
	}
}

// TestRemoveThroughAValidatingProxy: a proxy in front of the API turns
// answers into 502 (as a validating proxy does with one that breaks the
// spec). The user is deleted behind a 502 DELETE, and the GET that says it
// is gone makes it removed; when the proxy also turns that GET into a 502,
// nothing can tell, and the user is MAYBE NOT REMOVED, never NOT REMOVED.
func TestRemoveThroughAValidatingProxy(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name        string
		breaks      func(*http.Request, int) bool // which answers become 502
		removed     bool
		leftoverSet bool
	}{
		{name: "delete answer turned into 502", breaks: func(r *http.Request, _ int) bool {
			return r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/users/")
		}, removed: true},
		{name: "delete and get answers turned into 502", breaks: func(r *http.Request, status int) bool {
			return strings.Contains(r.URL.Path, "/users/"+Prefix) && (r.Method == http.MethodDelete || r.Method == http.MethodGet && status >= 400)
		}, leftoverSet: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pagecalltest.NewTestServer(t)
			target, err := url.Parse(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			base := target.Path // the proxy forwards paths as they are
			target.Path = ""
			rp := httputil.NewSingleHostReverseProxy(target)
			rp.ModifyResponse = func(resp *http.Response) error {
				if tt.breaks(resp.Request, resp.StatusCode) {
					resp.Body.Close()
					resp.StatusCode, resp.Status = http.StatusBadGateway, "502 Bad Gateway"
					resp.Body = io.NopCloser(strings.NewReader(`{"message":"response failed validation"}`))
					resp.ContentLength = -1
					resp.Header.Del("Content-Length")
				}
				return nil
			}
			proxy := httptest.NewServer(rp)
			t.Cleanup(proxy.Close)
			c, err := pagecall.NewClient(pagecall.WithAPIKey(srv.APIKey()), pagecall.WithBaseURL(proxy.URL+base),
				pagecall.WithMaxRetries(0), pagecall.WithTimeout(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			spec, ops := testSpec(t)
			rep := Run(t.Context(), c, spec, ops, Options{Write: true, CleanupTimeout: 10 * time.Second})
			if left := leftBehind(srv); len(left) != 0 {
				t.Fatalf("the mock still holds %q: the proxy should only change answers", left)
			}
			if got := removedUser(rep); got != tt.removed {
				t.Errorf("user reported removed: %t, want %t (removed %q)", got, tt.removed, rep.Removed)
			}
			switch {
			case tt.leftoverSet && (len(rep.Leftovers) != 1 || rep.Leftovers[0].Known):
				t.Errorf("leftovers %+v, want one MAYBE NOT REMOVED", rep.Leftovers)
			case !tt.leftoverSet && len(rep.Leftovers) != 0:
				t.Errorf("leftovers %+v, want none", rep.Leftovers)
			}
		})
	}
}
