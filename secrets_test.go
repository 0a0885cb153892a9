package pagecall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// relAuthLog records the Authorization header of every request a server
// gets.
type relAuthLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *relAuthLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, r.Header.Get("Authorization"))
}

func (l *relAuthLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen...)
}

// TestAPIKeyOnlyReachesBaseHost: when the API redirects, the key follows
// only to the base URL's own scheme, host and port. net/http alone drops
// it only on a change of host name, not of port or scheme.
func TestAPIKeyOnlyReachesBaseHost(t *testing.T) {
	// The redirect target: answers the user, records what it got.
	var targetAuth relAuthLog
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetAuth.add(r)
		relWriteUser(w, "u1")
	}))
	t.Cleanup(target.Close)
	targetPort := target.URL[strings.LastIndex(target.URL, ":")+1:]

	// redirector answers 307 to to(r); it records what it got.
	redirector := func(t *testing.T, tls bool, to func(r *http.Request) string) (*httptest.Server, *relAuthLog) {
		var auth relAuthLog
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth.add(r)
			if r.URL.Query().Has("arrived") {
				relWriteUser(w, "u1")
				return
			}
			http.Redirect(w, r, to(r), http.StatusTemporaryRedirect)
		})
		var ts *httptest.Server
		if tls {
			ts = httptest.NewTLSServer(h)
		} else {
			ts = httptest.NewServer(h)
		}
		t.Cleanup(ts.Close)
		return ts, &auth
	}

	cases := []struct {
		name      string
		tls       bool
		to        func(r *http.Request) string
		client    func(ts *httptest.Server) *http.Client // nil: the default
		toTarget  bool                                   // the redirect lands on target
		wantAuthB bool                                   // the landing request carries the key
	}{
		{
			name:     "other host name: 127.0.0.1 to localhost",
			to:       func(r *http.Request) string { return "http://localhost:" + targetPort + r.URL.Path },
			client:   func(*httptest.Server) *http.Client { return &http.Client{Transport: relLoopbackTransport()} },
			toTarget: true,
		},
		{
			name:     "other port: 127.0.0.1:A to 127.0.0.1:B",
			to:       func(r *http.Request) string { return target.URL + r.URL.Path },
			toTarget: true,
		},
		{
			name:     "other scheme: https to http, same host",
			tls:      true,
			to:       func(r *http.Request) string { return target.URL + r.URL.Path },
			client:   func(ts *httptest.Server) *http.Client { return ts.Client() },
			toTarget: true,
		},
		{
			// Control: the key is sent on redirects that stay on the base,
			// so the cases above do test the guard.
			name:      "same scheme, host and port: the key follows",
			to:        func(r *http.Request) string { return r.URL.Path + "?arrived=1" },
			wantAuthB: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, baseAuth := redirector(t, tc.tls, tc.to)
			var opts []Option
			if tc.client != nil {
				hc := tc.client(ts)
				if tr, ok := hc.Transport.(*http.Transport); ok {
					t.Cleanup(tr.CloseIdleConnections)
				}
				opts = append(opts, WithHTTPClient(hc))
			}
			c := relClient(t, ts.URL+"/v1", opts...)
			before := len(targetAuth.get())
			if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
			want := "Bearer " + relKey
			if got := baseAuth.get(); len(got) == 0 || got[0] != want {
				t.Fatalf("base server got Authorization %q, want the key", got)
			}
			var landed []string
			if tc.toTarget {
				landed = targetAuth.get()[before:]
			} else {
				landed = baseAuth.get()[1:]
			}
			if len(landed) != 1 {
				t.Fatalf("redirect target got %d requests, want 1", len(landed))
			}
			if tc.wantAuthB && landed[0] != want {
				t.Errorf("same-origin redirect got Authorization %q, want the key", landed[0])
			}
			if !tc.wantAuthB && landed[0] != "" {
				t.Errorf("redirect off the base URL carried Authorization %q", landed[0])
			}
		})
	}
}

// TestDebugLogsMaskKey: a failing call with retries, logged at debug
// level through text and JSON handlers, never writes the key, while the
// log does describe the attempts (so it is not just empty).
func TestDebugLogsMaskKey(t *testing.T) {
	base, _ := relServer(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", fmt.Sprintf("req-%d", n))
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"message":"upstream unavailable for %s"}`, r.URL.Path)
	})
	for _, h := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"text", func(b *bytes.Buffer) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true})
		}},
		{"json", func(b *bytes.Buffer) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		}},
	} {
		t.Run(h.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(h.new(&buf))
			c := relClient(t, base, WithLogger(logger))
			// Leave the budget a retry or two, so that the refusal record
			// is logged too.
			c.loop.budget.left.Store(2 * budgetRetryCost)
			var last error
			for range 4 {
				_, last = c.DeleteUser(context.Background(), "u1")
			}
			if last == nil {
				t.Fatal("call succeeded against a 503 server")
			}
			logger.Debug("caller logs the client and the error", "client", c, "err", last)

			out := buf.String()
			for _, want := range []string{"attempt failed", "upstream unavailable", relBudgetMsg} {
				if !strings.Contains(out, want) {
					t.Errorf("debug log lacks %q; log:\n%s", want, out)
				}
			}
			if strings.Contains(out, relKey) {
				t.Errorf("debug log contains the API key:\n%s", out)
			}
			if strings.Contains(last.Error(), relKey) {
				t.Errorf("error contains the API key: %v", last)
			}
		})
	}
}

// TestErrorsNeverContainEchoedKey: a server that echoes the request's
// Authorization header back in its error body does not get the key into
// the error's message, body or Error() line.
func TestErrorsNeverContainEchoedKey(t *testing.T) {
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"message":"token %s is not valid"}`, r.Header.Get("Authorization"))
	})
	c := relClient(t, base)
	_, err := c.DeleteUser(context.Background(), "u1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a 401 *APIError", err)
	}
	if !strings.Contains(apiErr.Message, "is not valid") {
		t.Fatalf("message %q lost the server's text", apiErr.Message)
	}
	for what, s := range map[string]string{
		"Error()": err.Error(), "Message": apiErr.Message, "Body": string(apiErr.Body),
		"%+v": fmt.Sprintf("%+v", err), "%#v": fmt.Sprintf("%#v", apiErr),
	} {
		if strings.Contains(s, relKey) {
			t.Errorf("%s contains the key: %s", what, s)
		}
	}
}
