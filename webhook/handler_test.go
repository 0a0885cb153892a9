package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pplink/pagecall-go/webhook"
)

const (
	testHeader = "X-Hook-Secret"
	testSecret = "s3cret-VALUE-never-shown"
)

// validBody is a delivery as Pagecall documents it.
const validBody = `{"action":"sessionJoined","payload":{"roomId":"r1","userId":"ada","memberId":"m1","sessionId":"s1","sessionsCount":2,"membersCount":1,"timestamp":"2022-05-31T12:38:15.059Z"}}`

var validEvent = webhook.Event{
	Action: webhook.ActionSessionJoined,
	Payload: webhook.Payload{
		RoomID: "r1", UserID: "ada", MemberID: "m1", SessionID: "s1",
		SessionsCount: 2, MembersCount: 1,
		Timestamp: time.Date(2022, 5, 31, 12, 38, 15, 59_000_000, time.UTC),
	},
}

// recorder is an fn that records the events it is called with.
type recorder struct {
	mu     sync.Mutex
	events []webhook.Event
	err    error // returned by every call
}

func (r *recorder) fn(_ context.Context, ev webhook.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return r.err
}

func (r *recorder) calls() []webhook.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhook.Event(nil), r.events...)
}

// TestHandlerAnswers is the answer table of the package documentation:
// each kind of delivery, the status it gets, and whether fn is called.
// Every answer and log line is checked for the secret.
func TestHandlerAnswers(t *testing.T) {
	t.Parallel()
	right := http.Header{testHeader: {testSecret}}
	// A body of exactly MaxBodyBytes: valid JSON padded with blanks.
	atLimit := validBody + strings.Repeat(" ", webhook.MaxBodyBytes-len(validBody))
	overLimit := atLimit + " "
	unknown := strings.Replace(validBody, `"sessionJoined"`, `"roomEnded"`, 1)

	tests := []struct {
		name    string
		method  string
		header  http.Header
		body    string
		chunked bool  // send without Content-Length
		fnErr   error // what fn returns
		status  int
		want    []webhook.Event // what fn must be called with; nil: not called
	}{
		{name: "valid", header: right, body: validBody, status: 200, want: []webhook.Event{validEvent}},
		{name: "valid, header name in another case", header: http.Header{"X-HOOK-SECRET": {testSecret}}, body: validBody, status: 200, want: []webhook.Event{validEvent}},
		{name: "valid, body of exactly the limit", header: right, body: atLimit, status: 200, want: []webhook.Event{validEvent}},
		{name: "unknown action is passed on", header: right, body: unknown, status: 200,
			want: []webhook.Event{{Action: "roomEnded", Payload: validEvent.Payload}}},
		{name: "GET", method: http.MethodGet, header: right, status: 405},
		{name: "PUT with a valid body", method: http.MethodPut, header: right, body: validBody, status: 405},
		{name: "GET without the secret", method: http.MethodGet, status: 405},
		{name: "no secret header", body: validBody, status: 401},
		{name: "wrong secret", header: http.Header{testHeader: {"guess"}}, body: validBody, status: 401},
		{name: "secret with a suffix", header: http.Header{testHeader: {testSecret + "x"}}, body: validBody, status: 401},
		{name: "secret prefix", header: http.Header{testHeader: {testSecret[:len(testSecret)-1]}}, body: validBody, status: 401},
		{name: "empty secret", header: http.Header{testHeader: {""}}, body: validBody, status: 401},
		{name: "secret in another header", header: http.Header{"X-Other": {testSecret}}, body: validBody, status: 401},
		{name: "secret header twice", header: http.Header{testHeader: {"guess", testSecret}}, body: validBody, status: 401},
		{name: "no secret and a huge body", body: overLimit, status: 401},
		{name: "body over the limit", header: right, body: overLimit, status: 413},
		{name: "body over the limit, no Content-Length", header: right, body: overLimit, chunked: true, status: 413},
		{name: "malformed JSON", header: right, body: `{"action":`, status: 400},
		{name: "not an object", header: right, body: `["sessionJoined"]`, status: 400},
		{name: "null", header: right, body: `null`, status: 400},
		{name: "empty body", header: right, body: ``, status: 400},
		{name: "trailing data", header: right, body: validBody + `{}`, status: 400},
		{name: "no action", header: right, body: `{"payload":{"roomId":"r1"}}`, status: 400},
		{name: "empty action", header: right, body: `{"action":"","payload":{"roomId":"r1"}}`, status: 400},
		{name: "count of the wrong type", header: right, body: strings.Replace(validBody, `"sessionsCount":2`, `"sessionsCount":"2"`, 1), status: 400},
		{name: "timestamp not RFC 3339", header: right, body: strings.Replace(validBody, `2022-05-31T12:38:15.059Z`, `31/05/2022`, 1), status: 400},
		{name: "fn fails", header: right, body: validBody, fnErr: errors.New("database down"), status: 500, want: []webhook.Event{validEvent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			rec := &recorder{err: tt.fnErr}
			h := webhook.NewHandler(rec.fn,
				webhook.WithSecretHeader(testHeader, testSecret),
				webhook.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			srv := httptest.NewServer(h)
			defer srv.Close()

			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+"/hook", body)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range tt.header {
				req.Header[k] = vs // as given: not canonicalised
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()

			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d (body %q)", resp.StatusCode, tt.status, answer)
			}
			if tt.status == 405 && resp.Header.Get("Allow") != http.MethodPost {
				t.Errorf("405 with Allow %q, want POST", resp.Header.Get("Allow"))
			}
			got := rec.calls()
			if len(got) != len(tt.want) {
				t.Fatalf("fn called %d times, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !got[i].Payload.Timestamp.Equal(tt.want[i].Payload.Timestamp) || got[i].Action != tt.want[i].Action {
					t.Errorf("fn got %+v, want %+v", got[i], tt.want[i])
				}
				got[i].Payload.Timestamp, tt.want[i].Payload.Timestamp = time.Time{}, time.Time{}
				if got[i] != tt.want[i] {
					t.Errorf("fn got %+v, want %+v", got[i], tt.want[i])
				}
			}
			if tt.status >= 400 && len(answer) == 0 {
				t.Error("an error answer with no body")
			}
			if bytes.Contains(answer, []byte(testSecret)) || bytes.Contains(logs.Bytes(), []byte(testSecret)) {
				t.Errorf("the secret was shown:\nanswer %q\nlogs %s", answer, logs.String())
			}
			if tt.status != 200 && logs.Len() == 0 {
				t.Error("nothing logged for a refused or failed delivery")
			}
			if tt.fnErr != nil && bytes.Contains(answer, []byte(tt.fnErr.Error())) {
				t.Errorf("fn's error was sent to the sender: %q", answer)
			}
		})
	}
}

// TestParseRequestErrors: each refusal is its own error for errors.Is, and
// the handler's statuses follow from them.
func TestParseRequestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		header string
		body   string
		opts   []webhook.Option
		want   error
	}{
		{"method", http.MethodGet, testSecret, validBody, nil, webhook.ErrMethodNotAllowed},
		{"secret", http.MethodPost, "nope", validBody, nil, webhook.ErrUnauthorized},
		{"size", http.MethodPost, testSecret, validBody + strings.Repeat(" ", webhook.MaxBodyBytes), nil, webhook.ErrTooLarge},
		{"json", http.MethodPost, testSecret, `{`, nil, webhook.ErrMalformed},
		{"action", http.MethodPost, testSecret, `{}`, nil, webhook.ErrMalformed},
		{"no secret configured", http.MethodPost, testSecret, validBody, []webhook.Option{}, webhook.ErrNoSecret},
		{"empty secret configured", http.MethodPost, "", validBody, []webhook.Option{webhook.WithSecretHeader(testHeader, "")}, webhook.ErrInvalidSecretHeader},
		{"ok", http.MethodPost, testSecret, validBody, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tt.method, "/", strings.NewReader(tt.body))
			req.Header.Set(testHeader, tt.header)
			opts := tt.opts
			if opts == nil {
				opts = []webhook.Option{webhook.WithSecretHeader(testHeader, testSecret)}
			}
			ev, err := webhook.ParseRequest(req, opts...)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil && ev.Payload.SessionID != "s1" {
				t.Errorf("event %+v, want session s1", ev)
			}
			if err != nil && strings.Contains(err.Error(), testSecret) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

// TestHandlerSeveralSecrets: every WithSecretHeader is accepted, nothing
// else is.
func TestHandlerSeveralSecrets(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := webhook.NewHandler(rec.fn,
		webhook.WithSecretHeader(testHeader, "old-secret"),
		webhook.WithSecretHeader("X-New", "new-secret"))
	for _, tt := range []struct {
		name, value string
		status      int
	}{
		{testHeader, "old-secret", 200},
		{"X-New", "new-secret", 200},
		{testHeader, "new-secret", 401},
		{"X-New", "old-secret", 401},
	} {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(validBody))
		req.Header.Set(tt.name, tt.value)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != tt.status {
			t.Errorf("%s: %s: status %d, want %d", tt.name, tt.value, w.Code, tt.status)
		}
	}
	if n := len(rec.calls()); n != 2 {
		t.Errorf("fn called %d times, want 2", n)
	}
}

// TestNewHandlerRefusesUnsafeConfig: no secret, a bad one, or no fn is a
// panic at construction, and the panic does not show the secret.
func TestNewHandlerRefusesUnsafeConfig(t *testing.T) {
	t.Parallel()
	fn := (&recorder{}).fn
	const bad = "line\nbreak-secret"
	tests := []struct {
		name string
		fn   func(context.Context, webhook.Event) error
		opts []webhook.Option
		want string
	}{
		{"no option", fn, nil, "no secret header"},
		{"only a logger", fn, []webhook.Option{webhook.WithLogger(slog.Default())}, "no secret header"},
		{"empty secret", fn, []webhook.Option{webhook.WithSecretHeader(testHeader, "")}, "empty secret"},
		{"secret with a line break", fn, []webhook.Option{webhook.WithSecretHeader(testHeader, bad)}, "control characters"},
		{"secret with a trailing blank", fn, []webhook.Option{webhook.WithSecretHeader(testHeader, "abc ")}, "surrounding blanks"},
		{"header name with a colon", fn, []webhook.Option{webhook.WithSecretHeader("X-A:b", testSecret)}, "not an HTTP header name"},
		{"empty header name", fn, []webhook.Option{webhook.WithSecretHeader("", testSecret)}, "not an HTTP header name"},
		{"a bad one among good ones", fn, []webhook.Option{webhook.WithSecretHeader(testHeader, testSecret), webhook.WithSecretHeader("X B", testSecret)}, "not an HTTP header name"},
		{"nil fn", nil, []webhook.Option{webhook.WithSecretHeader(testHeader, testSecret)}, "nil fn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				p := recover()
				msg, _ := p.(string)
				if p == nil || !strings.Contains(msg, tt.want) {
					t.Fatalf("panic %v, want one saying %q", p, tt.want)
				}
				if strings.Contains(msg, testSecret) || strings.Contains(msg, "break-secret") {
					t.Errorf("the panic shows the secret: %s", msg)
				}
			}()
			webhook.NewHandler(tt.fn, tt.opts...)
		})
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		s, err := webhook.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		// Base32 carries 5 bits a character: 26 characters are 130 bits.
		if len(s)*5 < 128 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("secret %q: want at least 26 base32 characters", s)
		}
		if seen[s] {
			t.Fatalf("secret %q returned twice", s)
		}
		seen[s] = true
		// It works as a secret header.
		webhook.NewHandler((&recorder{}).fn, webhook.WithSecretHeader(webhook.DefaultSecretHeader, s))
	}
}

// TestPayloadJSON: the documented JSON names and timestamp decode into the
// pinned fields, and encode back to the same names.
func TestPayloadJSON(t *testing.T) {
	t.Parallel()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(validBody))
	req.Header.Set(testHeader, testSecret)
	ev, err := webhook.ParseRequest(req, webhook.WithSecretHeader(testHeader, testSecret))
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Payload.Timestamp.Equal(validEvent.Payload.Timestamp) {
		t.Errorf("timestamp %v, want %v", ev.Payload.Timestamp, validEvent.Payload.Timestamp)
	}
	ev.Payload.Timestamp = validEvent.Payload.Timestamp
	if ev != validEvent {
		t.Errorf("event %+v, want %+v", ev, validEvent)
	}
	// Encoding gives Pagecall's body back, milliseconds in full.
	for _, ts := range []string{"2022-05-31T12:38:15.059Z", "2022-05-31T12:38:15.200Z", "2022-05-31T12:38:15.000Z"} {
		body := strings.Replace(validBody, "2022-05-31T12:38:15.059Z", ts, 1)
		var ev webhook.Event
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != body {
			t.Errorf("encoded as %s, want %s", b, body)
		}
	}
}

// TestValidateSecretHeader: it refuses exactly what makes NewHandler panic,
// and never shows the secret.
func TestValidateSecretHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, header, secret string
		valid                bool
	}{
		{"default header, a new secret", webhook.DefaultSecretHeader, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", true},
		{"inner blank", testHeader, "two words", true},
		{"token characters", "X-Hook_Secret.v1~!", testSecret, true},
		{"empty secret", testHeader, "", false},
		{"tab in secret", testHeader, "a\tb-" + testSecret, false},
		{"DEL in secret", testHeader, "a\x7fb-" + testSecret, false},
		{"leading blank", testHeader, " " + testSecret, false},
		{"blank in name", "X Secret", testSecret, false},
		{"non-ASCII name", "X-Sécret", testSecret, false},
		{"empty name", "", testSecret, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := webhook.ValidateSecretHeader(tt.header, tt.secret)
			if (err == nil) != tt.valid || (err != nil && !errors.Is(err, webhook.ErrInvalidSecretHeader)) {
				t.Fatalf("err = %v, want valid %v", err, tt.valid)
			}
			if err != nil && tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("the error shows the secret: %v", err)
			}
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				webhook.NewHandler((&recorder{}).fn, webhook.WithSecretHeader(tt.header, tt.secret))
				return false
			}()
			if panicked == tt.valid {
				t.Errorf("NewHandler panicked: %v, want %v", panicked, !tt.valid)
			}
		})
	}
}
