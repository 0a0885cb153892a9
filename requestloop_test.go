package pagecall

// Tests that pin behaviours of the request loop which a mutation audit
// showed no other test would miss (docs/RELIABILITY.md, "Mutation audit").

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pplink/pagecall-go/internal/wire"
)

// relAttempt is what a server saw of one attempt.
type relAttempt struct {
	auth, body string
}

// TestAuthOnEveryAttemptWithBody: a retried request that has a body (a PUT
// retried after 503s, a POST retried after a 429) carries the key and the
// same body on every attempt.
func TestAuthOnEveryAttemptWithBody(t *testing.T) {
	const body = `{"name":"scotty"}`
	tests := []struct {
		name   string
		status int
		fails  int
		call   func(ctx context.Context, api *wire.ClientWithResponses) error
	}{
		{"PUT UpdateUser after two 503s", http.StatusServiceUnavailable, 2, func(ctx context.Context, api *wire.ClientWithResponses) error {
			_, err := api.UpdateUserWithBodyWithResponse(ctx, "u1", "application/json", strings.NewReader(body))
			return err
		}},
		{"POST CreateRoom after a 429", http.StatusTooManyRequests, 1, func(ctx context.Context, api *wire.ClientWithResponses) error {
			_, err := api.CreateRoomWithBodyWithResponse(ctx, "application/json", strings.NewReader(body))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				seen []relAttempt
			)
			base, _ := relServer(t, func(n int64, w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				seen = append(seen, relAttempt{r.Header.Get("Authorization"), string(b)})
				mu.Unlock()
				if n <= int64(tt.fails) {
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(tt.status)
					return
				}
				relWriteUser(w, "u1")
			})
			c := relClient(t, base)
			_ = tt.call(context.Background(), c.API()) // the answer's shape is not the point
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != tt.fails+1 {
				t.Fatalf("%d attempts, want %d", len(seen), tt.fails+1)
			}
			for i, a := range seen {
				if a.auth != "Bearer "+relKey {
					t.Errorf("attempt %d: Authorization %q, want the key", i+1, a.auth)
				}
				if a.body != body {
					t.Errorf("attempt %d: body %q, want %q", i+1, a.body, body)
				}
			}
		})
	}
}

// TestURLGuardRefusesDotSegments: a request through API() whose path climbs
// out of the base URL with ".." is refused before anything is sent.
func TestURLGuardRefusesDotSegments(t *testing.T) {
	base, hits := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) { relWriteUser(w, "u1") })
	c := relClient(t, base)
	climb := func(_ context.Context, req *http.Request) error {
		req.URL.Path = "/v1/rooms/../../admin"
		return nil
	}
	for name, call := range map[string]func() error{
		"rewritten path /v1/rooms/../../admin": func() error {
			_, err := c.API().GetRoomWithResponse(context.Background(), "r1", climb)
			return err
		},
		"room ID ..": func() error {
			_, err := c.API().GetRoomWithResponse(context.Background(), "..")
			return err
		},
	} {
		err := call()
		if !errors.Is(err, ErrOutsideBaseURL) {
			t.Errorf("%s: err = %v, want ErrOutsideBaseURL", name, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the server, want none", n)
	}
}

// TestFailedPOSTLowersBudget: a POST answered 503 is not retried, but it
// is a failure of the service and lowers the budget all the same.
func TestFailedPOSTLowersBudget(t *testing.T) {
	base, hits := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := relClient(t, base)
	before := c.RetryBudget()
	_, err := c.API().CreateRoomWithBodyWithResponse(context.Background(), "application/json", strings.NewReader(`{}`))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want the 503", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d attempts, want 1 (a POST is not retried after a 503)", n)
	}
	if after := c.RetryBudget(); after != before-budgetRetryCost {
		t.Errorf("RetryBudget() went from %.0f to %.0f, want it lowered by %d", before, after, budgetRetryCost)
	}
}

// TestRetryAfterEqualToCapIsWaited: a Retry-After exactly MaxRetryAfter is
// within the cap, so it is waited out and the call retried.
func TestRetryAfterEqualToCapIsWaited(t *testing.T) {
	base, hits := relServer(t, relFailThenOK(1, http.StatusTooManyRequests, map[string]string{"Retry-After": "1"}, ""))
	policy := relFastPolicy
	policy.MaxRetryAfter = time.Second
	c := relClient(t, base, WithRetryPolicy(policy))
	start := time.Now()
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("retried after %v, want the 1s wait honoured", d)
	}
}

// TestParserErrorPathEscaped: when the generated parser fails on a 2xx
// body, the *RequestError names the request by its escaped path, as sent.
func TestParserErrorPathEscaped(t *testing.T) {
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"user":`)
	})
	c := relClient(t, base)
	_, err := c.DeleteUser(context.Background(), "a/b")
	var reqErr *RequestError
	if !errors.As(err, &reqErr) || !errors.Is(err, ErrMalformedResponse) {
		t.Fatalf("err = %v, want a *RequestError with ErrMalformedResponse", err)
	}
	if reqErr.Method != http.MethodDelete || reqErr.Path != "/v1/users/a%2Fb" {
		t.Errorf("request named %s %s, want DELETE /v1/users/a%%2Fb", reqErr.Method, reqErr.Path)
	}
}

// TestErrorMessagePrecedence: of the JSON fields an error body may have,
// "message" wins over "error", which wins over "detail" and "title".
func TestErrorMessagePrecedence(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{`{"error":"from error","message":"from message"}`, "from message"},
		{`{"message":"from message","error":"from error"}`, "from message"},
		{`{"title":"from title","error":"from error"}`, "from error"},
		{`{"title":"from title","detail":"from detail"}`, "from detail"},
		{`{"message":"","error":"from error"}`, "from error"},
	} {
		if got := ErrorMessage("application/json", []byte(tt.body)); got != tt.want {
			t.Errorf("ErrorMessage(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

// TestNoPartOfKeyShown: beyond the whole key, no format verb and no debug
// log line shows any part of it: not its first or last characters, nor
// any run of 4 of them.
func TestNoPartOfKeyShown(t *testing.T) {
	const key = "QX7ZK9VW3JQ8YXZ4MKP2"
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	var logs bytes.Buffer
	text := slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true})
	c, err := NewClient(WithAPIKey(key), WithBaseURL(base), WithRetryPolicy(relFastPolicy), WithLogger(slog.New(text)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.loop.hc.CloseIdleConnections)
	c.loop.budget.left.Store(budgetRetryCost) // one retry, then a refusal: every log line
	_, callErr := c.DeleteUser(context.Background(), "u1")
	_, _ = c.DeleteUser(context.Background(), "u1")
	if callErr == nil {
		t.Fatal("call succeeded against a 503 server")
	}
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("caller", "client", c, "err", callErr, "loop", c.loop)

	outputs := map[string]string{"logs": logs.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		outputs[verb+" client"] = fmt.Sprintf(verb, c)
		outputs[verb+" client value"] = fmt.Sprintf(verb, *c)
		outputs[verb+" loop"] = fmt.Sprintf(verb, *c.loop)
		outputs[verb+" error"] = fmt.Sprintf(verb, callErr)
	}
	for name, out := range outputs {
		for i := 0; i+4 <= len(key); i++ {
			if part := key[i : i+4]; strings.Contains(out, part) {
				t.Errorf("%s shows %q, part of the key: %s", name, part, out)
				break
			}
		}
	}
	if !strings.Contains(logs.String(), "retry budget exhausted") {
		t.Errorf("the log lacks the refusal line; the check above saw less than it should: %s", logs.String())
	}
}

// TestErrorMessageBounded: a huge message, in a JSON field or a text body,
// is cut to 512 bytes and marked, so that one answer cannot make an error
// line of megabytes.
func TestErrorMessageBounded(t *testing.T) {
	long := strings.Repeat("é", 4000)
	for name, body := range map[string]string{
		"JSON message": `{"message":"` + long + `"}`,
		"JSON error":   `{"error":{"message":"` + long + `"}}`,
		"text":         long,
	} {
		got := ErrorMessage("", []byte(body))
		if len(got) > maxMessage+len("…") || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
			t.Errorf("%s: message of %d bytes ending %q, want at most %d bytes, valid UTF-8, ending with …", name, len(got), got[max(0, len(got)-8):], maxMessage)
		}
	}
}

// TestRetryAfterOnlyFor429And503: a Retry-After on another status is not
// the server asking for a pause: a 500 is retried after the usual backoff,
// and nothing pauses the client.
func TestRetryAfterOnlyFor429And503(t *testing.T) {
	base, hits := relServer(t, relFailThenOK(1, http.StatusInternalServerError, map[string]string{"Retry-After": "20"}, ""))
	c := relClient(t, base)
	start := time.Now()
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second || hits.Load() != 2 {
		t.Errorf("%d attempts in %v: want the 500 retried after the 1 µs backoff, not after its Retry-After", hits.Load(), d)
	}
	if u := c.PausedUntil(); !u.IsZero() {
		t.Errorf("a 500's Retry-After paused the client until %v", u)
	}
}
