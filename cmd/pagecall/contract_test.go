package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pplink/pagecall-go/api"
	"github.com/pplink/pagecall-go/internal/overlay"
	"github.com/pplink/pagecall-go/pagecalltest"
)

// contractFindings parses contract check's JSON Lines, failing on anything
// else.
func contractFindings(t *testing.T, stdout string) []finding {
	t.Helper()
	var out []finding
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var f finding
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
func newDriftOf(found []finding) []finding {
	return slices.DeleteFunc(slices.Clone(found), func(f finding) bool { return f.Verdict == verdictConfirmed })
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
		{"GetUser:/user/created_at:retype", "GetUser", "/user/created_at", driftType, verdictDrift, exitFailure},
		{"ListMembers:/members/*/user_id:remove", "ListMembers", "/members/*/user_id", driftMissing, verdictDrift, exitFailure},
		{"ListUsers:/users/*/name:null", "ListUsers", "/users/*/name", driftNull, verdictDrift, exitFailure},
		{"GetRoom:/room/type:enum", "GetRoom", "/room/type", driftEnum, verdictDrift, exitFailure},
		{"ListRooms:/rooms/*/x_new:extra", "ListRooms", "/rooms/*/x_new", driftExtra, verdictUndocumented, exitOK},
		// The overlay requires `user` where the published spec wrongly
		// requires `users`: an answer without it breaks the overlay's
		// change while the published spec never asked for it.
		{"GetUser:/user:remove", "GetUser", "/user", driftMissing, verdictRefuted, exitFailure},
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
	if !slices.ContainsFunc(found, func(f finding) bool {
		return f.Operation == "GetUser" && f.Pointer == "/users" && f.Kind == driftMissing && f.Verdict == verdictConfirmed
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
	// Drift as a real API would drift: the same in every answer that
	// carries the field ("" is every operation).
	plant(t, srv,
		":/user/created_at:retype", ":/users/*/created_at:retype",
		":/members/*/user_id:remove",
		":/users/*/name:null", ":/user/name:null",
		":/room/type:enum", ":/rooms/*/type:enum",
		":/rooms/*/x_new:extra", ":/room/x_new:extra",
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
	} {
		if code, _, stderr := runInProcess(t, srv, false, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2; stderr %s", args, code, stderr)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("usage errors sent %d requests", n)
	}
}
