package pagecalltest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// TestEscapedUserID: a user ID is unescaped from the path before the store
// looks it up, so /users/a%20b is the user "a b" and /users/50%25 the user
// "50%". (Found by gremlins: a lookup by the still-escaped ID passed every
// test.)
func TestEscapedUserID(t *testing.T) {
	for _, tc := range []struct{ id, path string }{
		{"a b", "/users/a%20b"},
		{"50%", "/users/50%25"},
		{"ü", "/users/%C3%BC"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			s := pagecalltest.NewTestServer(t)
			s.AddUser(tc.id, nil)
			if r := send(context.Background(), s, http.MethodGet, tc.path, pagecalltest.APIKey, ""); r.status != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200 for the user %q", tc.path, r.status, tc.id)
			}
			if r := send(context.Background(), s, http.MethodDelete, tc.path, pagecalltest.APIKey, ""); r.status/100 != 2 {
				t.Fatalf("DELETE %s: status %d, want 2xx", tc.path, r.status)
			}
			if s.UserExists(tc.id) {
				t.Errorf("DELETE %s left the user %q in the store", tc.path, tc.id)
			}
		})
	}
}
