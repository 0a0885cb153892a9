package pagecalltest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	mrand "math/rand"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// documentExamples returns every string the document offers as an example
// or a default, anywhere, and the sampler's fallback for a string: the
// values an object would get if the mock answered from the document alone.
// No minted value may be one of them.
func documentExamples(t *testing.T, s *Server) map[string]bool {
	t.Helper()
	raw, err := json.Marshal(s.spec.doc)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{sampleString(&openapi3.Schema{}): true}
	var strs func(v any)
	strs = func(v any) {
		switch v := v.(type) {
		case string:
			out[v] = true
		case []any:
			for _, e := range v {
				strs(e)
			}
		case map[string]any:
			for _, e := range v {
				strs(e)
			}
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				if k == "example" || k == "examples" || k == "default" {
					strs(e)
				}
				walk(e)
			}
		}
	}
	walk(doc)
	return out
}

// pathOf is the path of the operation below the base URL, its parameters
// filled in order: the mock finds operations by operationId, so do the
// tests that must work on every published version.
func pathOf(t *testing.T, s *Server, operationID string, args ...string) string {
	t.Helper()
	for _, op := range s.Operations() {
		if strings.EqualFold(op.OperationID, operationID) {
			i := 0
			return pathParamPattern.ReplaceAllStringFunc(op.Path, func(string) string {
				i++
				if i > len(args) {
					t.Fatalf("%s %s: too few arguments %v", operationID, op.Path, args)
				}
				return args[i-1]
			})
		}
	}
	t.Fatalf("the document has no %s", operationID)
	return ""
}

// minted is a value the mock minted for one object, and what each read
// operation said of that object later.
type minted struct {
	value string
	reads map[string]any // read operation: the value it gave
}

// TestCreateMintsPerObject checks every operation that creates what
// Pagecall gives an ID or a token: each created object gets a value of its
// own, never one of the document's examples, and every later read (get,
// list) gives the value the create answered.
func TestCreateMintsPerObject(t *testing.T) {
	tests := []struct {
		name string
		// mint creates two objects and reports what each was given.
		mint func(t *testing.T, c client) []minted
	}{
		{"CreateUser access_token", func(t *testing.T, c client) []minted {
			c.needOps("createUser", "GetUser", "ListUsers")
			var out []minted
			for _, id := range []string{"ada", "bob"} {
				tok, _ := obj(c.ok("POST", "/users", `{"user_id":"`+id+`"}`), "user")["access_token"].(string)
				out = append(out, minted{tok, map[string]any{
					"GetUser":   obj(c.ok("GET", pathOf(t, c.s, "GetUser", id), ""), "user")["access_token"],
					"ListUsers": field(c.ok("GET", "/users", ""), "users", "user_id", id, "access_token"),
				}})
			}
			return out
		}},
		{"CreateRoom id", func(t *testing.T, c client) []minted {
			c.needOps("createRoom", "getRoom", "listRooms")
			var out []minted
			for _, name := range []string{"one", "two"} {
				id, _ := obj(c.ok("POST", "/rooms", `{"name":"`+name+`","type":"public"}`), "room")["id"].(string)
				out = append(out, minted{id, map[string]any{
					"GetRoom":   obj(c.ok("GET", "/rooms/"+id, ""), "room")["id"],
					"ListRooms": field(c.ok("GET", "/rooms?name="+name, ""), "rooms", "name", name, "id"),
				}})
			}
			return out
		}},
		{"CreateMember id", func(t *testing.T, c client) []minted {
			c.needOps("createUser", "createRoom", "CreateMember", "GetMember", "ListMembers")
			room := obj(c.ok("POST", "/rooms", `{"name":"r","type":"public"}`), "room")["id"].(string)
			var out []minted
			for _, user := range []string{"ada", "bob"} {
				c.ok("POST", "/users", `{"user_id":"`+user+`"}`)
				id, _ := obj(c.ok("POST", "/rooms/"+room+"/members", `{"user_id":"`+user+`"}`), "member")["id"].(string)
				out = append(out, minted{id, map[string]any{
					"GetMember":   obj(c.ok("GET", "/rooms/"+room+"/members/"+id, ""), "member")["id"],
					"ListMembers": field(c.ok("GET", "/rooms/"+room+"/members", ""), "members", "user_id", user, "id"),
				}})
			}
			return out
		}},
		{"CreateRoomPages id", func(t *testing.T, c client) []minted {
			c.needOps("createRoom", "CreateRoomPages")
			room := obj(c.ok("POST", "/rooms", `{"name":"board","type":"open"}`), "room")["id"].(string)
			var out []minted
			for range 2 {
				// The mock keeps no pages: no operation reads one back.
				pages, _ := c.ok("POST", pathOf(t, c.s, "CreateRoomPages", room), `[{"index":0}]`)["pages"].([]any)
				if len(pages) != 1 {
					t.Fatalf("pages = %v, want one", pages)
				}
				id, _ := pages[0].(map[string]any)["id"].(string)
				out = append(out, minted{id, nil})
			}
			return out
		}},
		{"TriggerSession session id", func(t *testing.T, _ client) []minted {
			f := newHookFixture(t, "open")
			f.c.needOps("ListRoomSessions")
			var out []minted
			for _, user := range []string{"ada", "bob"} {
				if _, err := f.c.s.TriggerSession(f.room, user, ActionSessionJoined); err != nil {
					t.Fatal(err)
				}
				sessions := f.c.ok("GET", pathOf(t, f.c.s, "ListRoomSessions", f.room), "")
				id, _ := field(sessions, "sessions", "user_id", user, "id").(string)
				ds := f.rc.deliveries()
				out = append(out, minted{id, map[string]any{
					"webhook": decodePayload(t, ds[len(ds)-1].body).Payload.SessionID,
					"ListRoomSessions (later)": field(f.c.ok("GET", pathOf(t, f.c.s, "ListRoomSessions", f.room), ""),
						"sessions", "user_id", user, "id"),
				}})
			}
			return out
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := client{t, NewTestServer(t)}
			examples := documentExamples(t, c.s)
			got := tt.mint(t, c)
			seen := map[string]bool{}
			for i, m := range got {
				switch {
				case m.value == "":
					t.Errorf("object %d: nothing minted", i+1)
				case examples[m.value]:
					t.Errorf("object %d: %q is the document's example", i+1, m.value)
				case seen[m.value]:
					t.Errorf("object %d: %q was minted before, for another object", i+1, m.value)
				}
				seen[m.value] = true
				for op, v := range m.reads {
					if v != m.value {
						t.Errorf("object %d: %s gives %v, the create gave %q", i+1, op, v, m.value)
					}
				}
			}
		})
	}
}

// field returns property want of the item of list whose property key is
// id, nil if there is none.
func field(body map[string]any, list, key, id, want string) any {
	items, _ := body[list].([]any)
	for _, it := range items {
		if o, _ := it.(map[string]any); o[key] == id {
			return o[want]
		}
	}
	return nil
}

var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{32}$`)

// TestEachUserGetsItsOwnAccessToken checks the token a meeting URL carries:
// each user has one of their own, shaped like the document's example but
// never it (the seeded example user neither), and keeps it for life, across
// an upsert by CreateUser and an UpdateUser.
func TestEachUserGetsItsOwnAccessToken(t *testing.T) {
	c := client{t, NewTestServer(t)}
	c.needOps("createUser", "GetUser", "UpdateUser")
	if !c.s.store.users.has("access_token") {
		t.Skip("the document's User has no access_token")
	}
	examples := documentExamples(t, c.s)
	token := func(id string) string {
		tok, _ := obj(c.ok("GET", pathOf(t, c.s, "GetUser", id), ""), "user")["access_token"].(string)
		return tok
	}
	ada, _ := obj(c.ok("POST", "/users", `{"user_id":"ada"}`), "user")["access_token"].(string)
	bob, _ := obj(c.ok("POST", "/users", `{"user_id":"bob"}`), "user")["access_token"].(string)
	seed := token(c.s.store.seedUser)
	for who, tok := range map[string]string{"ada": ada, "bob": bob, "the seeded user": seed} {
		if !tokenPattern.MatchString(tok) || examples[tok] {
			t.Errorf("%s's token %q: want 32 URL-safe characters, not the document's example", who, tok)
		}
	}
	if ada == bob || ada == seed || bob == seed {
		t.Errorf("tokens ada %q, bob %q, seed %q: want one per user", ada, bob, seed)
	}
	c.ok("POST", "/users", `{"user_id":"ada","name":"Ada"}`) // an upsert: the same user
	c.ok("PUT", pathOf(t, c.s, "UpdateUser", "ada"), `{"name":"Ada L."}`)
	if got := token("ada"); got != ada {
		t.Errorf("after an upsert and an update, ada's token is %q, want %q as created", got, ada)
	}
	c.s.AddUser("carol", map[string]any{"access_token": "chosen-by-the-test"})
	if got := token("carol"); got != "chosen-by-the-test" {
		t.Errorf("AddUser with a token: %q, want the one given", got)
	}
}

// TestRequestCannotSetMintedValues checks that fields a request's schema
// does not declare are not stored: validation lets them through, but they
// must not overwrite what the server mints (a token, an ID, a workspace,
// a creation time).
func TestRequestCannotSetMintedValues(t *testing.T) {
	c := client{t, NewTestServer(t)}
	c.needOps("createUser", "createRoom", "updateRoom")
	const forged = "forged-by-the-caller"
	const forgedTime = "2000-01-01T00:00:00Z"
	user := obj(c.ok("POST", "/users", `{"user_id":"ada","access_token":"`+forged+`","created_at":"`+forgedTime+`"}`), "user")
	room := obj(c.ok("POST", "/rooms", `{"name":"r","type":"public","id":"`+forged+`","application_id":"`+forged+`","created_at":"`+forgedTime+`","thumbnail_url":"`+forged+`"}`), "room")
	id, _ := room["id"].(string)
	updated := obj(c.ok("PUT", "/rooms/"+id, `{"name":"r2","application_id":"`+forged+`","created_at":"`+forgedTime+`"}`), "room")
	for what, o := range map[string]map[string]any{"CreateUser": user, "CreateRoom": room, "UpdateRoom": updated} {
		for k, v := range o {
			if v == forged || v == forgedTime {
				t.Errorf("%s stored %s = %v from the request, which does not declare it", what, k, v)
			}
		}
	}
	if updated["name"] != "r2" {
		t.Errorf("UpdateRoom name = %v, want r2: a declared field is stored", updated["name"])
	}
}

// TestNewObjectsHoldNoExampleValues checks that a created user or room
// holds what the request sent, what the server minted and the documented
// defaults, and none of the document's examples for the optional fields
// nobody set: no user is named "scotty", no new room has met, ended or has
// a thumbnail.
func TestNewObjectsHoldNoExampleValues(t *testing.T) {
	c := client{t, NewTestServer(t)}
	c.needOps("createUser", "createRoom")
	user := obj(c.ok("POST", "/users", `{"user_id":"ada"}`), "user")
	room := obj(c.ok("POST", "/rooms", `{"name":"r","type":"public"}`), "room")
	for _, tt := range []struct {
		what   string
		got    map[string]any
		coll   *collection
		absent []string
	}{
		{"user", user, c.s.store.users, []string{"name", "profile_url"}},
		{"room", room, c.s.store.rooms, []string{"thumbnail_url", "layout", "created_user_id", "room_template_id",
			"meeting_time", "started_at", "terminated_at", "last_thumbnail_updated_at", "is_ephemeral", "is_recurring"}},
	} {
		for _, k := range tt.absent {
			if v, ok := tt.got[k]; ok {
				t.Errorf("new %s has %s = %v, which nobody set", tt.what, k, v)
			}
		}
	}
	if c.s.store.users.has("default_member_type") && user["default_member_type"] != "guest" {
		t.Errorf("default_member_type = %v, want the documented default guest", user["default_member_type"])
	}
	if c.s.store.rooms.has("record") && room["record"] != true {
		t.Errorf("record = %v, want the documented default true", room["record"])
	}
}

// TestRoomsShareTheServersWorkspace checks application_id, the workspace
// a room belongs to: one mock server is one workspace, so every room, the
// seeded one too, has the same one, minted per server rather than the
// document's example.
func TestRoomsShareTheServersWorkspace(t *testing.T) {
	var workspaces []any
	for range 2 {
		c := client{t, NewTestServer(t)}
		c.needOps("createRoom", "listRooms")
		if !c.s.store.rooms.has("application_id") {
			t.Skip("the document's Room has no application_id")
		}
		c.ok("POST", "/rooms", `{"name":"one","type":"public"}`)
		c.ok("POST", "/rooms", `{"name":"two","type":"public"}`)
		rooms, _ := c.ok("GET", "/rooms", "")["rooms"].([]any)
		if len(rooms) != 3 {
			t.Fatalf("rooms = %v, want the seeded one and two created", rooms)
		}
		examples := documentExamples(t, c.s)
		ws := rooms[0].(map[string]any)["application_id"]
		for i, r := range rooms {
			if got := r.(map[string]any)["application_id"]; got != ws || got == nil || examples[fmt.Sprint(got)] {
				t.Errorf("room %d: application_id %v, want the server's own workspace %v", i, got, ws)
			}
		}
		workspaces = append(workspaces, ws)
	}
	if workspaces[0] == workspaces[1] {
		t.Errorf("two servers share workspace %v", workspaces[0])
	}
}

// TestIDsAreUniqueAcrossServers checks the minter that every ID comes
// from: 24 hex digits, as Pagecall's, and unique within a server and
// across servers, even at the same instant.
func TestIDsAreUniqueAcrossServers(t *testing.T) {
	now := time.Now()
	a, b := newMinter(), newMinter()
	seen := map[string]bool{}
	hex24 := regexp.MustCompile(`^[0-9a-f]{24}$`)
	for i := range 1000 {
		for _, m := range []*minter{a, b} {
			id := m.id(now)
			if !hex24.MatchString(id) || seen[id] {
				t.Fatalf("id %d: %q, want 24 hex digits never seen before", i, id)
			}
			seen[id] = true
		}
	}
}

// TestAccessTokensShareNoStructure checks that tokens are random bytes, not
// a counter or a clock in disguise: two tokens of 24 random bytes agree at
// a given position with odds 1/256, so no pair among a few dozen agrees
// at 8 of them unless one is derived from the other.
func TestAccessTokensShareNoStructure(t *testing.T) {
	var raw [][]byte
	for range 48 {
		b, err := base64.RawURLEncoding.DecodeString(accessToken())
		if err != nil || len(b) != 24 {
			t.Fatalf("token bytes %x, %v: want 24 bytes of URL-safe base64", b, err)
		}
		raw = append(raw, b)
	}
	for i := range raw {
		for j := range i {
			same := 0
			for k := range raw[i] {
				if raw[i][k] == raw[j][k] {
					same++
				}
			}
			if same >= 8 {
				t.Fatalf("tokens %x and %x agree at %d of 24 bytes: one predicts the other", raw[j], raw[i], same)
			}
		}
	}
}

// TestAccessTokenNotSeededByTheClock checks that a token cannot be rebuilt
// from the time it was minted: it is not what math/rand gives when seeded
// with any nanosecond around the mint.
func TestAccessTokenNotSeededByTheClock(t *testing.T) {
	before := time.Now().UnixNano()
	tok := accessToken()
	after := time.Now().UnixNano()
	// A bound on the search: the mint takes microseconds, so the seed
	// sits near before; a slower mint leaves part of its window unsearched.
	after = min(after, before+100_000)
	var b [24]byte
	for seed := before; seed <= after; seed++ {
		_, _ = mrand.New(mrand.NewSource(seed)).Read(b[:])
		if base64.RawURLEncoding.EncodeToString(b[:]) == tok {
			t.Fatalf("token %q is math/rand seeded with the mint time %d", tok, seed)
		}
	}
}

// TestMintersDifferInTheirRandomPart checks that two servers' IDs differ
// even when their counters coincide: each minter has a random value of its
// own, as each MongoDB process has.
func TestMintersDifferInTheirRandomPart(t *testing.T) {
	now := time.Now()
	a, b := newMinter(), newMinter()
	b.counter = a.counter
	if x, y := a.id(now), b.id(now); x == y {
		t.Errorf("two servers with the same counter mint the same ID %s", x)
	}
}
