// These tests use the checked-in spec's own operations and fields; the
// version-independent drift tests are in drift_table_test.go.

//go:build !anyspec

package pagecall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestDriftedSuccessSucceeds is the issue's own case: a DELETE answered
// 200 with a body that left the spec deleted the user, so the call
// succeeds, once, with what fitted, and says where the answer drifted.
func TestDriftedSuccessSucceeds(t *testing.T) {
	tests := []struct {
		name, body, pointer string
		wantName            string
	}{
		{"epoch for a date-time", `{"user":{"user_id":"x","name":"A","created_at":1700000000}}`, "/user/created_at", "A"},
		{"text for a date-time", `{"user":{"user_id":"x","name":"A","created_at":"yesterday"}}`, "/user/created_at", "A"},
		{"number for a string", `{"user":{"user_id":"x","name":12}}`, "/user/name", ""},
		{"null for the user", `{"user":null}`, "/user", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			c, mux, ts := setup(t, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Request-Id", "req-1")
				writeJSON(w, tt.body)
			})
			var info ResponseInfo
			for range 2 {
				u, err := c.DeleteUser(context.Background(), "a", WithResponseInfo(&info))
				if err != nil {
					t.Fatalf("DeleteUser: %v; want success, the server reported it", err)
				}
				if tt.pointer != "/user" && (u.UserID != "x" || u.Name != tt.wantName) {
					t.Errorf("user = %+v, want user_id x and name %q kept", u, tt.wantName)
				}
			}
			if n := ts.hits.Load(); n != 2 {
				t.Errorf("requests = %d, want one per call", n)
			}
			if len(info.Drift) != 1 || info.Drift[0].Pointer != tt.pointer {
				t.Errorf("Drift = %v, want one at %s", info.Drift, tt.pointer)
			}
			if info.StatusCode != 200 || info.Attempts != 1 || info.RequestID != "req-1" || info.Header.Get("X-Request-Id") != "req-1" || info.Duration <= 0 {
				t.Errorf("ResponseInfo = %+v, want status 200, 1 attempt, request id req-1, a duration", info)
			}
			if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "pointer="+tt.pointer) {
				t.Errorf("log has %d warnings, want one naming %s (logged once per operation and pointer):\n%s", n, tt.pointer, logs.String())
			}
		})
	}
}

// TestStrictResponses: a strict client turns drift into a typed error that
// names the call and its 2xx status, and says the server reported success.
func TestStrictResponses(t *testing.T) {
	c, mux, ts := setup(t, WithStrictResponses())
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, `{"user":{"user_id":"x","created_at":1700000000}}`)
	})
	var info ResponseInfo
	u, err := c.DeleteUser(context.Background(), "a", WithResponseInfo(&info))
	var reqErr *RequestError
	if u != nil || !errors.Is(err, ErrMalformedResponse) || !errors.As(err, &reqErr) {
		t.Fatalf("DeleteUser = %v, %v; want a *RequestError with ErrMalformedResponse", u, err)
	}
	if reqErr.Method != "DELETE" || reqErr.Path != "/v1/users/a" || reqErr.StatusCode != 200 || len(reqErr.Drift) != 1 {
		t.Errorf("RequestError = %+v, want DELETE /v1/users/a, status 200, one drift", reqErr)
	}
	if msg := err.Error(); !strings.Contains(msg, "DELETE /v1/users/a") || !strings.Contains(msg, "reported success") || !strings.Contains(msg, "/user/created_at") {
		t.Errorf("Error() = %q, want the call, that the server reported success, and the pointer", msg)
	}
	if n := ts.hits.Load(); n != 1 {
		t.Errorf("requests = %d, want 1: a 2xx answer is never retried", n)
	}
	if len(info.Drift) != 1 {
		t.Errorf("ResponseInfo.Drift = %v, want the drift in strict mode too", info.Drift)
	}
}

// TestDriftInLists: a list keeps every item, the drifted one included, and
// unknown fields or enum values are not drift.
func TestDriftInLists(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /v1/users", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, `{"users":[{"user_id":"a","new_field":1},{"user_id":"b","created_at":false},{"user_id":"c","default_member_type":"superhost"}],"paging":{"offset":0,"limit":3,"total":3}}`)
	})
	var info ResponseInfo
	users, paging, err := c.ListUsers(context.Background(), nil, WithResponseInfo(&info))
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(users) != 3 || users[1].UserID != "b" || users[2].DefaultMemberType != "superhost" || paging == nil || paging.Total != 3 {
		t.Errorf("users = %+v, paging = %+v; want all three, the drifted one and the unknown enum value kept", users, paging)
	}
	if len(info.Drift) != 1 || info.Drift[0].Pointer != "/users/1/created_at" {
		t.Errorf("Drift = %v, want only /users/1/created_at", info.Drift)
	}
}

// TestResponseInfoOnFailure: the info is filled when the call fails too,
// and describes the last answer and every attempt.
func TestResponseInfoOnFailure(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "r-503")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	var info ResponseInfo
	_, err := c.GetUser(context.Background(), "a", WithResponseInfo(&info))
	if err == nil {
		t.Fatal("GetUser succeeded against a 503")
	}
	if info.StatusCode != 503 || info.Attempts != 3 || info.RequestID != "r-503" || info.Duration <= 0 {
		t.Errorf("ResponseInfo = %+v, want status 503 after 3 attempts with its request id and a duration", info)
	}
	info = ResponseInfo{StatusCode: 1}
	if _, err := c.GetUser(context.Background(), "..", WithResponseInfo(&info)); !errors.Is(err, ErrInvalidPathParam) {
		t.Fatalf("err = %v, want ErrInvalidPathParam", err)
	}
	if info.StatusCode != 0 || info.Attempts != 0 {
		t.Errorf("ResponseInfo = %+v after a refused call, want it zero", info)
	}
}

// TestDriftNeverQuotesTheKey: an answer that echoes the API key in drifted
// fields (a date-time, a number, a map key) never brings the key, nor a
// piece of it, to the warn log, ResponseInfo.Drift or a strict client's
// error.
func TestDriftNeverQuotesTheKey(t *testing.T) {
	body := `{"user":{"user_id":"x","created_at":"` + testKey + `","name":{"` + testKey + `":1}}}`
	for _, strict := range []bool{false, true} {
		var logs bytes.Buffer
		opts := []Option{WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))}
		if strict {
			opts = append(opts, WithStrictResponses())
		}
		c, mux, _ := setup(t, opts...)
		mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, body) })
		var info ResponseInfo
		_, err := c.GetUser(context.Background(), "a", WithResponseInfo(&info))
		if strict != (err != nil) {
			t.Fatalf("strict=%v: GetUser error %v", strict, err)
		}
		seen := logs.String() + fmt.Sprint(info.Drift)
		if err != nil {
			seen += err.Error()
		}
		if len(info.Drift) != 2 || !strings.Contains(seen, redacted) {
			t.Errorf("strict=%v: drift %v, want the two fields with the key redacted", strict, info.Drift)
		}
		// A map key that echoes the key is in the drift's pointer.
		mux.HandleFunc("/v1/labels", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, `{"labels":{"`+testKey+`":"x"}}`) })
		var out struct {
			Labels map[string]int `json:"labels"`
		}
		info = ResponseInfo{}
		err = c.Do(context.Background(), http.MethodGet, "/labels", nil, &out, WithResponseInfo(&info))
		if len(info.Drift) != 1 || info.Drift[0].Pointer != "/labels/"+redacted {
			t.Errorf("strict=%v: Do drift %v, want one at /labels/%s", strict, info.Drift, redacted)
		}
		seen += logs.String() + fmt.Sprint(info.Drift)
		if err != nil {
			seen += err.Error()
		}
		for i := 0; i+6 <= len(testKey); i++ {
			if strings.Contains(seen, testKey[i:i+6]) {
				t.Fatalf("strict=%v: %q of the key reached the log, the drift or the error:\n%s", strict, testKey[i:i+6], seen)
			}
		}
	}
}

// TestRequiredMemberMissing: a 2xx answer that lacks a member the spec
// requires, or has null for a required list, is drift at its pointer in
// default mode and an error in strict mode, still with one request.
func TestRequiredMemberMissing(t *testing.T) {
	tests := []struct {
		name, path, body, pointer string
		call                      func(c *Client, opts ...CallOption) error
	}{
		{"member without room_id", "/v1/rooms/r/members/m", `{"member":{"id":"m","type":"host","user_id":"u"}}`, "/member/room_id",
			func(c *Client, opts ...CallOption) error {
				_, err := c.GetMember(context.Background(), "r", "m", opts...)
				return err
			}},
		{"users null", "/v1/users", `{"users":null}`, "/users",
			func(c *Client, opts ...CallOption) error {
				_, _, err := c.ListUsers(context.Background(), nil, opts...)
				return err
			}},
		{"a listed room without its id", "/v1/rooms", `{"rooms":[{"id":"a","name":"n","type":"open"},{"name":"n","type":"open"}]}`, "/rooms/1/id",
			func(c *Client, opts ...CallOption) error {
				_, _, err := c.ListRooms(context.Background(), nil, opts...)
				return err
			}},
	}
	for _, tt := range tests {
		for _, strict := range []bool{false, true} {
			var opts []Option
			if strict {
				opts = append(opts, WithStrictResponses())
			}
			c, mux, ts := setup(t, opts...)
			mux.HandleFunc(tt.path, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, tt.body) })
			var info ResponseInfo
			err := tt.call(c, WithResponseInfo(&info))
			if strict != errors.Is(err, ErrMalformedResponse) {
				t.Errorf("%s, strict=%v: err = %v", tt.name, strict, err)
			}
			if len(info.Drift) != 1 || info.Drift[0].Pointer != tt.pointer {
				t.Errorf("%s, strict=%v: drift %v, want one at %s", tt.name, strict, info.Drift, tt.pointer)
			}
			if n := ts.hits.Load(); n != 1 {
				t.Errorf("%s, strict=%v: %d requests, want 1", tt.name, strict, n)
			}
		}
	}
}

// TestDriftLogPastItsBound: a client remembers at most maxDriftKeys logged
// drifts; past them, new drift is logged each time rather than never.
func TestDriftLogPastItsBound(t *testing.T) {
	var dl driftLog
	for i := range maxDriftKeys {
		if !dl.first(fmt.Sprint("GET /x /", i)) {
			t.Fatalf("key %d: not logged the first time", i)
		}
	}
	if dl.first("GET /x /0") {
		t.Error("a remembered key logged again")
	}
	for range 2 {
		if !dl.first("GET /x /new") {
			t.Error("past the bound, new drift is not logged")
		}
	}
}

// TestDriftLoggedOncePerPointer: each drifted field of an operation is
// logged once for the client, a second field of the same answer too.
func TestDriftLoggedOncePerPointer(t *testing.T) {
	var logs bytes.Buffer
	c, mux, _ := setup(t, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, `{"user":{"user_id":"x","name":12,"created_at":1700000000}}`)
	})
	for range 2 {
		if _, err := c.DeleteUser(context.Background(), "a"); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "level=WARN"); n != 2 || !strings.Contains(out, "pointer=/user/name") || !strings.Contains(out, "pointer=/user/created_at") {
		t.Errorf("log has %d warnings, want one for each of /user/name and /user/created_at:\n%s", n, out)
	}
}

// TestDriftedOptionalObjectStaysAbsent: an optional object that did not
// fit at all is returned absent (nil), not as the empty value the failed
// first decoding left behind.
func TestDriftedOptionalObjectStaysAbsent(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /v1/rooms", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, `{"rooms":[{"id":"a","name":"n","type":"open"}],"paging":5}`)
	})
	var info ResponseInfo
	rooms, paging, err := c.ListRooms(context.Background(), nil, WithResponseInfo(&info))
	if err != nil {
		t.Fatalf("ListRooms: %v", err)
	}
	if len(rooms) != 1 || paging != nil {
		t.Errorf("rooms = %+v, paging = %+v; want the room and no paging", rooms, paging)
	}
	if len(info.Drift) != 1 || info.Drift[0].Pointer != "/paging" {
		t.Errorf("Drift = %v, want one at /paging", info.Drift)
	}
}
