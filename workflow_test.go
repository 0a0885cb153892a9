package pagecall_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	pagecall "github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/pagecalltest"
)

// TestWorkflow runs the integrator's workflow (Example_workflow) against the
// mock and checks what the mock received and keeps, not only what the SDK
// returned: "record":false was sent and no webhook key, every request was
// valid for the spec, and the room and user end terminated and deleted.
func TestWorkflow(t *testing.T) {
	srv := pagecalltest.NewTestServer(t)
	c, err := pagecall.NewClient(pagecall.WithAPIKey(pagecalltest.APIKey), pagecall.WithBaseURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	user, err := c.CreateUser(ctx, pagecall.CreateUserRequest{UserID: "ada", Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	room, err := c.CreateRoom(ctx, pagecall.CreateRoomRequest{Name: "standup", Type: pagecall.RoomTypePrivate, Record: pagecall.Ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateMember(ctx, room.ID, pagecall.CreateMemberRequest{UserID: user.UserID, Type: pagecall.MemberTypeHost}); err != nil {
		t.Fatal(err)
	}
	if got, want := pagecall.MeetURL(room.ID, user.AccessToken), "https://app.pagecall.com/meet?room_id="+room.ID+"&access_token="+user.AccessToken; got != want || user.AccessToken == "" {
		t.Errorf("MeetURL = %s, want %s with a token", got, want)
	}
	var members []string
	for m, err := range c.ListMembersSeq(ctx, room.ID) {
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, m.UserID+":"+string(m.Type))
	}
	if strings.Join(members, ",") != "ada:host" {
		t.Errorf("members = %v, want [ada:host]", members)
	}
	ended, err := c.UpdateRoom(ctx, room.ID, pagecall.UpdateRoomRequest{IsTerminated: pagecall.Ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if ended.TerminatedAt.IsZero() {
		t.Error("UpdateRoom with is_terminated true returned no terminated_at")
	}
	if _, err := c.DeleteUser(ctx, user.UserID); err != nil {
		t.Fatal(err)
	}

	// What the mock received.
	var createRoom map[string]json.RawMessage
	for _, r := range srv.Requests() {
		if r.Status != http.StatusOK {
			t.Errorf("%s %s answered %d: %s", r.Method, r.Path, r.Status, r.Response)
		}
		if r.Method == http.MethodPost && r.Path == "/v1/rooms" {
			if err := json.Unmarshal(r.Body, &createRoom); err != nil {
				t.Fatal(err)
			}
		}
	}
	if string(createRoom["record"]) != "false" {
		t.Errorf(`CreateRoom sent record %s, want false`, createRoom["record"])
	}
	if _, ok := createRoom["webhook"]; ok {
		t.Errorf("CreateRoom sent a webhook: %s", createRoom["webhook"])
	}
	// What the mock keeps.
	if r, ok := srv.Room(room.ID); !ok || r["is_terminated"] != true || r["record"] != false {
		t.Errorf("the mock's room = %v, want terminated and not recorded", r)
	}
	if srv.UserExists(user.UserID) {
		t.Error("the user still exists")
	}
}
