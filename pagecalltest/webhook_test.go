package pagecalltest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is a webhook endpoint on loopback that records what it gets and
// answers with status (200 if 0), after holding the answer for hold.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []delivered
	status   int
	location string        // sent as Location, if set
	hold     chan struct{} // if not nil, the answer waits until it closes
}

type delivered struct {
	method, uri string
	header      http.Header
	body        []byte
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, delivered{r.Method, r.RequestURI, r.Header.Clone(), body})
		status, hold := rc.status, rc.hold
		if rc.location != "" {
			w.Header().Set("Location", rc.location)
		}
		rc.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
			}
		}
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) deliveries() []delivered {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// hookFixture is a mock whose room has a webhook pointing at a receiver.
type hookFixture struct {
	c    client
	rc   *receiver
	room string
}

// newHookFixture creates users ada and bob, and a room of the given type
// whose webhook is at the receiver's /hook?tenant=1 with two headers. It
// skips on documents without room webhooks (before May 2023).
func newHookFixture(t *testing.T, roomType string, opts ...Option) hookFixture {
	t.Helper()
	c := client{t, NewTestServer(t, opts...)}
	c.needOps("createUser", "createRoom", "CreateMember")
	if c.s.spec.doc.Components.Schemas["CreateRoomRequest"].Value.Properties["webhook"] == nil {
		t.Skip("the document's CreateRoomRequest has no webhook")
	}
	rc := newReceiver(t)
	c.ok("POST", "/users", `{"user_id":"ada","name":"Ada"}`)
	c.ok("POST", "/users", `{"user_id":"bob","name":"Bob"}`)
	body := fmt.Sprintf(`{"name":"standup","type":%q,"webhook":{"url":%q,"headers":{"X-Secret":"s3cret","X-Tenant":"acme"}}}`,
		roomType, rc.URL+"/hook?tenant=1")
	room := obj(c.ok("POST", "/rooms", body), "room")
	return hookFixture{c: c, rc: rc, room: room["id"].(string)}
}

// payload is the documented webhook body, decoded strictly.
type payload struct {
	Action  string `json:"action"`
	Payload struct {
		RoomID        string `json:"roomId"`
		UserID        string `json:"userId"`
		MemberID      string `json:"memberId"`
		SessionID     string `json:"sessionId"`
		SessionsCount int    `json:"sessionsCount"`
		MembersCount  int    `json:"membersCount"`
		Timestamp     string `json:"timestamp"`
	} `json:"payload"`
}

var jsTimePattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func decodePayload(t *testing.T, body []byte) payload {
	t.Helper()
	var p payload
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("webhook body %s: %v", body, err)
	}
	var keys map[string]map[string]any
	_ = json.Unmarshal(body, &keys)
	want := []string{"memberId", "membersCount", "roomId", "sessionId", "sessionsCount", "timestamp", "userId"}
	if got := slices.Sorted(maps.Keys(keys["payload"])); !slices.Equal(got, want) {
		t.Errorf("payload keys %v, want %v", got, want)
	}
	if !jsTimePattern.MatchString(p.Payload.Timestamp) {
		t.Errorf("timestamp %q is not like 2022-05-31T12:38:15.059Z", p.Payload.Timestamp)
	}
	return p
}

// TestTriggerSessionDelivers follows a room through joins and leaves: each
// webhook is the documented body with the room's headers, the counts are
// those after the event, and ListRoomSessions agrees (spec-valid).
func TestTriggerSessionDelivers(t *testing.T) {
	f := newHookFixture(t, "open")
	steps := []struct {
		user, action           string
		sessions, members      int
		sameSessionAs          int // 1-based step whose session this one ends; 0 for a join
		wantMemberOfStep       int // 1-based step whose member this is; 0: a new one
		connected, allSessions int // after the step, per ListRoomSessions
	}{
		{"ada", ActionSessionJoined, 1, 1, 0, 0, 1, 1},
		{"ada", ActionSessionJoined, 2, 1, 0, 1, 2, 2}, // a second device
		{"bob", ActionSessionJoined, 3, 2, 0, 0, 3, 3}, // not a member yet: becomes one
		{"ada", ActionSessionLeft, 2, 2, 2, 1, 2, 3},   // her latest session ends
		{"ada", ActionSessionLeft, 1, 1, 1, 1, 1, 3},
		{"bob", ActionSessionLeft, 0, 0, 3, 3, 0, 3},
	}
	hook, ok := f.c.s.Webhook(f.room)
	if !ok || hook.URL != f.rc.URL+"/hook?tenant=1" || len(hook.Headers) != 2 || hook.Headers["X-Secret"] != "s3cret" {
		t.Fatalf("Webhook(room) = %+v, %v; want the URL and the two headers it was created with", hook, ok)
	}
	hook.Headers["X-Secret"] = "changed" // a copy: the deliveries below still carry s3cret
	if _, ok := f.c.s.Webhook("nope"); ok {
		t.Error("Webhook of an unknown room reported one")
	}

	var got []payload
	for i, st := range steps {
		before := time.Now().UTC().Truncate(time.Millisecond)
		status, err := f.c.s.TriggerSession(f.room, st.user, st.action)
		if err != nil || status != http.StatusOK {
			t.Fatalf("step %d: TriggerSession = %d, %v", i+1, status, err)
		}
		ds := f.rc.deliveries()
		if len(ds) != i+1 {
			t.Fatalf("step %d: %d deliveries, want %d", i+1, len(ds), i+1)
		}
		d := ds[i]
		if d.method != http.MethodPost || d.uri != "/hook?tenant=1" {
			t.Errorf("step %d: %s %s, want POST /hook?tenant=1", i+1, d.method, d.uri)
		}
		for k, v := range map[string]string{"Content-Type": "application/json", "X-Secret": "s3cret", "X-Tenant": "acme"} {
			if got := d.header.Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("step %d: header %s = %q, want %q", i+1, k, got, v)
			}
		}
		p := decodePayload(t, d.body)
		got = append(got, p)
		ts, _ := time.Parse(time.RFC3339, p.Payload.Timestamp)
		if p.Action != st.action || p.Payload.RoomID != f.room || p.Payload.UserID != st.user ||
			p.Payload.SessionsCount != st.sessions || p.Payload.MembersCount != st.members {
			t.Errorf("step %d: %+v, want %s of %s with %d sessions and %d members", i+1, p, st.action, st.user, st.sessions, st.members)
		}
		if ts.Before(before) || ts.After(time.Now()) {
			t.Errorf("step %d: timestamp %s is not the time of the event (after %s)", i+1, p.Payload.Timestamp, before)
		}
		if st.sameSessionAs > 0 && p.Payload.SessionID != got[st.sameSessionAs-1].Payload.SessionID {
			t.Errorf("step %d: ends session %s, want step %d's %s", i+1, p.Payload.SessionID, st.sameSessionAs, got[st.sameSessionAs-1].Payload.SessionID)
		}
		if st.sameSessionAs == 0 && slices.ContainsFunc(got[:i], func(q payload) bool { return q.Payload.SessionID == p.Payload.SessionID }) {
			t.Errorf("step %d: a join reused session %s", i+1, p.Payload.SessionID)
		}
		if st.wantMemberOfStep > 0 && p.Payload.MemberID != got[st.wantMemberOfStep-1].Payload.MemberID {
			t.Errorf("step %d: member %s, want step %d's", i+1, p.Payload.MemberID, st.wantMemberOfStep)
		}
		if hasOp(f.c.s, "ListRoomSessions") {
			all := f.c.ok("GET", "/rooms/"+f.room+"/sessions", "") // checked against the document
			if n := len(ids(all, "sessions", "id")); n != st.allSessions {
				t.Errorf("step %d: ListRoomSessions lists %d, want %d", i+1, n, st.allSessions)
			}
			open := 0
			for _, s := range all["sessions"].([]any) {
				if isOpen(s.(map[string]any)) {
					open++
				}
			}
			if open != st.connected {
				t.Errorf("step %d: ListRoomSessions lists %d without disconnected_at, want %d", i+1, open, st.connected)
			}
			if f.c.declaresQuery("ListRoomSessions", "is_connecting") { // since June 2023
				live := f.c.ok("GET", "/rooms/"+f.room+"/sessions?is_connecting=true", "")
				if n := len(ids(live, "sessions", "id")); n != st.connected {
					t.Errorf("step %d: ListRoomSessions(is_connecting) lists %d, want %d", i+1, n, st.connected)
				}
			}
			field := "connected_at"
			if st.action == ActionSessionLeft {
				field = "disconnected_at"
			}
			for _, s := range all["sessions"].([]any) {
				s := s.(map[string]any)
				if s["id"] == p.Payload.SessionID && (s[field] != p.Payload.Timestamp || s["member_id"] != p.Payload.MemberID || s["user_id"] != st.user) {
					t.Errorf("step %d: session %v: want %s %s, member %s", i+1, s, field, p.Payload.Timestamp, p.Payload.MemberID)
				}
			}
		}
	}
	// bob joined the open room, so he became a member of it.
	if users := ids(f.c.ok("GET", "/rooms/"+f.room+"/members", ""), "members", "user_id"); !slices.Equal(users, []string{"ada", "bob"}) {
		t.Errorf("members %v, want [ada bob]", users)
	}
}

func hasOp(s *Server, id string) bool {
	return slices.ContainsFunc(s.Operations(), func(o Operation) bool { return strings.EqualFold(o.OperationID, id) })
}

// roundTripFunc is an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestTriggerSessionRefusals: every refusal is its own error, changes
// nothing, and sends nothing: the transport is never asked to connect.
func TestTriggerSessionRefusals(t *testing.T) {
	tests := []struct {
		name         string
		roomType     string
		setup        func(f hookFixture) (room string) // returns the room to trigger
		user, action string
		want         error
	}{
		{"unknown action", "open", nil, "ada", "sessionPaused", ErrUnknownAction},
		{"unknown room", "open", func(hookFixture) string { return "nope" }, "ada", ActionSessionJoined, ErrRoomNotFound},
		{"unknown user", "open", nil, "carol", ActionSessionJoined, ErrUserNotFound},
		{"private room, not a member", "private", nil, "bob", ActionSessionJoined, ErrNotMember},
		{"terminated room", "open", func(f hookFixture) string {
			f.c.ok("PUT", "/rooms/"+f.room, `{"is_terminated":true}`)
			return f.room
		}, "ada", ActionSessionJoined, ErrRoomTerminated},
		{"leave without a session", "open", nil, "ada", ActionSessionLeft, ErrNoOpenSession},
		{"room without a webhook", "open", func(f hookFixture) string {
			return obj(f.c.ok("POST", "/rooms", `{"name":"plain","type":"open"}`), "room")["id"].(string)
		}, "ada", ActionSessionJoined, ErrNoWebhook},
	}
	for _, u := range []string{
		"https://example.com/hook", "http://10.0.0.1/hook", "http://192.168.1.2:8080/", "http://[::2]/",
		"http://localhost.example.com/", "http://127.0.0.1.example.com/", "ftp://127.0.0.1/", "//127.0.0.1/hook",
		"http://0.0.0.0:8080/",
	} {
		tests = append(tests, struct {
			name         string
			roomType     string
			setup        func(f hookFixture) string
			user, action string
			want         error
		}{"webhook at " + u, "open", func(f hookFixture) string {
			return obj(f.c.ok("POST", "/rooms", fmt.Sprintf(`{"name":"far","type":"open","webhook":{"url":%q}}`, u)), "room")["id"].(string)
		}, "ada", ActionSessionJoined, ErrNotLoopback})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newHookFixture(t, tt.roomType)
			room := f.room
			if tt.setup != nil {
				room = tt.setup(f)
			}
			asked := false
			f.c.s.hooks.client = &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
				asked = true
				return nil, errors.New("must not be called")
			})}
			f.c.s.mu.Lock()
			sessions := len(f.c.s.store.roomSessions(room).items)
			members := len(f.c.s.store.roomMembers(room).items)
			f.c.s.mu.Unlock()

			status, err := f.c.s.TriggerSession(room, tt.user, tt.action)
			if !errors.Is(err, tt.want) || status != 0 {
				t.Fatalf("TriggerSession = %d, %v; want 0, %v", status, err, tt.want)
			}
			if asked {
				t.Error("the transport was asked to deliver")
			}
			f.c.s.mu.Lock()
			defer f.c.s.mu.Unlock()
			if n, m := len(f.c.s.store.roomSessions(room).items), len(f.c.s.store.roomMembers(room).items); n != sessions || m != members {
				t.Errorf("sessions %d → %d, members %d → %d: want no change", sessions, n, members, m)
			}
		})
	}
}

// TestDelivererDialsLoopbackOnly: the dialer itself refuses any address
// off loopback, whatever name resolved to it, before connecting.
func TestDelivererDialsLoopbackOnly(t *testing.T) {
	tr := newDeliverer(defaultConfig()).client.Transport.(*http.Transport)
	if tr.Proxy != nil {
		t.Error("the transport uses a proxy")
	}
	for _, addr := range []string{"10.255.255.1:9", "[2001:db8::1]:9", "0.0.0.0:9"} {
		conn, err := tr.DialContext(t.Context(), "tcp", addr)
		if err == nil {
			conn.Close()
		}
		if !errors.Is(err, ErrNotLoopback) {
			t.Errorf("dial %s: %v, want ErrNotLoopback", addr, err)
		}
	}
	rc := newReceiver(t)
	conn, err := tr.DialContext(t.Context(), "tcp", rc.Listener.Addr().String())
	if err != nil {
		t.Fatalf("dial loopback: %v", err)
	}
	conn.Close()
}

// TestTriggerSessionDeliveryOutcomes: the receiver's status is returned as
// it is; a delivery that fails is an error with status 0; in every case the
// session has changed, as it would on Pagecall.
func TestTriggerSessionDeliveryOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(rc *receiver)
		status  int
		wantErr error // nil: no error
	}{
		{"receiver refuses", func(rc *receiver) { rc.status = http.StatusUnauthorized }, 401, nil},
		{"receiver fails", func(rc *receiver) { rc.status = http.StatusInternalServerError }, 500, nil},
		{"redirect is not followed", func(rc *receiver) { rc.status, rc.location = http.StatusFound, "/elsewhere" }, 302, nil},
		{"receiver too slow", func(rc *receiver) { rc.hold = make(chan struct{}) }, 0, context.DeadlineExceeded},
		{"receiver gone", func(rc *receiver) { rc.Close() }, 0, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newHookFixture(t, "open", WithWebhookTimeout(300*time.Millisecond))
			f.rc.mu.Lock()
			tt.prepare(f.rc)
			hold := f.rc.hold
			f.rc.mu.Unlock()
			if hold != nil {
				defer close(hold)
			}
			start := time.Now()
			status, err := f.c.s.TriggerSession(f.room, "ada", ActionSessionJoined)
			if status != tt.status {
				t.Errorf("status %d, want %d", status, tt.status)
			}
			switch {
			case tt.wantErr == nil && err != nil, tt.wantErr != nil && err == nil,
				tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %v: the timeout did not bound the delivery", time.Since(start))
			}
			if n := len(f.rc.deliveries()); tt.wantErr != errAny && n != 1 {
				t.Errorf("the receiver got %d requests, want 1", n)
			}
			f.c.s.mu.Lock()
			defer f.c.s.mu.Unlock()
			if n := len(f.c.s.store.roomSessions(f.room).list(isOpen)); n != 1 {
				t.Errorf("%d open sessions, want 1: the join happened", n)
			}
		})
	}
}

// errAny stands for "some error" in a table.
var errAny = errors.New("any error")

// TestCloseEndsDelivery: Close does not wait out a slow receiver, and a
// closed server triggers nothing.
func TestCloseEndsDelivery(t *testing.T) {
	f := newHookFixture(t, "open", WithWebhookTimeout(time.Minute))
	f.rc.mu.Lock()
	f.rc.hold = make(chan struct{})
	f.rc.mu.Unlock()
	defer close(f.rc.hold)
	done := make(chan error, 1)
	go func() {
		_, err := f.c.s.TriggerSession(f.room, "ada", ActionSessionJoined)
		done <- err
	}()
	waitUntil(t, func() bool { return len(f.rc.deliveries()) == 1 })
	start := time.Now()
	f.c.s.Close()
	if err := <-done; err == nil {
		t.Error("the cut delivery returned no error")
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Close took %v", time.Since(start))
	}
	if _, err := f.c.s.TriggerSession(f.room, "ada", ActionSessionLeft); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
