package pagecalltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// DefaultWebhookTimeout bounds one webhook delivery unless
// WithWebhookTimeout says otherwise.
const DefaultWebhookTimeout = 10 * time.Second

// WithWebhookTimeout bounds each webhook delivery: connecting, sending and
// reading the answer's status. A delivery that takes longer fails with
// context.DeadlineExceeded.
func WithWebhookTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.webhookTimeout = d
		}
	}
}

// Webhook returns the webhook room id was created with, if any.
func (s *Server) Webhook(roomID string) (Webhook, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.store.webhooks[roomID]
	if ok {
		h.Headers = cloneHeaders(h.Headers)
	}
	return h, ok
}

func cloneHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = v
	}
	return out
}

// TriggerSession makes userID join (ActionSessionJoined) or leave
// (ActionSessionLeft) room roomID, as a participant opening or closing the
// meeting would, and delivers the webhook Pagecall sends for it: a POST of
// the documented JSON body to the room's webhook URL with the room's
// webhook headers. It returns the status the receiver answered.
//
// A join starts a session (ListRoomSessions lists it) for the user's member
// of the room, adding a user of the store who is not a member of a public
// or open room as a guest member; a leave ends the user's latest open
// session. The payload counts the room's open sessions, and its members
// with an open session, after the event.
//
// The mock delivers only to loopback URLs (127.0.0.0/8, ::1, localhost):
// any other URL is refused with ErrNotLoopback before anything changes,
// and no connection is attempted. A refusal (ErrUnknownAction,
// ErrRoomNotFound, ErrUserNotFound, ErrNotMember, ErrRoomTerminated,
// ErrNoOpenSession, ErrNoWebhook, ErrNotLoopback, ErrClosed) changes
// nothing. Once the session has changed, a delivery that fails (no
// answer, or none within the webhook timeout) returns status 0 and the
// error, and the session change stays: on Pagecall too, the participant
// has joined whether or not the webhook arrives. The mock delivers once
// and never retries; redirects are not followed.
func (s *Server) TriggerSession(roomID, userID, action string) (int, error) {
	d, err := s.triggerSession(context.Background(), roomID, userID, action)
	return d.Status, err
}

// delivery is one webhook the mock sent.
type delivery struct {
	// URL is where it went.
	URL string `json:"url"`
	// Event is the body sent.
	Event json.RawMessage `json:"event"`
	// Status is the receiver's answer; 0 if none came.
	Status int `json:"status"`
}

func (s *Server) triggerSession(ctx context.Context, roomID, userID, action string) (delivery, error) {
	if !s.enter() {
		return delivery{}, ErrClosed
	}
	defer s.handlers.Done()

	s.mu.Lock()
	hook, ok := s.store.webhooks[roomID]
	var err error
	switch _, exists := s.store.rooms.get(roomID); {
	case !exists:
		err = fmt.Errorf("%w: %q", ErrRoomNotFound, roomID)
	case !ok || hook.URL == "":
		err = fmt.Errorf("%w: room %q", ErrNoWebhook, roomID)
	default:
		err = checkLoopbackURL(hook.URL)
	}
	var ev sessionEvent
	if err == nil {
		hook.Headers = cloneHeaders(hook.Headers)
		ev, err = s.store.session(roomID, userID, action, s.now())
	}
	s.mu.Unlock()
	if err != nil {
		return delivery{}, err
	}

	body := mustJSON(ev)
	d := delivery{URL: hook.URL, Event: body}
	d.Status, err = s.deliver(ctx, hook, body)
	s.logger.Info("pagecalltest webhook", "action", action, "room", roomID, "url", hook.URL, "status", d.Status, "err", err)
	return d, err
}

// deliver POSTs body to the hook, bounded by the webhook timeout and by
// Close, and returns the answer's status.
func (s *Server) deliver(ctx context.Context, hook Webhook, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.hooks.timeout)
	defer cancel()
	go func() { // Close ends the delivery
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("pagecalltest: webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hook.Headers {
		req.Header.Set(k, v)
	}
	resp, err := s.hooks.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("pagecalltest: webhook delivery to %s: %w", hook.URL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// deliverer is how a Server delivers webhooks.
type deliverer struct {
	timeout time.Duration
	client  *http.Client
}

// newDeliverer returns the deliverer for cfg. Its client keeps no idle
// connection, so nothing outlives a delivery. Its dialer refuses any
// address that is not loopback, whatever a host name resolved to; it uses
// no proxy (not even one from the environment) and follows no redirect.
func newDeliverer(cfg config) deliverer {
	timeout := cfg.webhookTimeout
	if timeout <= 0 {
		timeout = DefaultWebhookTimeout
	}
	dialer := &net.Dialer{
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("%w: refusing to connect to %s", ErrNotLoopback, address)
			}
			return nil
		},
	}
	return deliverer{
		timeout: timeout,
		client: &http.Client{
			Transport: &http.Transport{
				Proxy:             nil,
				DialContext:       dialer.DialContext,
				DisableKeepAlives: true,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// checkLoopbackURL accepts an http or https URL whose host is localhost or
// a loopback IP address.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrNotLoopback, raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: %q is not an http or https URL", ErrNotLoopback, raw)
	}
	if !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("%w: %q", ErrNotLoopback, raw)
	}
	return nil
}

// isLoopbackHost reports whether host (no port) is localhost or a loopback
// IP address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
