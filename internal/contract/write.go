package contract

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pplink/pagecall-go"
)

// pageEntity is the entity CreateRoomPages sends, so that the answer's
// entities (which the overlay retypes) are checked against a live account.
var pageEntity = map[string]any{"type": "Image", "src": "https://picsum.photos/id/237/536/354"}

// writer is the Write part of a run: it calls every write operation on
// objects it creates, named with its prefix, and removes them all at the
// end.
type writer struct {
	run    *run
	prefix string // Prefix and a random part

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
func (w *writer) create(ctx context.Context, known map[string]map[string]any) {
	r := w.run
	step := func(opID string, path []string, body any) (answer, bool) {
		if r.writesStopped != "" || !r.going(ctx) {
			return answer{}, false
		}
		a := r.call(ctx, opID, path, body)
		if !r.must(opID, a) {
			r.writesStopped = opID + " failed"
			return a, false
		}
		return a, true
	}
	userID := w.prefix + "-user"
	// Recorded before it is sent: a create whose answer is lost may have
	// created the user all the same, and cleanup must look.
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
		r.rep.Failures = append(r.rep.Failures, "CreateRoom: the answer has no /room/id; the room is looked for by its name")
		r.writesStopped = "CreateRoom answered no room ID"
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
	step("CreateRoomPages", []string{roomID}, []any{map[string]any{"index": 0, "entities": []any{pageEntity}}})
}

// cleanup removes every object the run created, rooms (and so their
// members and pages) first, then the user, and records in the report what
// it removed and what it left.
func (w *writer) cleanup(ctx context.Context) {
	r := w.run
	if w.roomName != "" && len(w.rooms) == 0 {
		// CreateRoom was sent but gave no ID: look for the room by its
		// name, unique to this run, so that a room created by a lost
		// answer is removed too.
		name := w.roomName
		rooms, _, err := r.c.ListRooms(ctx, &pagecall.ListRoomsParams{Name: &name})
		if err != nil {
			r.rep.Leftovers = append(r.rep.Leftovers, Leftover{What: "any room named " + name,
				Why: fmt.Sprintf("listing rooms failed: %v", err), Fix: "pagecall rooms list --name " + name})
		}
		for _, room := range rooms {
			if room.Name == name && room.ID != "" {
				w.rooms = append(w.rooms, &createdObject{id: room.ID, confirmed: true})
			}
		}
	}
	for _, room := range slices.Backward(w.rooms) {
		w.remove(ctx, "DeleteRoom", "GetRoom", room, fmt.Sprintf("room %s (named %s)", room.id, w.roomName), "pagecall rooms delete "+room.id)
	}
	for _, u := range slices.Backward(w.users) {
		w.remove(ctx, "DeleteUser", "GetUser", u, "user "+u.id, "pagecall users delete "+u.id)
	}
}

// remove deletes one object, and records it as removed, or as left with
// why. Only objects this run created reach it: users by their prefixed ID,
// rooms by the ID their create answered (or, for a lost answer, their
// prefixed name).
//
// Only a GET decides a failed delete: one that says the object is gone
// (or, unconfirmed, never was) makes it removed, one that finds it makes
// it NOT REMOVED, and anything else (no answer, a 5xx such as a
// validating proxy's) leaves it unknown.
func (w *writer) remove(ctx context.Context, deleteOp, getOp string, o *createdObject, what, fix string) {
	r := w.run
	kind := strings.ToLower(strings.TrimPrefix(getOp, "Get"))
	a := r.call(ctx, deleteOp, []string{o.id}, nil)
	if a.ok() {
		r.rep.Removed = append(r.rep.Removed, kind+" "+o.id)
		return
	}
	g := r.call(ctx, getOp, []string{o.id}, nil)
	switch {
	case g.gone():
		if o.confirmed { // else it may never have been created
			r.rep.Removed = append(r.rep.Removed, kind+" "+o.id)
		}
		return
	case g.ok():
		r.must(deleteOp, a)
		r.rep.Leftovers = append(r.rep.Leftovers, Leftover{What: what, Known: true,
			Why: fmt.Sprintf("%s failed and %s finds it", deleteOp, getOp), Fix: fix})
	default:
		r.must(deleteOp, a)
		r.rep.Leftovers = append(r.rep.Leftovers, Leftover{What: what,
			Why: fmt.Sprintf("%s failed and %s could not tell: %v", deleteOp, getOp, g.err), Fix: fix})
	}
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
