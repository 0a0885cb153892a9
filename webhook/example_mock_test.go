//go:build !anyspec

package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	pagecall "github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/pagecalltest"
	"github.com/pplink/pagecall-go/webhook"
)

// A room whose webhook points at a handler, and the deliveries it gets when
// a participant joins and leaves. Pagecall's part is played by the mock in
// pagecalltest, which delivers when told to; against Pagecall, the client
// has your API key and the URL is your server's.
func Example() {
	ctx := context.Background()
	mock, err := pagecalltest.NewServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer mock.Close()
	client, err := pagecall.NewClient(pagecall.WithAPIKey(pagecalltest.APIKey), pagecall.WithBaseURL(mock.URL()))
	if err != nil {
		fmt.Println(err)
		return
	}

	// One secret, given to both the handler and the room.
	secret, err := webhook.NewSecret()
	if err != nil {
		fmt.Println(err)
		return
	}
	h := webhook.NewHandler(func(ctx context.Context, ev webhook.Event) error {
		// Deliveries may repeat: (SessionID, Action) identifies one.
		fmt.Printf("%s by %s: %d session(s), %d member(s) in the room\n",
			ev.Action, ev.Payload.UserID, ev.Payload.SessionsCount, ev.Payload.MembersCount)
		return nil
	}, webhook.WithSecretHeader(webhook.DefaultSecretHeader, secret))
	receiver := httptest.NewServer(h) // your server's /pagecall/webhook
	defer receiver.Close()

	req := pagecall.CreateRoomRequest{Name: "standup", Type: pagecall.RoomTypePublic}
	if err := webhook.SetRoomWebhook(&req, receiver.URL+"/pagecall/webhook", webhook.DefaultSecretHeader, secret); err != nil {
		fmt.Println(err)
		return
	}
	room, err := client.CreateRoom(ctx, req)
	if err != nil {
		fmt.Println(err)
		return
	}

	// A participant joins, then leaves: Pagecall POSTs an event each time.
	for _, action := range []string{webhook.ActionSessionJoined, webhook.ActionSessionLeft} {
		if _, err := mock.TriggerSession(room.ID, "external_user_102932", action); err != nil {
			fmt.Println(err)
			return
		}
	}

	// A delivery without the secret is refused, and the handler's fn is
	// not called.
	resp, err := http.Post(receiver.URL+"/pagecall/webhook", "application/json",
		strings.NewReader(`{"action":"sessionJoined","payload":{"roomId":"`+room.ID+`"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("forged delivery:", resp.Status)
	// Output:
	// sessionJoined by external_user_102932: 1 session(s), 1 member(s) in the room
	// sessionLeft by external_user_102932: 0 session(s), 0 member(s) in the room
	// forged delivery: 401 Unauthorized
}
