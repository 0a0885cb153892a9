// These tests are written against the checked-in spec's own operations
// (their names, paths and answers), which older published versions lack or
// name otherwise, so `make spec-history` leaves them out (-tags anyspec).

//go:build !anyspec

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pplink/pagecall-go/api"
	"github.com/pplink/pagecall-go/internal/contract"
	"github.com/pplink/pagecall-go/internal/overlay"
	"github.com/pplink/pagecall-go/pagecalltest"
)

// contractFindings parses contract check's JSON Lines, failing on anything
// else.
func contractFindings(t *testing.T, stdout string) []contract.Finding {
	t.Helper()
	var out []contract.Finding
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var f contract.Finding
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("stdout line %q is not a finding: %v", sc.Text(), err)
		}
		out = append(out, f)
	}
	return out
}

// newDrift returns the findings that are not overlay confirmations: what a
// clean check has none of.
func newDriftOf(found []contract.Finding) []contract.Finding {
	return slices.DeleteFunc(slices.Clone(found), func(f contract.Finding) bool { return f.Verdict == contract.VerdictConfirmed })
}

func plant(t *testing.T, srv *pagecalltest.Server, drift ...string) {
	t.Helper()
	for _, d := range drift {
		pd, err := pagecalltest.ParseDrift(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.PlantDrift(pd); err != nil {
			t.Fatal(err)
		}
	}
}

// TestContractCheckFindsPlantedDrift plants each kind of drift in the mock
// and checks that contract check reports it where it was planted, with the
// kind and verdict it has against the spec: retype, null, a removed
// required field and an unknown enum value are new drift (exit 1); an extra
// field is undocumented, reported but allowed (exit 0).
func TestContractCheckFindsPlantedDrift(t *testing.T) {
	t.Parallel()
	tests := []struct {
		drift     string
		operation string
		pointer   string
		kind      string
		verdict   string
		code      int
	}{
		{"GetUser:/user/created_at:retype", "GetUser", "/user/created_at", contract.KindType, contract.VerdictDrift, exitFailure},
		{"ListMembers:/members/*/user_id:remove", "ListMembers", "/members/*/user_id", contract.KindMissing, contract.VerdictDrift, exitFailure},
		{"ListUsers:/users/*/name:null", "ListUsers", "/users/*/name", contract.KindNull, contract.VerdictDrift, exitFailure},
		{"GetRoom:/room/type:enum", "GetRoom", "/room/type", contract.KindEnum, contract.VerdictDrift, exitFailure},
		{"ListRooms:/rooms/*/x_new:extra", "ListRooms", "/rooms/*/x_new", contract.KindExtra, contract.VerdictUndocumented, exitOK},
		// The overlay requires `user` where the published spec wrongly
		// requires `users`: an answer without it breaks the overlay's
		// change while the published spec never asked for it.
		{"GetUser:/user:remove", "GetUser", "/user", contract.KindMissing, contract.VerdictRefuted, exitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.drift, func(t *testing.T) {
			t.Parallel()
			srv := pagecalltest.NewTestServer(t)
			clean, stdout, _ := runInProcess(t, srv, false, "contract", "check", "--format", "jsonl")
			if clean != exitOK || len(newDriftOf(contractFindings(t, stdout))) != 0 {
				t.Fatalf("before planting: exit %d, %s", clean, stdout)
			}
			plant(t, srv, tt.drift)
			code, stdout, stderr := runInProcess(t, srv, false, "contract", "check", "--format", "jsonl")
			found := newDriftOf(contractFindings(t, stdout))
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tt.code, stderr)
			}
			if len(found) != 1 {
				t.Fatalf("findings %+v, want one", found)
			}
			f := found[0]
			if f.Operation != tt.operation || f.Pointer != tt.pointer || f.Kind != tt.kind || f.Verdict != tt.verdict ||
				f.Status != 200 || f.Method != "GET" || !strings.Contains(f.Path, "/") || f.Problem == "" {
				t.Errorf("finding %+v, want %s %s %s %s", f, tt.operation, tt.pointer, tt.kind, tt.verdict)
			}
			if !strings.Contains(stderr, "answers from 7 operations") {
				t.Errorf("the summary lacks the count of GET operations: %s", stderr)
			}
		})
	}
}

// TestContractCheckConfirmsTheOverlay: the mock answers as the overlaid
// spec says, so every finding of a clean run is an overlay fix the answers
// confirm: GetUser's `user` where the published spec requires `users`.
func TestContractCheckConfirmsTheOverlay(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	code, stdout, _ := runInProcess(t, srv, false, "contract", "check", "--format", "jsonl")
	found := contractFindings(t, stdout)
	if code != exitOK || len(newDriftOf(found)) != 0 {
		t.Fatalf("exit %d, findings %+v", code, found)
	}
	if !slices.ContainsFunc(found, func(f contract.Finding) bool {
		return f.Operation == "GetUser" && f.Pointer == "/users" && f.Kind == contract.KindMissing && f.Verdict == contract.VerdictConfirmed
	}) {
		t.Errorf("no confirmation of the users/user erratum: %+v", found)
	}
}

// TestContractSuggestLoop closes the loop: drift planted in the mock is
// reported, the suggested overlay actions (applied after the embedded
// overlay with package overlay, as the SDK's generator and the mock apply
// api/overlay.yaml) make the spec accept it, and the check against the same
// drifted mock then reports no drift.
func TestContractSuggestLoop(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	// One operation drifts where the others keep to the spec: GetUser's
	// created_at is a number while ListUsers' is still a string, so the
	// suggestion must accept both.
	plant(t, srv,
		"GetUser:/user/created_at:retype",
		"ListMembers:/members/*/user_id:remove",
		"ListUsers:/users/*/name:null",
		"GetRoom:/room/type:enum",
		"ListRooms:/rooms/*/x_new:extra",
	)
	file := filepath.Join(t.TempDir(), "suggested.yaml")
	code, stdout, stderr := runInProcess(t, srv, false, "contract", "check", "--write", "--format", "jsonl", "--suggest-overlay", file)
	found := newDriftOf(contractFindings(t, stdout))
	kinds := map[string]bool{}
	for _, f := range found {
		kinds[f.Kind] = true
	}
	if code != exitFailure || len(kinds) != 5 {
		t.Fatalf("exit %d, kinds %v, want 1 and all five kinds; stderr %s", code, kinds, stderr)
	}
	suggested, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("suggested:\n%s", suggested)
	if !strings.Contains(string(suggested), "anyOf:") {
		t.Errorf("created_at held a string and a number: the suggestion should accept both:\n%s", suggested)
	}
	if strings.Count(string(suggested), "description:") < 5 {
		t.Errorf("each action needs its why:\n%s", suggested)
	}

	// The actions apply and the document still loads.
	merged, err := overlay.Apply(api.OpenAPI, api.Overlay)
	if err == nil {
		merged, err = overlay.Apply(merged, suggested)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openapi3.NewLoader().LoadFromData(merged); err != nil {
		t.Fatalf("the suggested overlay breaks the spec: %v", err)
	}

	code, stdout, stderr = runInProcess(t, srv, false, "contract", "check", "--write", "--format", "jsonl", "--overlay", file)
	if left := newDriftOf(contractFindings(t, stdout)); code != exitOK || len(left) != 0 {
		t.Errorf("with the suggested overlay: exit %d, findings %+v; stderr %s", code, left, stderr)
	}
}

func TestContractCheckUsage(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	for _, args := range [][]string{
		{"contract", "check", "--format", "yaml"},
		{"contract", "check", "--overlay", "/nonexistent/overlay.yaml"},
		{"contract", "check", "--cleanup-timeout", "0s"},
		{"contract", "check", "extra-arg"},
		{"mock", "--addr", "127.0.0.1:0", "--drift", "GetUser:/user/created_at:melt"},
		{"mock", "--addr", "127.0.0.1:0", "--drift", "GetUser"},
	} {
		if code, _, stderr := runInProcess(t, srv, false, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2; stderr %s", args, code, stderr)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("usage errors sent %d requests", n)
	}
}

// contractObjects returns the users and rooms in srv that a contract check
// run created (their ID or name has its prefix).
func contractObjects(srv *pagecalltest.Server) []string {
	var out []string
	for _, id := range srv.UserIDs() {
		if strings.HasPrefix(id, contract.Prefix) {
			out = append(out, "user "+id)
		}
	}
	for _, id := range srv.RoomIDs() {
		if room, _ := srv.Room(id); strings.HasPrefix(room["name"].(string), contract.Prefix) {
			out = append(out, "room "+id)
		}
	}
	return out
}

// TestContractWriteCleansUp: --write removes every object it created,
// after a clean run and after a failure halfway (injected with the mock's
// faults), including a room whose create answer was lost; what it cannot
// remove is listed, and nothing it did not create is touched.
func TestContractWriteCleansUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults []pagecalltest.Fault
		args   []string
		code   int
		stderr string
		left   int // objects left behind
	}{
		{name: "clean", code: exitOK},
		{name: "member refused halfway", faults: []pagecalltest.Fault{{Route: "POST /rooms/{room_id}/members", Status: 400}},
			code: exitFailure, stderr: "failed: CreateMember"},
		{name: "timeout halfway", faults: []pagecalltest.Fault{{Route: "POST /rooms/{room_id}/members", Delay: 10 * time.Second}},
			args: []string{"--timeout", "300ms"}, code: exitFailure, stderr: "failed: CreateMember"},
		{name: "room created, answer lost", faults: []pagecalltest.Fault{{Route: "POST /rooms", Truncate: true}},
			code: exitFailure, stderr: "failed: CreateRoom"},
		{name: "room created, answer lost, listing rooms fails", faults: []pagecalltest.Fault{
			{Route: "POST /rooms", Truncate: true}, {Route: "GET /rooms", Status: 500, Count: 2}},
			code: exitFailure, stderr: "NOT REMOVED: any room named " + contract.Prefix, left: 1},
		{name: "user created, answer lost", faults: []pagecalltest.Fault{{Route: "POST /users", Truncate: true}},
			code: exitFailure, stderr: "not run (CreateUser failed): CreateRoom, DeleteRoom, UpdateRoom, CreateMember"},
		// The user is deleted, its answer lost, and with no retry only a
		// GET can tell: it says the user is gone.
		{name: "user deleted, answer lost", faults: []pagecalltest.Fault{{Route: "DELETE /users/{user_id}", Truncate: true}},
			code: exitOK, stderr: ", user " + contract.Prefix},
		{name: "user not removable", faults: []pagecalltest.Fault{{Route: "DELETE /users/{user_id}", Status: 500, Count: 1 << 20}},
			code: exitFailure, stderr: "NOT REMOVED: user " + contract.Prefix, left: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pagecalltest.NewTestServer(t)
			srv.AddUser("someone-else", nil)
			before := map[string]bool{}
			for _, id := range srv.RoomIDs() {
				before[id] = true
			}
			for _, f := range tt.faults {
				srv.Inject(f)
			}
			args := append([]string{"contract", "check", "--write", "--format", "jsonl", "--max-retries", "0"}, tt.args...)
			code, _, stderr := runInProcess(t, srv, false, args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s", code, tt.code, tt.stderr, stderr)
			}
			for _, r := range srv.Requests() {
				t.Logf("%s %s?%s -> %d", r.Method, r.Path, r.RawQuery, r.Status)
			}
			if left := contractObjects(srv); len(left) != tt.left {
				t.Errorf("left behind: %v, want %d", left, tt.left)
			}
			// Nothing it did not create was changed or deleted.
			if !srv.UserExists("someone-else") || !srv.UserExists("external_user_102932") {
				t.Error("a user the check did not create is gone")
			}
			for _, r := range srv.Requests() {
				if r.Method == "GET" {
					continue
				}
				if !strings.Contains(r.Path, contract.Prefix) && !strings.Contains(string(r.Body), contract.Prefix) && before[pathRoom(r.Path)] {
					t.Errorf("%s %s touched an object the check did not create", r.Method, r.Path)
				}
			}
		})
	}
}

// pathRoom returns the room ID of a /v1/rooms/ID... path, or "".
func pathRoom(path string) string {
	rest, ok := strings.CutPrefix(path, "/v1/rooms/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// TestContractSuggestWithoutNewDrift: --suggest-overlay writes its file on
// a run with no new drift too (undocumented properties still get their
// actions).
func TestContractSuggestWithoutNewDrift(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	file := filepath.Join(t.TempDir(), "suggested.yaml")
	code, _, stderr := runInProcess(t, srv, false, "contract", "check", "--format", "jsonl", "--suggest-overlay", file)
	if code != exitOK {
		t.Fatalf("exit %d on a clean mock:\n%s", code, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("no suggestion file after a run without new drift: %v", err)
	}
	if !strings.Contains(string(b), "overlay: 1.1.0") {
		t.Errorf("the suggestion file is not an overlay:\n%s", b)
	}
}
