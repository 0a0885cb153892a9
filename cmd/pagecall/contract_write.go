package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/pplink/pagecall-go"
)

// contractWriter is the --write part of contract check: it calls every
// write operation on objects it creates, named with its prefix, and
// removes them all at the end.
type contractWriter struct {
	run    *contractRun
	prefix string // contractPrefix and a random part

	users []*createdObject // CreateUser sent, in order
	rooms []*createdObject // CreateRoom answered with an ID
	// roomName is the name of the room CreateRoom was sent for, "" if it
	// was not: a room whose creation got no answer is found by it.
	roomName string
}

// createdObject is an object the run created or tried to create.
type createdObject struct {
	id string
	// confirmed: the create answered 2xx. An unconfirmed user may exist
	// all the same (the answer was lost), so it is deleted too, and a
	// "not found" then means there was nothing to remove.
	confirmed bool
}

// create calls the write operations in an order that gives each the
// objects it needs: a user, a room, a member of it, a message and pages in
// it, and updates of each. It stops at the first failure, a signal or the
// end of ctx; cleanup then removes what exists. known gets the created
// objects, for the reads that follow.
func (w *contractWriter) create(ctx context.Context, known map[string]map[string]any) {
	r := w.run
	step := func(opID string, path []string, body any) (answer, bool) {
		if isClosed(r.stop) || ctx.Err() != nil {
			return answer{}, false
		}
		a := r.call(ctx, opID, path, body)
		return a, r.must(opID, a)
	}
	userID := w.prefix + "-user"
	w.users = append(w.users, &createdObject{id: userID})
	if _, ok := step("CreateUser", nil, map[string]any{"user_id": userID, "name": userID}); !ok {
		return
	}
	w.users[0].confirmed = true
	known["/users"] = map[string]any{"user_id": userID}
	if _, ok := step("UpdateUser", []string{userID}, map[string]any{"name": userID + "-updated"}); !ok {
		return
	}

	w.roomName = w.prefix + "-room"
	a, ok := step("CreateRoom", nil, map[string]any{"name": w.roomName, "type": "private", "record": false})
	if !ok {
		return
	}
	roomID := stringAt(a.body, "room", "id")
	if roomID == "" {
		r.failures = append(r.failures, "CreateRoom: the answer has no /room/id; the room is looked for by its name")
		return
	}
	w.rooms = append(w.rooms, &createdObject{id: roomID, confirmed: true})
	known["/rooms"] = map[string]any{"id": roomID}
	if _, ok := step("UpdateRoom", []string{roomID}, map[string]any{"name": w.roomName}); !ok {
		return
	}
	a, ok = step("CreateMember", []string{roomID}, map[string]any{"user_id": userID, "type": "guest"})
	if !ok {
		return
	}
	memberID := stringAt(a.body, "member", "id")
	if memberID == "" {
		memberID = userID
	}
	known["/rooms/{}/members"] = map[string]any{"id": memberID}
	if _, ok := step("UpdateMember", []string{roomID, memberID}, map[string]any{"name": userID}); !ok {
		return
	}
	if _, ok := step("SendRoomMessage", []string{roomID}, map[string]any{"message": "pagecall contract check"}); !ok {
		return
	}
	step("CreateRoomPages", []string{roomID}, []any{map[string]any{"index": 0}})
}

// cleanup removes every object the run created, rooms (and so their
// members and pages) first, then the user. A delete that fails is checked
// with a get: an object that is gone counts as removed. It returns what it
// could not remove, and names the write operations the run did not call.
func (w *contractWriter) cleanup(ctx context.Context) (leftovers []string) {
	r := w.run
	if w.roomName != "" && len(w.rooms) == 0 {
		// CreateRoom was sent but gave no ID: look for the room by its
		// name, unique to this run, so that a room created by a lost
		// answer is removed too.
		name := w.roomName
		rooms, _, err := r.c.ListRooms(ctx, &pagecall.ListRoomsParams{Name: &name})
		if err != nil {
			leftovers = append(leftovers, fmt.Sprintf("any room named %s (listing rooms failed: %v)", name, err))
		}
		for _, room := range rooms {
			if room.Name == name && room.ID != "" {
				w.rooms = append(w.rooms, &createdObject{id: room.ID, confirmed: true})
			}
		}
	}
	for _, room := range slices.Backward(w.rooms) {
		if !w.remove(ctx, "DeleteRoom", "GetRoom", room) {
			leftovers = append(leftovers, fmt.Sprintf("room %s (named %s): pagecall rooms delete %s", room.id, w.roomName, room.id))
		}
	}
	for _, u := range slices.Backward(w.users) {
		if !w.remove(ctx, "DeleteUser", "GetUser", u) {
			leftovers = append(leftovers, fmt.Sprintf("user %s: pagecall users delete %s", u.id, u.id))
		}
	}
	for _, op := range cliOperations {
		if op.method != http.MethodGet && r.called[op.operationID] == 0 && ctx.Err() == nil && !isClosed(r.stop) && len(r.failures) == 0 {
			r.skipped = append(r.skipped, op.operationID+" (not exercised by --write)")
		}
	}
	return leftovers
}

// remove deletes one object and reports whether it is gone. Only objects
// this run created reach it: users by their prefixed ID, rooms by the ID
// their create answered (or, for a lost answer, their prefixed name).
func (w *contractWriter) remove(ctx context.Context, deleteOp, getOp string, o *createdObject) bool {
	r := w.run
	a := r.call(ctx, deleteOp, []string{o.id}, nil)
	if a.ok() {
		r.removed = append(r.removed, strings.ToLower(strings.TrimPrefix(getOp, "Get"))+" "+o.id)
		return true
	}
	if a.err != nil && a.status == 0 && ctx.Err() != nil {
		r.must(deleteOp, a)
		return false
	}
	// The delete failed: is the object there at all?
	g := r.call(ctx, getOp, []string{o.id}, nil)
	if g.status >= 400 && g.status < 500 {
		return true // gone, or (unconfirmed) never created
	}
	r.must(deleteOp, a)
	return false
}

// stringAt returns the string at body[keys[0]][keys[1]]..., or "".
func stringAt(body map[string]any, keys ...string) string {
	var v any = body
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}
