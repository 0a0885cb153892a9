package pagecalltest_test

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// The mock answers off-spec on purpose: here GetUser's created_at comes back
// as a number, as a drifting live API might send it. Point a client at the
// server to see how it copes.
func ExampleServer_PlantDrift() {
	s, err := pagecalltest.NewServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	s.AddUser("alice", map[string]any{"name": "Alice"})

	err = s.PlantDrift(pagecalltest.Drift{Operation: "GetUser", Pointer: "/user/created_at", Kind: pagecalltest.DriftRetype})
	if err != nil {
		fmt.Println(err)
		return
	}

	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/users/alice", nil)
	req.Header.Set("Authorization", "Bearer "+s.APIKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var body struct{ User map[string]any }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	fmt.Println(resp.StatusCode, body.User["name"], body.User["created_at"])
	// Output:
	// 200 Alice 1.7e+09
}
