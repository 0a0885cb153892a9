package pagecall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestRedactKey(t *testing.T) {
	const real = "pk_live_9fQ2xLm7TzR4bV1n" // a real-looking key
	tests := []struct {
		name, key, text, want string
	}{
		// A real key is hidden wherever it appears.
		{"real key after Bearer", real, "bad token Bearer " + real, "bad token Bearer [REDACTED]"},
		{"real key in JSON", real, `{"message":"` + real + `"}`, `{"message":"[REDACTED]"}`},
		{"real key inside a longer token", real, "x" + real + "y", "x[REDACTED]y"},
		{"real key URL-encoded after Bearer", real, "Bearer%20" + real, "Bearer%20[REDACTED]"},
		{"real key twice", real, real + real, "[REDACTED][REDACTED]"},
		{"real key in a path", real, "/users/" + real + "/rooms", "/users/[REDACTED]/rooms"},
		{"eight bytes is real", "abcdefgh", "xabcdefghx", "x[REDACTED]x"},

		// A 1-char key does not mangle ordinary words...
		{"short key in a word", "k", "invalid API key", "invalid API key"},
		{"short key in a path", "k", "/users/sdk-user-1", "/users/sdk-user-1"},
		{"short key inside a hyphenated ID", "user", "/users/sdk-user-1", "/users/sdk-user-1"},
		{"short key beside an underscore", "ab", "ab_c and c_ab", "ab_c and c_ab"},
		{"short key beside a non-ASCII letter", "k", "ключk", "ключk"},
		{"short key beside a digit", "k", "k1 and 1k", "k1 and 1k"},
		// ...but is hidden where it stands on its own.
		{"short key after Bearer", "k", "bad token Bearer k", "bad token Bearer [REDACTED]"},
		{"short key in JSON", "k", `{"token":"k"}`, `{"token":"[REDACTED]"}`},
		{"short key alone", "k", "k", "[REDACTED]"},
		{"short key mixed", "k", "key k, kk k.", "key [REDACTED], kk [REDACTED]."},
		{"short key in a path segment", "k", "/users/k/rooms", "/users/[REDACTED]/rooms"},
		{"short key after a word that contains it", "ab", "abab ab", "abab [REDACTED]"},

		{"no key", "", "text", "text"},
		{"key absent", real, "nothing here", "nothing here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactKey(tt.text, tt.key); got != tt.want {
				t.Errorf("redactKey(%q, %q) = %q, want %q", tt.text, tt.key, got, tt.want)
			}
			if got := redactKeyBytes([]byte(tt.text), tt.key); string(got) != tt.want {
				t.Errorf("redactKeyBytes(%q, %q) = %q, want %q", tt.text, tt.key, got, tt.want)
			}
			if len(tt.key) >= minRedactAnywhere && strings.Contains(redactKey(tt.text, tt.key), tt.key) {
				t.Errorf("a real key survived in %q", redactKey(tt.text, tt.key))
			}
		})
	}
}

// TestRedactKeyBytesKeepsCleanBody checks that a body without the key is
// returned as is, not copied.
func TestRedactKeyBytesKeepsCleanBody(t *testing.T) {
	body := []byte(`{"message":"user not found"}`)
	if got := redactKeyBytes(body, "pk_live_9fQ2xLm7TzR4bV1n"); &got[0] != &body[0] || !bytes.Equal(got, body) {
		t.Error("a body without the key was copied or changed")
	}
}

// TestScrubUsesTheRule checks the rule where it applies: the error a client
// returns. With a 1-char key the server's words and paths stay readable and
// the echoed key is still hidden; a real key is hidden inside a longer
// token.
func TestScrubUsesTheRule(t *testing.T) {
	tests := []struct {
		name, key, message, want string
	}{
		{"short key leaves words and paths", "k", "invalid API key for /users/sdk-user-1", "invalid API key for /users/sdk-user-1"},
		{"short key echoed alone is hidden", "k", "bad token Bearer k", "bad token Bearer [REDACTED]"},
		{"real key inside a token is hidden", relKey, "bad token Bearer%20" + relKey + "x", "bad token Bearer%20[REDACTED]x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, _ := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"message":%q}`, tt.message)
			})
			c := relClient(t, base, WithAPIKey(tt.key))
			_, err := c.DeleteUser(context.Background(), "sdk-user-1")
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.Message != tt.want {
				t.Errorf("Message = %q, want %q", apiErr.Message, tt.want)
			}
			if !strings.Contains(string(apiErr.Body), tt.want) {
				t.Errorf("Body = %s, want it to hold %q", apiErr.Body, tt.want)
			}
		})
	}
}

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
