package pagecall_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	pagecall "github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/pagecalltest"
)

// fakePagecall stands in for the API: it deletes external_user_102932 once
// and answers 400 for any other user.
func fakePagecall() *httptest.Server {
	deleted := false
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/v1/users/external_user_102932" || deleted {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"message": "user not found"}`)
			return
		}
		deleted = true
		io.WriteString(w, `{"user": {"user_id": "external_user_102932", "name": "scotty"}}`)
	}))
}

func ExampleClient_DeleteUser() {
	srv := fakePagecall() // in production, leave out WithBaseURL
	defer srv.Close()

	c, err := pagecall.NewClient(
		pagecall.WithAPIKey("your-api-key"), // or set PAGECALL_API_KEY
		pagecall.WithBaseURL(srv.URL+"/v1"),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	user, err := c.DeleteUser(ctx, "external_user_102932")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted", user.UserID, user.Name)

	// A second delete fails with a typed error.
	_, err = c.DeleteUser(ctx, "external_user_102932")
	var apiErr *pagecall.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Message)
	}
	// Output:
	// deleted external_user_102932 scotty
	// 400 user not found
}

// Client.Do sends a request the spec lacks through the same request loop
// as every generated method: the key, retries, limits and *APIError.
func ExampleClient_Do() {
	srv := fakePagecall()
	defer srv.Close()
	c, err := pagecall.NewClient(pagecall.WithAPIKey("your-api-key"), pagecall.WithBaseURL(srv.URL+"/v1"))
	if err != nil {
		log.Fatal(err)
	}

	var out struct{ User pagecall.User }
	if err := c.Do(context.Background(), http.MethodDelete, "/users/external_user_102932", nil, &out); err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.User.UserID)

	err = c.Do(context.Background(), http.MethodDelete, "/users/nobody", nil, nil)
	fmt.Println(err)
	// Output:
	// external_user_102932
	// pagecall: DELETE /v1/users/nobody: 400 Bad Request: user not found
}

func ExampleNewClient() {
	c, err := pagecall.NewClient(
		pagecall.WithAPIKey("your-api-key"),
		pagecall.WithBaseURL(pagecall.DefaultBaseURL),
		pagecall.WithTimeout(30*time.Second), // all attempts and waits of one call
		pagecall.WithRetryPolicy(pagecall.RetryPolicy{
			MaxRetries:     4,
			InitialBackoff: 200 * time.Millisecond, // MaxBackoff 0: the default 8s
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c) // the key is never printed
	// Output: pagecall.Client{BaseURL: "https://api.pagecall.com/v1", APIKey: [REDACTED]}
}

func ExampleNewClient_missingKey() {
	_, err := pagecall.NewClient(pagecall.WithAPIKey(""))
	fmt.Println(errors.Is(err, pagecall.ErrMissingAPIKey))
	fmt.Println(err)
	// Output:
	// true
	// pagecall: no API key: set PAGECALL_API_KEY or use WithAPIKey
}

func ExampleRetryPolicy_BackoffRange() {
	p := pagecall.DefaultRetryPolicy()
	for retry := 1; retry <= 5; retry++ {
		lo, hi := p.BackoffRange(retry)
		fmt.Printf("retry %d waits %v to %v\n", retry, lo, hi)
	}
	// Output:
	// retry 1 waits 250ms to 500ms
	// retry 2 waits 500ms to 1s
	// retry 3 waits 1s to 2s
	// retry 4 waits 2s to 4s
	// retry 5 waits 4s to 8s
}

// The integrator's workflow, end to end: a user, a private room that is not
// recorded, the user as its host, the meeting URL, the members, then the
// room terminated and the user deleted. It runs against pagecalltest's mock;
// in production, leave out WithBaseURL.
func Example_workflow() {
	srv, err := pagecalltest.NewServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, err := pagecall.NewClient(pagecall.WithAPIKey(pagecalltest.APIKey), pagecall.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// 1. Create the user (an upsert by user_id: retried safely).
	user, err := c.CreateUser(ctx, pagecall.CreateUserRequest{UserID: "ada", Name: "Ada"})
	if err != nil {
		log.Fatal(err)
	}
	// 2. A private room with recording off. Record is a *bool: nil leaves
	// the server's default (on), Ptr(false) turns it off. No webhook is sent.
	room, err := c.CreateRoom(ctx, pagecall.CreateRoomRequest{
		Name:   "standup",
		Type:   pagecall.RoomTypePrivate,
		Record: pagecall.Ptr(false),
	})
	if err != nil {
		log.Fatal(err)
	}
	// 3. The user hosts it.
	if _, err := c.CreateMember(ctx, room.ID, pagecall.CreateMemberRequest{UserID: user.UserID, Type: pagecall.MemberTypeHost}); err != nil {
		log.Fatal(err)
	}
	// 4. The URL the user opens to join.
	meet := pagecall.MeetURL(room.ID, user.AccessToken)
	fmt.Println(strings.NewReplacer(room.ID, "<room id>", user.AccessToken, "<access token>").Replace(meet))
	// 5. The members, page by page as the iterator needs them.
	for m, err := range c.ListMembersSeq(ctx, room.ID) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("member:", m.UserID, m.Type)
	}
	// 6. Terminate the room.
	room, err = c.UpdateRoom(ctx, room.ID, pagecall.UpdateRoomRequest{IsTerminated: pagecall.Ptr(true)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("terminated:", !room.TerminatedAt.IsZero())
	// 7. Delete the user.
	deleted, err := c.DeleteUser(ctx, user.UserID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted:", deleted.UserID)
	// Output:
	// https://app.pagecall.com/meet?room_id=<room id>&access_token=<access token>
	// member: ada host
	// terminated: true
	// deleted: ada
}

// A client that sends at most 5 requests a second, retries included, and
// reports how many attempts each call took.
func ExampleWithRateLimit() {
	srv := fakePagecall()
	defer srv.Close()
	c, err := pagecall.NewClient(
		pagecall.WithAPIKey("your-api-key"),
		pagecall.WithBaseURL(srv.URL+"/v1"),
		pagecall.WithRateLimit(5, 1),
	)
	if err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	for range 2 {
		var info pagecall.ResponseInfo
		_, err := c.DeleteUser(context.Background(), "external_user_102932", pagecall.WithResponseInfo(&info))
		fmt.Println("attempts:", info.Attempts, "error:", err != nil)
	}
	fmt.Println("the second call waited its turn:", time.Since(start) >= 150*time.Millisecond)
	// Output:
	// attempts: 1 error: false
	// attempts: 1 error: true
	// the second call waited its turn: true
}

// A 429 or 503 with Retry-After pauses every call of the client, not only
// the one that got it.
func ExampleClient_PausedUntil() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c, err := pagecall.NewClient(pagecall.WithAPIKey("your-api-key"), pagecall.WithBaseURL(srv.URL+"/v1"), pagecall.WithMaxRetries(0))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.DeleteUser(context.Background(), "a")
	fmt.Println(err)
	fmt.Println("paused:", !c.PausedUntil().IsZero())

	// A call that cannot wait that long fails at once, sending nothing.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = c.DeleteUser(ctx, "b")
	var apiErr *pagecall.APIError
	fmt.Println(errors.As(err, &apiErr), apiErr.StatusCode, apiErr.Path, apiErr.Attempts)
	// Output:
	// pagecall: DELETE /v1/users/a: 429 Too Many Requests (retry after 2s)
	// paused: true
	// true 429 /v1/users/b 0
}
