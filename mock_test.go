package pagecall_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	pagecall "github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/pagecalltest"
)

const mockUser = "external_user_102932" // the spec's example user, seeded in the mock

// TestAgainstMock runs the client against the spec-validating mock, as a
// user's own tests would: every request it sends must pass the mock's
// validation of the checked-in spec, and every fault must end as the retry
// policy says.
func TestAgainstMock(t *testing.T) {
	tests := []struct {
		name         string
		key          string
		faults       []pagecalltest.Fault
		id           string
		wantStatus   int // 0: success
		wantAttempts int
	}{
		{"delete", pagecalltest.APIKey, nil, mockUser, 0, 1},
		{"unknown user", pagecalltest.APIKey, nil, "nobody", http.StatusBadRequest, 1},
		// Pagecall's document declares 400 for a refused key, so the mock
		// answers 400 (a 401 takes a Fault), and a 400 is not retried.
		{"wrong key: 400, not retried", "not-the-key", nil, mockUser, http.StatusBadRequest, 1},
		{"injected 401, not retried", pagecalltest.APIKey, []pagecalltest.Fault{{Status: 401}}, mockUser, http.StatusUnauthorized, 1},
		{"503 then success", pagecalltest.APIKey, []pagecalltest.Fault{{Status: 503}}, mockUser, 0, 2},
		{"429 with Retry-After 0", pagecalltest.APIKey, []pagecalltest.Fault{{Status: 429, RetryAfter: "0"}}, mockUser, 0, 2},
		{"reset then success", pagecalltest.APIKey, []pagecalltest.Fault{{Reset: true}}, mockUser, 0, 2},
		// The server deleted the user but the answer was cut short: the
		// retry finds the user gone. Attempts > 1 with "not found" tells the
		// caller an earlier attempt most likely did the work.
		{"truncated answer, retry finds the user gone", pagecalltest.APIKey, []pagecalltest.Fault{{Truncate: true}}, mockUser, http.StatusBadRequest, 2},
		{"502 every time", pagecalltest.APIKey, []pagecalltest.Fault{{Status: 502, Count: 3}}, mockUser, http.StatusBadGateway, 3},
		{"501 not retried", pagecalltest.APIKey, []pagecalltest.Fault{{Status: 501}}, mockUser, http.StatusNotImplemented, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := pagecalltest.NewTestServer(t)
			for _, f := range tt.faults {
				srv.Inject(f)
			}
			c, err := pagecall.NewClient(pagecall.WithAPIKey(tt.key), pagecall.WithBaseURL(srv.URL()),
				pagecall.WithRetryPolicy(pagecall.RetryPolicy{MaxRetries: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			user, err := c.DeleteUser(ctx, tt.id)

			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("DeleteUser: %v", err)
				}
				if user.UserID != tt.id || user.Name == "" {
					t.Errorf("user = %+v, want the mock's %s", user, tt.id)
				}
				if srv.UserExists(tt.id) {
					t.Errorf("%s still exists in the mock", tt.id)
				}
			} else {
				var apiErr *pagecall.APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantStatus {
					t.Fatalf("err = %v, want *APIError %d", err, tt.wantStatus)
				}
				if apiErr.Attempts != tt.wantAttempts {
					t.Errorf("APIError.Attempts = %d, want %d", apiErr.Attempts, tt.wantAttempts)
				}
				if apiErr.Message == "" {
					t.Errorf("APIError has no message: %v", apiErr)
				}
			}
			reqs := srv.Requests()
			if len(reqs) != tt.wantAttempts {
				t.Errorf("mock received %d requests, want %d", len(reqs), tt.wantAttempts)
			}
			for _, r := range reqs {
				if r.Method != http.MethodDelete || r.OperationID != "DeleteUser" {
					t.Errorf("request %s %s routed to %q, want DeleteUser", r.Method, r.Path, r.OperationID)
				}
			}
		})
	}
}

// TestAgainstMockDeleteTwice deletes the same user twice: the second call
// gets the mock's (and so the spec's) error status as a typed error.
func TestAgainstMockDeleteTwice(t *testing.T) {
	srv := pagecalltest.NewTestServer(t)
	c, err := pagecall.NewClient(pagecall.WithAPIKey(pagecalltest.APIKey), pagecall.WithBaseURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.DeleteUser(ctx, mockUser); err != nil {
		t.Fatalf("first delete: %v", err)
	}
	_, err = c.DeleteUser(ctx, mockUser)
	var apiErr *pagecall.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode/100 != 4 || apiErr.Message != "user not found" {
		t.Fatalf("second delete: err = %v, want a 4xx *APIError saying user not found", err)
	}
}
