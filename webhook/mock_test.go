//go:build !anyspec

package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	pagecall "github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/pagecalltest"
	"github.com/pplink/pagecall-go/webhook"
)

// TestAgainstMock is the whole loop against the mock: a room created with
// SetRoomWebhook and a fresh secret sends its join and leave to a handler
// built with the same secret, with the right counts and timestamps, and a
// forged delivery is refused without reaching fn.
func TestAgainstMock(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	mock := pagecalltest.NewTestServer(t)
	c, err := pagecall.NewClient(pagecall.WithAPIKey(pagecalltest.APIKey), pagecall.WithBaseURL(mock.URL()))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	receiver := httptest.NewServer(webhook.NewHandler(rec.fn, webhook.WithSecretHeader(webhook.DefaultSecretHeader, secret)))
	defer receiver.Close()

	if _, err := c.CreateUser(ctx, pagecall.CreateUserRequest{UserID: "ada", Name: "Ada"}); err != nil {
		t.Fatal(err)
	}
	req := pagecall.CreateRoomRequest{Name: "standup", Type: pagecall.RoomTypePrivate}
	if err := webhook.SetRoomWebhook(&req, receiver.URL+"/pagecall", webhook.DefaultSecretHeader, secret); err != nil {
		t.Fatal(err)
	}
	want := pagecall.Webhook{URL: receiver.URL + "/pagecall", Headers: map[string]string{webhook.DefaultSecretHeader: secret}}
	if req.Webhook == nil || req.Webhook.URL != want.URL || len(req.Webhook.Headers) != 1 || req.Webhook.Headers[webhook.DefaultSecretHeader] != secret {
		t.Fatalf("request webhook %+v, want %+v", req.Webhook, want)
	}
	room, err := c.CreateRoom(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	member, err := c.CreateMember(ctx, room.ID, pagecall.CreateMemberRequest{UserID: "ada", Type: pagecall.MemberTypeHost})
	if err != nil {
		t.Fatal(err)
	}

	var at [2]time.Time
	for i, action := range []string{webhook.ActionSessionJoined, webhook.ActionSessionLeft} {
		at[i] = time.Now().Truncate(time.Millisecond)
		status, err := mock.TriggerSession(room.ID, "ada", action)
		if err != nil || status != http.StatusOK {
			t.Fatalf("%s: TriggerSession = %d, %v; want 200", action, status, err)
		}
	}
	got := rec.calls()
	if len(got) != 2 {
		t.Fatalf("fn got %d events, want 2", len(got))
	}
	for i, w := range []struct {
		action            string
		sessions, members int
	}{{webhook.ActionSessionJoined, 1, 1}, {webhook.ActionSessionLeft, 0, 0}} {
		p := got[i].Payload
		if got[i].Action != w.action || p.RoomID != room.ID || p.UserID != "ada" || p.MemberID != member.ID ||
			p.SessionsCount != w.sessions || p.MembersCount != w.members {
			t.Errorf("event %d = %+v, want %s of ada (member %s) with %d sessions, %d members", i, got[i], w.action, member.ID, w.sessions, w.members)
		}
		if p.Timestamp.Before(at[i]) || p.Timestamp.After(time.Now()) || p.Timestamp.Location() != time.UTC {
			t.Errorf("event %d at %v, want a UTC time from %v on", i, p.Timestamp, at[i])
		}
	}
	if got[0].Payload.SessionID == "" || got[0].Payload.SessionID != got[1].Payload.SessionID {
		t.Errorf("sessions %q and %q: the leave must end the joined session", got[0].Payload.SessionID, got[1].Payload.SessionID)
	}

	// What the API says agrees with the events.
	sessions, err := c.ListRoomSessions(ctx, room.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 1 || sessions[0].ID != got[0].Payload.SessionID || sessions[0].MemberID != member.ID {
		t.Fatalf("ListRoomSessions = %+v, want the one session of the events", sessions)
	}
	for _, ts := range []struct {
		field string
		want  time.Time
	}{{sessions[0].ConnectedAt, got[0].Payload.Timestamp}, {sessions[0].DisconnectedAt, got[1].Payload.Timestamp}} {
		if parsed, err := time.Parse(time.RFC3339, ts.field); err != nil || !parsed.Equal(ts.want) {
			t.Errorf("session time %q, want %v", ts.field, ts.want)
		}
	}

	// Forged deliveries: no secret, or a guess. fn is not called.
	forged := `{"action":"sessionJoined","payload":{"roomId":"` + room.ID + `","userId":"mallory"}}`
	for _, header := range []string{"", "guess"} {
		r, _ := http.NewRequestWithContext(ctx, http.MethodPost, receiver.URL+"/pagecall", strings.NewReader(forged))
		if header != "" {
			r.Header.Set(webhook.DefaultSecretHeader, header)
		}
		resp, err := receiver.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("forged delivery (%q): status %d, want 401", header, resp.StatusCode)
		}
	}
	if n := len(rec.calls()); n != 2 {
		t.Errorf("fn called %d times, want still 2", n)
	}
}
