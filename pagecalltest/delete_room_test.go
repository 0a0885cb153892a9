package pagecalltest

import (
	"net/http"
	"testing"
)

// TestDeleteRoomForgetsMembers: after DeleteRoom the mock keeps none of the
// room's members: Server.Members is empty and neither ListMembers nor
// GetMember finds them.
func TestDeleteRoomForgetsMembers(t *testing.T) {
	t.Parallel()
	c := client{t, NewTestServer(t)}
	c.needOps("createUser", "createRoom", "deleteRoom", "CreateMember", "ListMembers", "GetMember")

	c.ok("POST", "/users", `{"user_id":"ada","name":"Ada"}`)
	id, _ := obj(c.ok("POST", "/rooms", `{"name":"standup","type":"private","record":false}`), "room")["id"].(string)
	member := obj(c.ok("POST", "/rooms/"+id+"/members", `{"user_id":"ada"}`), "member")
	if got := c.s.Members(id); len(got) != 1 {
		t.Fatalf("control: Members(%s) = %v before the delete, want ada", id, got)
	}

	c.ok("DELETE", "/rooms/"+id, "")
	if got := c.s.Members(id); len(got) != 0 {
		t.Errorf("Members(%s) after DeleteRoom = %v, want none", id, got)
	}
	if status, out := c.do("GET", "/rooms/"+id+"/members", ""); status == http.StatusOK {
		t.Errorf("ListMembers of the deleted room: 200 %v", out)
	}
	for _, key := range []string{member["id"].(string), "ada"} {
		if status, out := c.do("GET", "/rooms/"+id+"/members/"+key, ""); status == http.StatusOK {
			t.Errorf("GetMember(%s) of the deleted room: 200 %v", key, out)
		}
	}
}
