package webhook

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"time"
)

// Actions Pagecall documents. Others may come: Event.Action holds whatever
// the delivery says.
const (
	// ActionSessionJoined: a participant's session started.
	ActionSessionJoined = "sessionJoined"
	// ActionSessionLeft: a participant's session ended.
	ActionSessionLeft = "sessionLeft"
)

// DefaultSecretHeader is a header name for the shared secret, for callers
// with no reason to choose another. Any valid header name works, as long as
// the handler and the room are given the same one.
const DefaultSecretHeader = "X-Pagecall-Webhook-Secret"

// MaxBodyBytes bounds the body of a delivery. Pagecall's events are a few
// hundred bytes; a longer body is refused with 413 before it is read whole.
const MaxBodyBytes = 64 << 10

// Event is one delivery: what happened, and to which session.
type Event struct {
	// Action is ActionSessionJoined, ActionSessionLeft, or an action this
	// package does not know yet.
	Action string `json:"action"`
	// Payload describes the session.
	Payload Payload `json:"payload"`
}

// Payload is the session an Event is about, and the room's state after it.
type Payload struct {
	// RoomID is the room's ID.
	RoomID string `json:"roomId"`
	// UserID is the participant's user ID; empty for an anonymous
	// participant.
	UserID string `json:"userId,omitempty"`
	// MemberID is the ID of the participant's membership of the room.
	MemberID string `json:"memberId"`
	// SessionID is the session's ID. With Action it identifies the event.
	SessionID string `json:"sessionId"`
	// SessionsCount is the number of sessions in the room after the event.
	SessionsCount int `json:"sessionsCount"`
	// MembersCount is the number of members in the room after the event.
	MembersCount int `json:"membersCount"`
	// Timestamp is when the event happened (Pagecall sends milliseconds,
	// in UTC: 2022-05-31T12:38:15.059Z).
	Timestamp time.Time `json:"timestamp"`
}

// timeLayout is how Pagecall writes times: UTC with milliseconds, as
// JavaScript's toISOString does.
const timeLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON encodes p with the JSON names Pagecall uses, and Timestamp as
// Pagecall writes it (UTC, milliseconds: 2022-05-31T12:38:15.050Z), so
// that an event encodes as it was delivered.
func (p Payload) MarshalJSON() ([]byte, error) {
	type plain Payload // without this method
	return json.Marshal(struct {
		plain
		Timestamp string `json:"timestamp"` // shadows plain's
	}{plain(p), p.Timestamp.UTC().Format(timeLayout)})
}

// Errors. ParseRequest returns them wrapped, and the handler turns them into
// its answers; test them with errors.Is.
var (
	// ErrMethodNotAllowed: the request is not a POST (405).
	ErrMethodNotAllowed = errors.New("webhook: method not allowed")
	// ErrUnauthorized: the secret header is missing, repeated or wrong
	// (401). The error never says which secret was expected or received.
	ErrUnauthorized = errors.New("webhook: missing or wrong secret header")
	// ErrTooLarge: the body is longer than MaxBodyBytes (413).
	ErrTooLarge = errors.New("webhook: body too large")
	// ErrMalformed: the body is not a JSON event, or has no action (400).
	ErrMalformed = errors.New("webhook: malformed delivery")

	// ErrNoSecret: no WithSecretHeader option was given. There is no
	// unauthenticated mode.
	ErrNoSecret = errors.New("webhook: no secret header configured (use WithSecretHeader)")
	// ErrInvalidSecretHeader: a header name that is not an HTTP token, or
	// a secret that is empty or not a valid header value.
	ErrInvalidSecretHeader = errors.New("webhook: invalid secret header")
	// ErrInvalidURL: SetRoomWebhook was given a URL that is not an
	// absolute http or https URL.
	ErrInvalidURL = errors.New("webhook: invalid webhook URL")
	// ErrNoRoomWebhook: the API version this module was generated from
	// has no webhook in CreateRoomRequest (Pagecall added it in May 2023).
	ErrNoRoomWebhook = errors.New("webhook: this API version's CreateRoomRequest has no webhook")
)

// Option configures NewHandler and ParseRequest.
type Option func(*config)

type config struct {
	secrets []secretHeader
	logger  *slog.Logger
	dedup   Deduplicator // nil: every delivery runs fn
	err     error        // the first invalid option
}

// secretHeader is an accepted header, the secret kept only as its SHA-256,
// so that no copy of it sits in the handler.
type secretHeader struct {
	name string // canonical form
	sum  [sha256.Size]byte
}

// WithSecretHeader requires every delivery to carry the header name with
// the value secret, compared in constant time. Give it more than once to
// accept any of several secrets, for instance while rooms created with an
// old secret are still open. An invalid name or an empty secret makes
// NewHandler panic and ParseRequest fail with ErrInvalidSecretHeader.
func WithSecretHeader(name, secret string) Option {
	return func(c *config) {
		if err := checkSecretHeader(name, secret); err != nil {
			if c.err == nil {
				c.err = err
			}
			return
		}
		c.secrets = append(c.secrets, secretHeader{name: textproto.CanonicalMIMEHeaderKey(name), sum: sha256.Sum256([]byte(secret))})
	}
}

// ValidateSecretHeader returns the error (wrapping ErrInvalidSecretHeader)
// that would make NewHandler panic for WithSecretHeader(name, secret), or
// nil. Check a header name or secret read from configuration with it
// before building the handler. The error never contains the secret.
func ValidateSecretHeader(name, secret string) error { return checkSecretHeader(name, secret) }

// WithLogger logs each refused delivery (Warn), each error of fn (Error) and
// each delivery handled (Debug). Header values are never logged. By default
// nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

func newConfig(opts []Option) (*config, error) {
	c := &config{logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	if c.err != nil {
		return nil, c.err
	}
	if len(c.secrets) == 0 {
		return nil, ErrNoSecret
	}
	return c, nil
}

// NewHandler returns the http.Handler that receives Pagecall's webhooks:
// it authenticates each delivery, decodes it and calls fn with the
// request's context, then answers as the package documentation's table
// says.
//
// At least one WithSecretHeader option is required. NewHandler panics if
// there is none, if one is invalid, or if fn is nil: like
// http.ServeMux.Handle with a nil handler, these are programming errors,
// and a panic at start-up is better than a receiver that accepts forged
// deliveries or refuses every real one. The panic message never contains a
// secret.
func NewHandler(fn func(context.Context, Event) error, opts ...Option) http.Handler {
	if fn == nil {
		panic("webhook: NewHandler: nil fn")
	}
	c, err := newConfig(opts)
	if err != nil {
		panic("webhook: NewHandler: " + err.Error())
	}
	return &handler{fn: fn, cfg: c}
}

type handler struct {
	fn  func(context.Context, Event) error
	cfg *config
}

// ServeHTTP answers one delivery.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.cfg.logger.With("method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
	ev, err := h.cfg.parse(w, r)
	if err != nil {
		status := statusOf(err)
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodPost)
		}
		log.Warn("webhook: delivery refused", "status", status, "err", err)
		http.Error(w, err.Error(), status)
		return
	}
	log = log.With("action", ev.Action, "session_id", ev.Payload.SessionID)
	if h.cfg.dedup != nil {
		h.serveOnce(w, r, ev, log)
		return
	}
	h.run(w, r, ev, log)
}

// run calls fn and answers 200, or 500 when fn fails. It reports whether
// fn succeeded.
func (h *handler) run(w http.ResponseWriter, r *http.Request, ev Event, log *slog.Logger) bool {
	if err := h.fn(r.Context(), ev); err != nil {
		log.Error("webhook: handler failed", "err", err)
		// fn's error may say more than the sender should learn.
		http.Error(w, "webhook: the receiver failed to handle the event", http.StatusInternalServerError)
		return false
	}
	log.Debug("webhook: delivery handled")
	w.WriteHeader(http.StatusOK)
	return true
}

// runningRetryAfter is the Retry-After, in seconds, of the answer to a
// delivery whose event another delivery is running.
const runningRetryAfter = "5"

// dedupTimeout bounds Done and Release, which run after fn on a context of
// their own: the request's may have ended.
const dedupTimeout = 5 * time.Second

// serveOnce runs fn under the deduplicator's claim: once per event.
func (h *handler) serveOnce(w http.ResponseWriter, r *http.Request, ev Event, log *slog.Logger) {
	id := IDOf(ev)
	token, state, err := h.cfg.dedup.Claim(r.Context(), id)
	switch {
	case err != nil:
		// At least once rather than never: the event runs unclaimed.
		log.Warn("webhook: deduplicator unreachable; handling the delivery without it", "err", err)
		h.run(w, r, ev, log)
		return
	case state == Handled:
		log.Debug("webhook: duplicate of a handled event")
		w.WriteHeader(http.StatusOK)
		return
	case state == Running:
		log.Debug("webhook: duplicate of an event being handled; asked to retry")
		w.Header().Set("Retry-After", runningRetryAfter)
		http.Error(w, "webhook: this event is being handled; retry later", http.StatusServiceUnavailable)
		return
	}
	ok := false
	defer func() { // also when fn panics: the next delivery runs it again
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), dedupTimeout)
		defer cancel()
		var err error
		if ok {
			err = h.cfg.dedup.Done(ctx, id, token)
		} else {
			err = h.cfg.dedup.Release(ctx, id, token)
		}
		if err != nil {
			log.Warn("webhook: deduplicator unreachable after the delivery; its claim expires after the lease", "done", ok, "err", err)
		}
	}()
	ok = h.run(w, r, ev, log)
}

// statusOf is the answer to a delivery ParseRequest refused.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusBadRequest
	}
}

// ParseRequest authenticates and decodes one delivery, for callers that do
// not use NewHandler's http.Handler. It checks, in this order, the method,
// the secret header (before reading the body), the body's size and the
// event, and returns an error wrapping ErrMethodNotAllowed,
// ErrUnauthorized, ErrTooLarge or ErrMalformed. Without a WithSecretHeader
// option it returns ErrNoSecret. It reads r.Body, but does not close it.
func ParseRequest(r *http.Request, opts ...Option) (Event, error) {
	c, err := newConfig(opts)
	if err != nil {
		return Event{}, err
	}
	return c.parse(nil, r)
}

// parse is ParseRequest; w, if not nil, lets http.MaxBytesReader tell the
// server to close the connection when the body is too large.
func (c *config) parse(w http.ResponseWriter, r *http.Request) (Event, error) {
	if r.Method != http.MethodPost {
		return Event{}, fmt.Errorf("%w: %s", ErrMethodNotAllowed, r.Method)
	}
	if !c.authenticated(r.Header) {
		return Event{}, ErrUnauthorized
	}
	if r.ContentLength > MaxBodyBytes {
		return Event{}, fmt.Errorf("%w: %d bytes (the limit is %d)", ErrTooLarge, r.ContentLength, MaxBodyBytes)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return Event{}, fmt.Errorf("%w: over %d bytes", ErrTooLarge, MaxBodyBytes)
		}
		return Event{}, fmt.Errorf("%w: reading the body: %w", ErrMalformed, err)
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if ev.Action == "" {
		return Event{}, fmt.Errorf("%w: no action", ErrMalformed)
	}
	return ev, nil
}

// authenticated reports whether h carries exactly one value of an accepted
// header, equal to its secret. Hashing both sides first makes the
// comparison take the same time whatever the lengths, and every accepted
// header is checked, so the time does not say which one matched.
func (c *config) authenticated(h http.Header) bool {
	ok := 0
	for _, s := range c.secrets {
		vals := h[s.name]
		if len(vals) != 1 {
			continue
		}
		sum := sha256.Sum256([]byte(vals[0]))
		ok |= subtle.ConstantTimeCompare(sum[:], s.sum[:])
	}
	return ok == 1
}

// NewSecret returns a new random secret for a room's webhook header: 26
// characters of base32 carrying 130 bits from crypto/rand, valid as a
// header value. The error is nil: crypto/rand no longer fails (it crashes
// the program instead, since Go 1.24); it is kept so that callers handle a
// source of randomness that could.
func NewSecret() (string, error) {
	return rand.Text(), nil
}

// checkSecretHeader validates a header name and secret without ever
// putting the secret in the error.
func checkSecretHeader(name, secret string) error {
	if !validHeaderName(name) {
		return fmt.Errorf("%w: name %q is not an HTTP header name", ErrInvalidSecretHeader, name)
	}
	if secret == "" {
		return fmt.Errorf("%w: empty secret for %s", ErrInvalidSecretHeader, name)
	}
	for i := 0; i < len(secret); i++ {
		// Control characters cannot travel in a header; surrounding
		// blanks would be trimmed in transit, so the values would differ.
		if b := secret[i]; b < ' ' || b == 0x7f || ((i == 0 || i == len(secret)-1) && b == ' ') {
			return fmt.Errorf("%w: the secret for %s has control characters or surrounding blanks", ErrInvalidSecretHeader, name)
		}
	}
	return nil
}

// validHeaderName reports whether s is an HTTP field name (a token, RFC
// 9110 §5.1). golang.org/x/net/http/httpguts has this check, but the
// package depends on the standard library only, and it is one loop.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case b < 0x80 && b > ' ' && b != 0x7f && !isSeparator(b):
		default:
			return false
		}
	}
	return true
}

func isSeparator(b byte) bool {
	switch b {
	case '(', ')', ',', '/', ':', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '{', '}', '"':
		return true
	}
	return false
}
