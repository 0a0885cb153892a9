package main

import (
	"slices"
	"testing"
)

// TestNameCommands pins the naming rules (naming.go) on the shapes every
// published spec version has, and on the cases the rules must handle
// however a future spec looks: a path of its own, collisions, reserved
// names.
func TestNameCommands(t *testing.T) {
	t.Parallel()
	type op struct{ method, path, id, want string }
	tests := []struct {
		name     string
		tags     []string
		reserved []string
		ops      []op
	}{
		{
			name: "the resources, by path, whatever the tags",
			tags: []string{"member", "room", "user"},
			ops: []op{
				{"GET", "/rooms", "listRooms", "rooms list"},
				{"POST", "/rooms", "createRoom", "rooms create"},
				{"GET", "/rooms/{id}", "getRoom", "rooms get"},
				{"PUT", "/rooms/{id}", "updateRoom", "rooms update"},
				{"DELETE", "/rooms/{id}", "deleteRoom", "rooms delete"},
				// api/overlay.yaml's operationIds, as the CLI sees them.
				{"GET", "/rooms/{room_id}/sessions", "ListRoomSessions", "rooms sessions"},
				{"POST", "/rooms/{room_id}/message", "SendRoomMessage", "rooms send-message"},
				{"POST", "/rooms/{room_id}/pages/create_many", "CreateRoomPages", "rooms create-pages"},
				{"GET", "/rooms/{room_id}/members", "ListMembers", "members list"},
				{"POST", "/rooms/{room_id}/members", "CreateMember", "members create"},
				{"GET", "/rooms/{room_id}/members/{member_id}", "GetMember", "members get"},
				{"PUT", "/rooms/{room_id}/members/{member_id}", "UpdateMember", "members update"},
				{"GET", "/users", "ListUsers", "users list"},
				{"POST", "/users", "createUser", "users create"},
				{"GET", "/users/{user_id}", "GetUser", "users get"},
				{"PATCH", "/users/{user_id}", "PatchUser", "users update"},
				{"DELETE", "/users/{user_id}", "DeleteUser", "users delete"},
			},
		},
		{
			name: "a path with no tag's segment is its own resource",
			tags: []string{"room"},
			ops:  []op{{"GET", "/room_templates", "listRoomTemplate", "room-templates list"}},
		},
		{
			name: "the usual verbs win, whatever the order",
			tags: []string{"room"},
			ops: []op{
				{"POST", "/rooms/{id}/list", "listRoomThings", "rooms list-things"},
				{"GET", "/rooms", "listRooms", "rooms list"},
			},
		},
		{
			name: "a taken or empty verb falls back to the operationId",
			tags: []string{"room"},
			ops: []op{
				{"GET", "/rooms/{id}/sessions", "GetRoomSessions", "rooms sessions"},
				{"GET", "/rooms/{id}/sessions/live", "ListRoomSessions", "rooms list-room-sessions"},
				{"POST", "/rooms/{id}/x", "room", "rooms room"},
			},
		},
		{
			name:     "reserved names go to the operationId",
			tags:     []string{"room"},
			reserved: []string{"rooms url"},
			ops:      []op{{"GET", "/rooms/{id}/url", "GetRoomURL", "rooms get-room-url"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ops []*apiOp
			for _, o := range tt.ops {
				ops = append(ops, &apiOp{cliOperation: cliOperation{operationID: o.id, method: o.method, path: o.path}})
			}
			reserved := map[string]bool{}
			for _, r := range tt.reserved {
				reserved[r] = true
			}
			nameCommands(ops, tt.tags, reserved)
			for i, o := range ops {
				if got := o.resource + " " + o.verb; got != tt.ops[i].want {
					t.Errorf("%s %s (%s): %q, want %q", o.method, o.path, o.operationID, got, tt.ops[i].want)
				}
			}
		})
	}
}

func TestWords(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"roomsSendMessage", []string{"rooms", "send", "message"}},
		{"GetRoomSessions", []string{"get", "room", "sessions"}},
		{"rooms_send_message", []string{"rooms", "send", "message"}},
		{"GetHTTPLog", []string{"get", "http", "log"}},
		{"listV2Rooms", []string{"list", "v2", "rooms"}},
		{"", nil},
	} {
		if got := words(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestArgName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ param, resource, want string }{
		{"room_id", "members", "ROOM_ID"},
		{"id", "rooms", "ROOM_ID"},
		{"id", "users", "USER_ID"},
		{"id", "room-templates", "ROOM_TEMPLATE_ID"},
		{"member_id", "members", "MEMBER_ID"},
	} {
		if got := argName(tt.param, tt.resource); got != tt.want {
			t.Errorf("argName(%q, %q) = %q, want %q", tt.param, tt.resource, got, tt.want)
		}
	}
}
