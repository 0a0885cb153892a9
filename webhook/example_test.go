package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/pplink/pagecall-go/webhook"
)

func ExampleNewHandler() {
	secret := "the-secret-the-room-was-created-with" // from webhook.NewSecret, kept with your configuration
	var seen sync.Map                                // a database in production: deliveries may repeat
	h := webhook.NewHandler(func(ctx context.Context, ev webhook.Event) error {
		key := ev.Payload.SessionID + "/" + ev.Action
		if _, dup := seen.LoadOrStore(key, true); dup {
			return nil // already handled
		}
		switch ev.Action {
		case webhook.ActionSessionJoined:
			fmt.Println(ev.Payload.UserID, "joined at", ev.Payload.Timestamp)
		case webhook.ActionSessionLeft:
			fmt.Println(ev.Payload.UserID, "left at", ev.Payload.Timestamp)
		default:
			// An action Pagecall added later: ignore it, or record it.
		}
		return nil
	}, webhook.WithSecretHeader(webhook.DefaultSecretHeader, secret))

	// The same delivery twice, then one without the secret.
	body := `{"action":"sessionJoined","payload":{"roomId":"r1","userId":"ada","memberId":"m1","sessionId":"s1",` +
		`"sessionsCount":1,"membersCount":1,"timestamp":"2022-05-31T12:38:15.059Z"}}`
	for _, header := range []string{secret, secret, ""} {
		req := httptest.NewRequest(http.MethodPost, "/pagecall/webhook", strings.NewReader(body))
		req.Header.Set(webhook.DefaultSecretHeader, header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		fmt.Println(w.Code)
	}
	// Output:
	// ada joined at 2022-05-31 12:38:15.059 +0000 UTC
	// 200
	// 200
	// 401
}

func ExampleParseRequest() {
	req := httptest.NewRequest(http.MethodPost, "/pagecall/webhook", strings.NewReader(`{"payload":{}}`))
	req.Header.Set(webhook.DefaultSecretHeader, "s3cret")
	_, err := webhook.ParseRequest(req, webhook.WithSecretHeader(webhook.DefaultSecretHeader, "s3cret"))
	fmt.Println(errors.Is(err, webhook.ErrMalformed), err)
	// Output:
	// true webhook: malformed delivery: no action
}
