package pagecalltest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestControlEndpoint: the control endpoint triggers a session as
// TriggerSession does, and refuses what is not a loopback, authenticated
// POST of a valid request, each with its status.
func TestControlEndpoint(t *testing.T) {
	f := newHookFixture(t, "private", WithControlEndpoint())
	f.c.ok("POST", "/rooms/"+f.room+"/members", `{"user_id":"ada"}`)
	base := strings.TrimSuffix(f.c.s.URL(), f.c.s.spec.basePath)
	body := func(room, user, action string) string {
		b, _ := json.Marshal(TriggerRequest{RoomID: room, UserID: user, Action: action})
		return string(b)
	}
	tests := []struct {
		name         string
		method, path string
		key          string
		host         string // Host header; "" for the URL's
		body         string
		status       int
		delivered    int // deliveries the receiver has after the request
	}{
		{"join", "POST", ControlTriggerSessionPath, APIKey, "", body(f.room, "ada", ActionSessionJoined), 200, 1},
		{"no key", "POST", ControlTriggerSessionPath, "", "", body(f.room, "ada", ActionSessionLeft), 401, 1},
		{"wrong key", "POST", ControlTriggerSessionPath, "guess", "", body(f.room, "ada", ActionSessionLeft), 401, 1},
		{"foreign Host", "POST", ControlTriggerSessionPath, APIKey, "attacker.example:80", body(f.room, "ada", ActionSessionLeft), 403, 1},
		{"GET", "GET", ControlTriggerSessionPath, APIKey, "", "", 405, 1},
		{"unknown control path", "POST", ControlPrefix + "reset", APIKey, "", "{}", 404, 1},
		{"not JSON", "POST", ControlTriggerSessionPath, APIKey, "", "room=1", 400, 1},
		{"no user", "POST", ControlTriggerSessionPath, APIKey, "", body(f.room, "", ActionSessionJoined), 400, 1},
		{"unknown action", "POST", ControlTriggerSessionPath, APIKey, "", body(f.room, "ada", "sessionPaused"), 400, 1},
		{"unknown room", "POST", ControlTriggerSessionPath, APIKey, "", body("nope", "ada", ActionSessionJoined), 404, 1},
		{"not a member", "POST", ControlTriggerSessionPath, APIKey, "", body(f.room, "bob", ActionSessionJoined), 409, 1},
		{"localhost Host", "POST", ControlTriggerSessionPath, APIKey, "localhost", body(f.room, "ada", ActionSessionLeft), 200, 2},
		{"nothing to leave", "POST", ControlTriggerSessionPath, APIKey, "", body(f.room, "ada", ActionSessionLeft), 409, 2},
	}
	for _, tt := range tests {
		req, err := http.NewRequestWithContext(t.Context(), tt.method, base+tt.path, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		if tt.key != "" {
			req.Header.Set("Authorization", "Bearer "+tt.key)
		}
		if tt.host != "" {
			req.Host = tt.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var res TriggerResult
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Errorf("%s: body %s: %v", tt.name, raw, err)
		}
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, resp.StatusCode, tt.status, raw)
		}
		if (tt.status == 200) != (res.Message == "") {
			t.Errorf("%s: message %q: want one exactly when refused", tt.name, res.Message)
		}
		if n := len(f.rc.deliveries()); n != tt.delivered {
			t.Errorf("%s: the receiver has %d deliveries, want %d", tt.name, n, tt.delivered)
		}
		if tt.status == 200 {
			last := f.rc.deliveries()[tt.delivered-1]
			if res.Status != 200 || res.URL != f.rc.URL+"/hook?tenant=1" || string(res.Event) != string(last.body) {
				t.Errorf("%s: result %+v, want status 200 and the body delivered (%s)", tt.name, res, last.body)
			}
		}
	}
	if n := len(f.c.s.Requests()); n != 4 { // two users, the room, the member
		t.Errorf("the request log has %d entries: control requests were logged as API requests", n)
	}
}

// TestControlEndpointRefusesRemoteClients: a request from off loopback is
// refused even with the key (served in-process, since every test connection
// is on loopback).
func TestControlEndpointRefusesRemoteClients(t *testing.T) {
	s := NewTestServer(t, WithControlEndpoint())
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+ControlTriggerSessionPath, strings.NewReader(`{}`))
	req.RemoteAddr = "192.0.2.7:50000"
	req.Header.Set("Authorization", "Bearer "+APIKey)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Errorf("status %d, want 403", w.Code)
	}
}

// TestControlEndpointOffByDefault: without WithControlEndpoint the prefix
// is an unknown route of the API, as on Pagecall.
func TestControlEndpointOffByDefault(t *testing.T) {
	s := NewTestServer(t)
	base := strings.TrimSuffix(s.URL(), s.spec.basePath)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+ControlTriggerSessionPath, strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
}
