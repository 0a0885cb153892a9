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
// With WithDeduplicator (fn runs once per event, see below), a valid
// delivery is answered:
//
//	delivery                                              answer  fn called
//	the first of its event, fn returns nil                  200     once
//	the first of its event, fn returns an error             500     yes; the claim is released
//	a duplicate while another delivery runs the event       503     no; Retry-After: 5
//	a duplicate of an event already handled                 200     no
//	a duplicate after the holder died (lease over)          200     yes, again
//	the deduplicator unreachable                            as without it, and a warning
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
// WithDeduplicator does that recording for fn: it claims the pair before
// fn runs and marks it done after, so that fn runs once per pair among the
// handlers that share the Deduplicator. An error (or a panic) of fn
// releases the claim, so that the sender's next attempt runs it again; a
// duplicate that arrives while fn runs is asked to retry later (503), never
// told 200 for work that may still fail; a claim whose process died expires
// after a lease (DefaultLease) and the event runs again.
// NewMemoryDeduplicator serves the handlers of one process;
// pagecallredis.NewDeduplicator (package github.com/pplink/pagecall-go/redis)
// serves a fleet of processes through Redis. When the Deduplicator cannot
// be reached, deliveries are still handled (at least once) and a warning is
// logged (WithLogger).
//
// # Secrets
//
// The secret never appears in an error, a log line or a response of this
// package. A handler without WithSecretHeader is not built: NewHandler
// panics at start-up rather than serve deliveries that anybody could forge
// (see NewHandler).
package webhook
