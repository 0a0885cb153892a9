package pagecalltest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// get sends an authenticated GET to path below srv's base URL and returns
// the status and the decoded JSON body.
func get(t *testing.T, srv *pagecalltest.Server, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("body %q: %v", raw, err)
	}
	return resp.StatusCode, body
}

func TestPlantDrift(t *testing.T) {
	t.Parallel()
	tests := []struct {
		drift pagecalltest.Drift
		check func(user map[string]any) bool
	}{
		{pagecalltest.Drift{Operation: "getUser", Pointer: "/user/created_at", Kind: pagecalltest.DriftRetype},
			func(u map[string]any) bool { return u["created_at"] == float64(1700000000) }},
		{pagecalltest.Drift{Operation: "GetUser", Pointer: "/user/name", Kind: pagecalltest.DriftRetype, Value: 12},
			func(u map[string]any) bool { return u["name"] == float64(12) }},
		{pagecalltest.Drift{Operation: "GetUser", Pointer: "/user/user_id", Kind: pagecalltest.DriftRemove},
			func(u map[string]any) bool { _, ok := u["user_id"]; return !ok }},
		{pagecalltest.Drift{Operation: "GetUser", Pointer: "/user/name", Kind: pagecalltest.DriftNull},
			func(u map[string]any) bool { v, ok := u["name"]; return ok && v == nil }},
		{pagecalltest.Drift{Operation: "GetUser", Pointer: "/user/name", Kind: pagecalltest.DriftUnknownEnum},
			func(u map[string]any) bool { return u["name"] == "pagecall-drift-unknown" }},
		{pagecalltest.Drift{Operation: "GetUser", Pointer: "/user/x~1y", Kind: pagecalltest.DriftExtraField},
			func(u map[string]any) bool { return u["x/y"] == "planted by pagecalltest" }},
		{pagecalltest.Drift{Pointer: "/user/name", Kind: pagecalltest.DriftNull}, // every operation
			func(u map[string]any) bool { v, ok := u["name"]; return ok && v == nil }},
	}
	for _, tt := range tests {
		t.Run(tt.drift.String(), func(t *testing.T) {
			t.Parallel()
			srv := pagecalltest.NewTestServer(t)
			srv.AddUser("alice", map[string]any{"name": "Alice"})
			_, before := get(t, srv, "/users/alice")
			if err := srv.PlantDrift(tt.drift); err != nil {
				t.Fatal(err)
			}
			status, body := get(t, srv, "/users/alice")
			user, _ := body["user"].(map[string]any)
			if status != http.StatusOK || !tt.check(user) {
				t.Fatalf("status %d, user %v: the drift is not planted", status, user)
			}
			// Only the planted pointer changed.
			want, _ := before["user"].(map[string]any)
			for k, v := range want {
				if k == "name" || k == "created_at" || k == "user_id" {
					continue
				}
				if !reflect.DeepEqual(user[k], v) {
					t.Errorf("%s = %v, want %v (untouched)", k, user[k], v)
				}
			}
			// The mock's log holds what was sent, drift included.
			reqs := srv.Requests()
			if got := string(reqs[len(reqs)-1].Response); !strings.Contains(got, `"user"`) {
				t.Errorf("logged response %s", got)
			}
			srv.ClearDrift()
			if _, after := get(t, srv, "/users/alice"); !reflect.DeepEqual(after, before) {
				t.Errorf("after ClearDrift: %v, want %v", after, before)
			}
		})
	}
}

func TestPlantDriftWildcardAndIndex(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	for _, id := range []string{"a", "b", "c"} {
		srv.AddUser(id, map[string]any{"name": id}) // a name to retype
	}
	if err := srv.PlantDrift(
		pagecalltest.Drift{Operation: "ListUsers", Pointer: "/users/*/created_at", Kind: pagecalltest.DriftNull},
		pagecalltest.Drift{Operation: "ListUsers", Pointer: "/users/1/name", Kind: pagecalltest.DriftRetype},
		pagecalltest.Drift{Operation: "GetUser", Pointer: "/user/name", Kind: pagecalltest.DriftNull}, // another operation
	); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, srv, "/users")
	users, _ := body["users"].([]any)
	if len(users) < 3 {
		t.Fatalf("users = %v", users)
	}
	for i, u := range users {
		u := u.(map[string]any)
		if v, ok := u["created_at"]; !ok || v != nil {
			t.Errorf("users[%d].created_at = %v, want null", i, v)
		}
		if _, retyped := u["name"].(float64); retyped != (i == 1) {
			t.Errorf("users[%d].name = %v: only item 1 is retyped", i, u["name"])
		}
	}
}

func TestPlantDriftLeavesErrorsAlone(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	if err := srv.PlantDrift(pagecalltest.Drift{Pointer: "/message", Kind: pagecalltest.DriftNull}); err != nil {
		t.Fatal(err)
	}
	status, body := get(t, srv, "/users/nobody")
	if status < 400 || body["message"] == nil {
		t.Errorf("error answer %d %v was changed", status, body)
	}
}

func TestParseDrift(t *testing.T) {
	t.Parallel()
	d, err := pagecalltest.ParseDrift("GetUser:/user/created_at:retype")
	if err != nil || d != (pagecalltest.Drift{Operation: "GetUser", Pointer: "/user/created_at", Kind: pagecalltest.DriftRetype}) {
		t.Errorf("ParseDrift = %+v, %v", d, err)
	}
	if d, err := pagecalltest.ParseDrift(":/a:b:null"); err != nil || d.Pointer != "/a:b" || d.Operation != "" {
		t.Errorf("a colon in the pointer: %+v, %v", d, err)
	}
	for _, bad := range []string{"", "GetUser", "GetUser:/x", "GetUser:/x:melt", "GetUser:x:null", "GetUser::null"} {
		if _, err := pagecalltest.ParseDrift(bad); err == nil {
			t.Errorf("ParseDrift(%q) accepted", bad)
		}
	}
	srv := pagecalltest.NewTestServer(t)
	if err := srv.PlantDrift(pagecalltest.Drift{Pointer: "/x", Kind: "melt"}); err == nil || len(srv.Drift()) != 0 {
		t.Errorf("PlantDrift of an unknown kind: %v, %v", err, srv.Drift())
	}
}
