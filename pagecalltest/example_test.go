package pagecalltest_test

import (
	"fmt"
	"io"
	"net/http"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// In a test, call pagecalltest.NewTestServer(t) instead: it fails the test
// if the server cannot start and closes it when the test ends.
func Example() {
	s, err := pagecalltest.NewServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	// The next DELETE of this user is refused as an overloaded server would.
	// (Route may also name the document's template, "DELETE /users/{user_id}".)
	s.Inject(pagecalltest.Fault{Route: "DELETE /users/external_user_102932", Status: http.StatusServiceUnavailable, RetryAfter: "1"})

	del := func() {
		req, _ := http.NewRequest(http.MethodDelete, s.URL()+"/users/external_user_102932", nil)
		req.Header.Set("Authorization", "Bearer "+pagecalltest.APIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"), len(body) > 0)
	}
	del() // the injected 503
	del() // deletes the seeded example user
	del() // the user is gone: the document's error status, 400

	fmt.Println(s.UserExists("external_user_102932"), len(s.Requests()))
	// Output:
	// 503 1 true
	// 200  true
	// 400  true
	// false 3
}
