// Package webhook receives the webhooks Pagecall sends for a room's
// sessions: one POST each time a participant joins or leaves.
//
// A room created with a webhook ({url, headers}) gets a delivery for every
// session that starts or ends in it. Pagecall signs nothing: the way it
// offers to authenticate a delivery is the headers the room was created
// with. This package makes that a shared secret in a header, checked in
// constant time on every delivery:
//
//	secret, err := webhook.NewSecret() // keep it with your configuration
//	h := webhook.NewHandler(onEvent, webhook.WithSecretHeader(webhook.DefaultSecretHeader, secret))
//	http.Handle("/pagecall/webhook", h)
//
//	req := pagecall.CreateRoomRequest{Name: "standup", Type: pagecall.RoomTypePrivate}
//	err = webhook.SetRoomWebhook(&req, "https://example.com/pagecall/webhook", webhook.DefaultSecretHeader, secret)
//	room, err := client.CreateRoom(ctx, req)
//
// The handler and the room are given the same header name and secret, so
// that what the room sends is what the handler checks.
//
// # What the handler answers
//
//	delivery                                              answer  fn called
//	POST, the right secret, a valid event, fn returns nil   200     once
//	a method other than POST                                405     no
//	the secret header missing, repeated or wrong            401     no
//	a body over MaxBodyBytes (64 KiB)                       413     no
//	malformed JSON, or no action                            400     no
//	fn returns an error                                     500     yes
//
// An action this package does not know is passed to fn as it is: Pagecall
// may add actions, and fn decides what to ignore.
//
// # Repeated deliveries
//
// Pagecall does not document how it retries, so assume that a delivery may
// arrive more than once (a sender that saw no answer in time sends again)
// and that deliveries may arrive out of order. A session's join and
// its leave are each one event: the pair (Payload.SessionID, Action)
// identifies one, so fn should do its work once per pair, for instance by
// recording the pairs it has handled. Payload.Timestamp says when the event
// happened, whatever the order of arrival.
//
// # Secrets
//
// The secret never appears in an error, a log line or a response of this
// package. A handler without WithSecretHeader is not built: NewHandler
// panics at start-up rather than serve deliveries that anybody could forge
// (see NewHandler).
package webhook
