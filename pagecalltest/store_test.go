package pagecalltest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// client sends requests to a Server and checks every answer against the
// document, so that the store's answers are proven spec-valid as they change.
type client struct {
	t *testing.T
	s *Server
}

// needOps skips the test unless the document has every named operation:
// CI runs the tests on every published version, and older ones lack some.
func (c client) needOps(ids ...string) {
	c.t.Helper()
	have := map[string]bool{}
	for _, op := range c.s.Operations() {
		have[strings.ToLower(op.OperationID)] = true
	}
	for _, id := range ids {
		if !have[strings.ToLower(id)] {
			c.t.Skipf("the document has no %s operation", id)
		}
	}
}

// declaresQuery reports whether the operation declares the query parameter:
// ListRooms gained is_terminated in 2023.
func (c client) declaresQuery(operationID, name string) bool {
	for _, route := range c.s.spec.operations() {
		if strings.EqualFold(route.Operation.OperationID, operationID) {
			return route.Operation.Parameters.GetByInAndName("query", name) != nil
		}
	}
	return false
}

// declaresBodyField reports whether the operation's JSON request body
// declares the property: CreateRoomRequest lacked members in 2024-02-13.
func (c client) declaresBodyField(operationID, name string) bool {
	for _, route := range c.s.spec.operations() {
		if strings.EqualFold(route.Operation.OperationID, operationID) {
			return requestFields(route.Operation, map[string]any{name: true})[name] != nil
		}
	}
	return false
}

// do sends method path (below the base URL) with body ("" for none), checks
// the answer against the document (its status too: a refusal must be one
// the operation declares) and returns its status and decoded body.
func (c client) do(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.s.URL()+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+APIKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	// Route the request as the server saw it, then validate the answer.
	probe := httptest.NewRequest(method, c.s.spec.basePath+path, strings.NewReader(body))
	route, params, err := c.s.spec.router.FindRoute(probe)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	// Every answer, refusals included: its status must be one the
	// operation declares.
	checkResponse(c.t, probe, params, route, resp, raw)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("%s %s: body %s: %v", method, path, raw, err)
	}
	return resp.StatusCode, out
}

// ok is do that fails the test unless the answer is 200.
func (c client) ok(method, path, body string) map[string]any {
	c.t.Helper()
	status, out := c.do(method, path, body)
	if status != http.StatusOK {
		c.t.Fatalf("%s %s: status %d, body %v", method, path, status, out)
	}
	return out
}

func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

func ids(m map[string]any, key, id string) []string {
	var out []string
	items, _ := m[key].([]any)
	for _, it := range items {
		out = append(out, fmt.Sprint(it.(map[string]any)[id]))
	}
	return out
}

// TestStoreRoomsAndMembers follows a room through its life: what CreateRoom
// returns, GetRoom and ListRooms return; CreateMember adds to ListMembers;
// UpdateRoom with is_terminated ends it; DeleteRoom removes it.
func TestStoreRoomsAndMembers(t *testing.T) {
	c := client{t, NewTestServer(t)}
	c.needOps("createUser", "createRoom", "getRoom", "listRooms", "updateRoom", "deleteRoom", "CreateMember", "ListMembers", "GetMember", "UpdateMember")

	c.ok("POST", "/users", `{"user_id":"ada","name":"Ada","default_member_type":"host"}`)
	room := obj(c.ok("POST", "/rooms", `{"name":"standup","type":"private","record":false}`), "room")
	id, _ := room["id"].(string)
	if id == "" || room["name"] != "standup" || room["type"] != "private" {
		t.Fatalf("created room = %v", room)
	}
	if rec, ok := room["record"]; ok && rec != false {
		t.Errorf("record = %v, want false as sent", rec)
	}
	if got := obj(c.ok("GET", "/rooms/"+id, ""), "room"); got["id"] != id || got["name"] != "standup" {
		t.Errorf("GetRoom = %v, want the created room", got)
	}
	if got := ids(c.ok("GET", "/rooms?name=standup", ""), "rooms", "id"); len(got) != 1 || got[0] != id {
		t.Errorf("ListRooms(name=standup) = %v, want [%s]", got, id)
	}

	member := obj(c.ok("POST", "/rooms/"+id+"/members", `{"user_id":"ada"}`), "member")
	if member["user_id"] != "ada" || member["room_id"] != id || member["type"] != "host" {
		t.Errorf("created member = %v, want ada as host (her default_member_type) in %s", member, id)
	}
	if got := ids(c.ok("GET", "/rooms/"+id+"/members", ""), "members", "user_id"); len(got) != 1 || got[0] != "ada" {
		t.Errorf("ListMembers = %v, want [ada]", got)
	}
	for _, key := range []string{member["id"].(string), "ada"} {
		if got := obj(c.ok("GET", "/rooms/"+id+"/members/"+key, ""), "member"); got["id"] != member["id"] {
			t.Errorf("GetMember(%s) = %v, want %v", key, got, member)
		}
	}
	if got := obj(c.ok("PUT", "/rooms/"+id+"/members/ada", `{"type":"guest"}`), "member"); got["type"] != "guest" {
		t.Errorf("UpdateMember type = %v, want guest", got["type"])
	}
	if status, _ := c.do("POST", "/rooms/"+id+"/members", `{"user_id":"nobody"}`); status == http.StatusOK {
		t.Error("CreateMember of an unknown user succeeded")
	}

	ended := obj(c.ok("PUT", "/rooms/"+id, `{"is_terminated":true}`), "room")
	if _, has := c.s.spec.doc.Components.Schemas["Room"].Value.Properties["is_terminated"]; has && ended["is_terminated"] != true {
		t.Errorf("after terminating: %v", ended)
	}
	if c.declaresQuery("listRooms", "is_terminated") {
		if open := ids(c.ok("GET", "/rooms?is_terminated=false", ""), "rooms", "id"); contains(open, id) {
			t.Errorf("ListRooms(is_terminated=false) = %v still lists the terminated room", open)
		}
		if done := ids(c.ok("GET", "/rooms?is_terminated=true", ""), "rooms", "id"); !contains(done, id) {
			t.Errorf("ListRooms(is_terminated=true) = %v lacks the terminated room", done)
		}
	}

	c.ok("DELETE", "/rooms/"+id, "")
	if status, out := c.do("GET", "/rooms/"+id, ""); status != http.StatusBadRequest || out["message"] != "room not found" {
		t.Errorf("GetRoom after delete: %d %v", status, out)
	}
	if status, _ := c.do("GET", "/rooms/"+id+"/members", ""); status != http.StatusBadRequest {
		t.Errorf("ListMembers of a deleted room: %d", status)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestStoreListRoomsPaging: offset and limit select a page in creation
// order, and paging tells the truth about it.
func TestStoreListRoomsPaging(t *testing.T) {
	c := client{t, NewTestServer(t)}
	c.needOps("createRoom", "listRooms")
	seeded := len(c.s.RoomIDs())
	var created []string
	for i := range 7 {
		r := obj(c.ok("POST", "/rooms", fmt.Sprintf(`{"name":"room %d","type":"open"}`, i)), "room")
		created = append(created, r["id"].(string))
	}
	all := append(c.s.RoomIDs()[:seeded:seeded], created...)
	tests := []struct {
		query                string
		wantFrom, wantTo     int // indexes into all
		wantLimit, wantTotal int
	}{
		{"offset=0&limit=3", 0, 3, 3, len(all)},
		{"offset=3&limit=3", 3, 6, 3, len(all)},
		{"offset=6&limit=3", 6, len(all), 3, len(all)},
		{"offset=100&limit=3", len(all), len(all), 3, len(all)},
		{"", 0, len(all), 30, len(all)},
		{"name=room%203", seeded + 3, seeded + 4, 30, 1},
	}
	for _, tt := range tests {
		out := c.ok("GET", "/rooms?"+tt.query, "")
		got := ids(out, "rooms", "id")
		if want := all[tt.wantFrom:tt.wantTo]; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("ListRooms(%s) = %v, want %v", tt.query, got, want)
		}
		p := obj(out, "paging")
		if p["limit"] != float64(tt.wantLimit) || p["total"] != float64(tt.wantTotal) {
			t.Errorf("ListRooms(%s) paging = %v, want limit %d total %d", tt.query, p, tt.wantLimit, tt.wantTotal)
		}
	}
}

// TestStoreUsers: CreateUser is an upsert that keeps created_at; GetUser,
// UpdateUser and ListUsers see it; DeleteUser removes it.
func TestStoreUsers(t *testing.T) {
	c := client{t, NewTestServer(t)}
	c.needOps("createUser", "GetUser", "UpdateUser", "ListUsers", "DeleteUser")
	first := obj(c.ok("POST", "/users", `{"user_id":"u1","name":"One"}`), "user")
	second := obj(c.ok("POST", "/users", `{"user_id":"u1","name":"Uno"}`), "user")
	if second["name"] != "Uno" || second["created_at"] != first["created_at"] {
		t.Errorf("upsert = %v after %v: want the new name and the first created_at", second, first)
	}
	if got := obj(c.ok("PUT", "/users/u1", `{"name":"Eins"}`), "user"); got["name"] != "Eins" {
		t.Errorf("UpdateUser = %v", got)
	}
	if got := ids(c.ok("GET", "/users", ""), "users", "user_id"); !contains(got, "u1") {
		t.Errorf("ListUsers = %v lacks u1", got)
	}
	c.ok("DELETE", "/users/u1", "")
	if status, _ := c.do("GET", "/users/u1", ""); status != http.StatusBadRequest {
		t.Errorf("GetUser after delete: status %d", status)
	}
}

// TestCreateRoomsPageAnswersTheRequest checks that CreateRoomPages answers
// with the pages that were asked for, one created page per requested page,
// in order, each with its own entities and a new ID; and not the example's
// two pages whatever was sent.
func TestCreateRoomsPageAnswersTheRequest(t *testing.T) {
	c := client{t, NewTestServer(t)}
	c.needOps("createRoom", "CreateRoomPages")
	room := obj(c.ok("POST", "/rooms", `{"name":"board","type":"open"}`), "room")["id"].(string)
	// The path is found by operationId, as the mock finds its operations.
	pagesPath := func(roomID string) string {
		for _, op := range c.s.Operations() {
			if strings.EqualFold(op.OperationID, "CreateRoomPages") {
				return pathParamPattern.ReplaceAllString(op.Path, roomID)
			}
		}
		return ""
	}
	img := func(n int) string { return fmt.Sprintf(`{"type":"Image","src":"https://example.com/%d.png"}`, n) }
	tests := []struct {
		name  string
		body  string
		want  []int // per created page: how many entities, -1 for none given
		first string
	}{
		{"one page, one entity", `[{"entities":[` + img(1) + `]}]`, []int{1}, "https://example.com/1.png"},
		{"three pages", `[{"entities":[` + img(1) + `,` + img(2) + `]},{"entities":[]},{"entities":[` + img(3) + `]}]`, []int{2, 0, 1}, "https://example.com/1.png"},
		{"a page without entities", `[{"index":0}]`, []int{-1}, ""},
		{"no pages", `[]`, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, _ := c.ok("POST", pagesPath(room), tt.body)["pages"].([]any)
			if len(pages) != len(tt.want) {
				t.Fatalf("%d pages created, want %d: %v", len(pages), len(tt.want), pages)
			}
			seen := map[any]bool{}
			for i, p := range pages {
				page := p.(map[string]any)
				if id, _ := page["id"].(string); id == "" || seen[id] {
					t.Errorf("page %d: id %v, want a new one", i, page["id"])
				}
				seen[page["id"]] = true
				ents, has := page["entities"].([]any)
				if tt.want[i] < 0 {
					if has {
						t.Errorf("page %d: entities %v made up; none were sent", i, ents)
					}
					continue
				}
				if len(ents) != tt.want[i] {
					t.Errorf("page %d: %d entities, want %d: %v", i, len(ents), tt.want[i], ents)
				}
			}
			if tt.first != "" {
				if src := pages[0].(map[string]any)["entities"].([]any)[0].(map[string]any)["src"]; src != tt.first {
					t.Errorf("first entity src = %v, want %s", src, tt.first)
				}
			}
		})
	}
	if status, out := c.do("POST", pagesPath("nowhere"), `[{"entities":[`+img(1)+`]}]`); status == http.StatusOK || out["message"] != "room not found" {
		t.Errorf("pages for an unknown room: %d %v, want room not found", status, out)
	}
}

// TestMembersAreCheckedAlike checks that CreateRoom refuses a member whose
// user does not exist exactly as CreateMember does (same status, same
// message), creates no room then, and accepts a member who exists.
func TestMembersAreCheckedAlike(t *testing.T) {
	c := client{t, NewTestServer(t)}
	c.needOps("createUser", "createRoom", "listRooms", "CreateMember", "ListMembers")
	if !c.declaresBodyField("createRoom", "members") {
		t.Skip("the document's CreateRoom request declares no members")
	}
	c.ok("POST", "/users", `{"user_id":"ada","name":"Ada"}`)
	room := obj(c.ok("POST", "/rooms", `{"name":"r","type":"open"}`), "room")["id"].(string)

	memberStatus, memberOut := c.do("POST", "/rooms/"+room+"/members", `{"user_id":"nobody","type":"guest"}`)
	if memberStatus == http.StatusOK {
		t.Fatal("CreateMember of an unknown user succeeded")
	}
	before := len(c.s.RoomIDs())
	roomStatus, roomOut := c.do("POST", "/rooms", `{"name":"r2","type":"open","members":[{"user_id":"ada","type":"host"},{"user_id":"nobody","type":"guest"}]}`)
	if roomStatus != memberStatus || roomOut["message"] != memberOut["message"] {
		t.Errorf("CreateRoom with an unknown member: %d %v; CreateMember: %d %v; want the same", roomStatus, roomOut, memberStatus, memberOut)
	}
	if after := len(c.s.RoomIDs()); after != before {
		t.Errorf("a refused CreateRoom created a room: %d rooms, had %d", after, before)
	}

	ok := obj(c.ok("POST", "/rooms", `{"name":"r3","type":"open","members":[{"user_id":"ada","type":"host"}]}`), "room")
	if got := ids(c.ok("GET", "/rooms/"+ok["id"].(string)+"/members", ""), "members", "user_id"); len(got) != 1 || got[0] != "ada" {
		t.Errorf("members of a room created with ada = %v, want [ada]", got)
	}
}

// TestMemberIDsArePerRoom checks that a user who joins two rooms is a
// different member of each: a member ID names one membership.
func TestMemberIDsArePerRoom(t *testing.T) {
	c := client{t, NewTestServer(t)}
	c.needOps("createUser", "createRoom", "CreateMember", "GetMember")
	c.ok("POST", "/users", `{"user_id":"ada"}`)
	seen := map[string]string{}
	for _, name := range []string{"one", "two"} {
		room := obj(c.ok("POST", "/rooms", `{"name":"`+name+`","type":"public"}`), "room")["id"].(string)
		id, _ := obj(c.ok("POST", "/rooms/"+room+"/members", `{"user_id":"ada"}`), "member")["id"].(string)
		if other, ok := seen[id]; ok {
			t.Errorf("ada is member %s of room %s and of room %s", id, other, room)
		}
		seen[id] = room
		if got := obj(c.ok("GET", "/rooms/"+room+"/members/"+id, ""), "member")["room_id"]; got != room {
			t.Errorf("member %s: room_id %v, want %s", id, got, room)
		}
	}
}

// TestUpdateRoomKeepsItsWorkspace checks that a room stays in the server's
// workspace for its life: an update does not move it.
func TestUpdateRoomKeepsItsWorkspace(t *testing.T) {
	c := client{t, NewTestServer(t)}
	c.needOps("createRoom", "updateRoom", "getRoom")
	if !c.s.store.rooms.has("application_id") {
		t.Skip("the document's Room has no application_id")
	}
	room := obj(c.ok("POST", "/rooms", `{"name":"r","type":"public"}`), "room")
	id := room["id"].(string)
	c.ok("PUT", "/rooms/"+id, `{"name":"r2"}`)
	if got := obj(c.ok("GET", "/rooms/"+id, ""), "room")["application_id"]; got != room["application_id"] {
		t.Errorf("after an update, application_id %v, want %v as created", got, room["application_id"])
	}
}

// TestCreateMemberAgainKeepsTheMemberID checks that adding a user to a room
// they are already in updates their membership, which keeps its ID: one
// member per user and room, for the membership's life.
func TestCreateMemberAgainKeepsTheMemberID(t *testing.T) {
	c := client{t, NewTestServer(t)}
	c.needOps("createUser", "createRoom", "CreateMember", "GetMember", "ListMembers")
	c.ok("POST", "/users", `{"user_id":"ada"}`)
	room := obj(c.ok("POST", "/rooms", `{"name":"r","type":"public"}`), "room")["id"].(string)
	first, _ := obj(c.ok("POST", "/rooms/"+room+"/members", `{"user_id":"ada"}`), "member")["id"].(string)
	again, _ := obj(c.ok("POST", "/rooms/"+room+"/members", `{"user_id":"ada"}`), "member")["id"].(string)
	if again != first {
		t.Errorf("ada added again: member %q, want %q as first added", again, first)
	}
	if got := obj(c.ok("GET", "/rooms/"+room+"/members/"+first, ""), "member")["id"]; got != first {
		t.Errorf("GetMember %s gives %v", first, got)
	}
	if got := ids(c.ok("GET", "/rooms/"+room+"/members", ""), "members", "id"); len(got) != 1 || got[0] != first {
		t.Errorf("members %v, want ada's one, %s", got, first)
	}
}
