package pagecalltest

import (
	"errors"
	"fmt"
	"time"
)

// Session actions, as Pagecall names them in its webhooks. The mock plays
// Pagecall's side, so it spells the wire format out itself rather than
// borrow package webhook's names and types: a mistake in either then shows
// in the end-to-end tests instead of being shared by both sides.
const (
	// ActionSessionJoined: a participant's session started.
	ActionSessionJoined = "sessionJoined"
	// ActionSessionLeft: a participant's session ended.
	ActionSessionLeft = "sessionLeft"
)

// Errors of TriggerSession, for errors.Is.
var (
	// ErrUnknownAction: the action is neither ActionSessionJoined nor
	// ActionSessionLeft.
	ErrUnknownAction = errors.New("pagecalltest: unknown session action")
	// ErrRoomNotFound: no room has the ID.
	ErrRoomNotFound = errors.New("pagecalltest: room not found")
	// ErrUserNotFound: no user has the ID. Only users can join: Pagecall's
	// meeting URL takes a user's access token.
	ErrUserNotFound = errors.New("pagecalltest: user not found")
	// ErrNotMember: the user is not a member of the private room; only
	// invited users join a private room.
	ErrNotMember = errors.New("pagecalltest: user is not a member of the private room")
	// ErrRoomTerminated: the room has ended, nobody joins it.
	ErrRoomTerminated = errors.New("pagecalltest: room is terminated")
	// ErrNoOpenSession: the user has no session in the room to leave.
	ErrNoOpenSession = errors.New("pagecalltest: user has no open session in the room")
	// ErrNoWebhook: the room was created without a webhook.
	ErrNoWebhook = errors.New("pagecalltest: room has no webhook")
	// ErrNotLoopback: the room's webhook URL is not on a loopback host;
	// the mock sends nothing off the machine.
	ErrNotLoopback = errors.New("pagecalltest: webhook URL is not on loopback (127.0.0.0/8, ::1, localhost)")
	// ErrClosed: the server is closed.
	ErrClosed = errors.New("pagecalltest: server closed")
)

// sessionEvent is the body of a session webhook, in Pagecall's words:
//
//	{ action: "sessionJoined" | "sessionLeft",
//	  payload: { roomId, userId?, memberId, sessionId, sessionsCount,
//	             membersCount, timestamp } }
type sessionEvent struct {
	Action  string         `json:"action"`
	Payload sessionPayload `json:"payload"`
}

type sessionPayload struct {
	RoomID        string `json:"roomId"`
	UserID        string `json:"userId,omitempty"`
	MemberID      string `json:"memberId"`
	SessionID     string `json:"sessionId"`
	SessionsCount int    `json:"sessionsCount"`
	MembersCount  int    `json:"membersCount"`
	Timestamp     string `json:"timestamp"`
}

// jsTime is how Pagecall writes times: JavaScript's toISOString, UTC with
// milliseconds ("2022-05-31T12:38:15.059Z").
const jsTime = "2006-01-02T15:04:05.000Z"

// session applies a join or a leave of userID to the room and returns the
// event that tells it. A join starts a new session of the user's member (a
// user may be in a room more than once, from two devices); a user of the
// store who is not yet a member of a public or open room becomes a guest
// member, as on Pagecall, while a private room admits members only. A
// leave ends the user's latest open session. The counts are those after
// the event: open sessions, and members with at least one open session.
func (st *store) session(roomID, userID, action string, now time.Time) (sessionEvent, error) {
	room, ok := st.rooms.get(roomID)
	if !ok {
		return sessionEvent{}, fmt.Errorf("%w: %q", ErrRoomNotFound, roomID)
	}
	sessions := st.roomSessions(roomID)
	ts := now.UTC().Format(jsTime)
	var sess map[string]any
	switch action {
	case ActionSessionJoined:
		if t, _ := room["is_terminated"].(bool); t {
			return sessionEvent{}, fmt.Errorf("%w: %q", ErrRoomTerminated, roomID)
		}
		if _, ok := st.users.get(userID); !ok {
			return sessionEvent{}, fmt.Errorf("%w: %q", ErrUserNotFound, userID)
		}
		member := st.memberOf(roomID, userID)
		if member == nil {
			if room["type"] == "private" {
				return sessionEvent{}, fmt.Errorf("%w: %q in %q", ErrNotMember, userID, roomID)
			}
			member = st.addMember(roomID, map[string]any{"user_id": userID})
		}
		sess = sessions.fresh() // open: no disconnected_at
		id := st.newID(now)
		put(sessions, sess, "id", id)
		put(sessions, sess, "member_id", member["id"])
		put(sessions, sess, "user_id", userID)
		put(sessions, sess, "connected_at", ts)
		sessions.set(id, sess, st.next)
	case ActionSessionLeft:
		for _, s := range sessions.list(func(o map[string]any) bool { return o["user_id"] == userID && isOpen(o) }) {
			sess = s // the latest
		}
		if sess == nil {
			return sessionEvent{}, fmt.Errorf("%w: user %q, room %q", ErrNoOpenSession, userID, roomID)
		}
		sess["disconnected_at"] = ts
		sessions.set(sess["id"].(string), sess, st.next)
	default:
		return sessionEvent{}, fmt.Errorf("%w: %q (want %s or %s)", ErrUnknownAction, action, ActionSessionJoined, ActionSessionLeft)
	}

	members := map[any]bool{}
	open := sessions.list(isOpen)
	for _, s := range open {
		members[s["member_id"]] = true
	}
	ev := sessionEvent{Action: action, Payload: sessionPayload{
		RoomID:        roomID,
		UserID:        userID,
		SessionsCount: len(open),
		MembersCount:  len(members),
		Timestamp:     ts,
	}}
	ev.Payload.MemberID, _ = sess["member_id"].(string)
	ev.Payload.SessionID, _ = sess["id"].(string)
	return ev, nil
}

// memberOf returns the room's member for the user, or nil.
func (st *store) memberOf(roomID, userID string) map[string]any {
	for _, m := range st.roomMembers(roomID).list(func(o map[string]any) bool { return o["user_id"] == userID }) {
		return m
	}
	return nil
}

// isOpen reports whether a session has not ended.
func isOpen(s map[string]any) bool {
	_, ended := s["disconnected_at"]
	return !ended
}

// put sets a property the collection's schema declares; with no schema (a
// document without sessions), it sets it anyway, for the store's own use.
func put(c *collection, obj map[string]any, prop string, v any) {
	if c.schema == nil || c.has(prop) {
		obj[prop] = v
	}
}
