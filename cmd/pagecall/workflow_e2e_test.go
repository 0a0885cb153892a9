//go:build !anyspec

package main

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/pagecalltest"
)

// startMockCommand runs "pagecall mock" on a free loopback port until the
// test ends and returns the environment that points the binary at it.
func startMockCommand(t *testing.T) []string {
	t.Helper()
	mock, out, errOut := command(t, cliEnv(), "", "mock", "--addr", "127.0.0.1:0", "--quiet")
	if err := mock.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = mock.Process.Signal(syscall.SIGINT)
		_ = mock.Wait()
		t.Logf("mock stdout:\n%s\nstderr:\n%s", out, errOut)
	})
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(out.String(), "Press Ctrl-C to stop.") })
	for line := range strings.Lines(out.String()) {
		if base, ok := strings.CutPrefix(line, "Mock Pagecall API listening on "); ok {
			return cliEnv("PAGECALL_BASE_URL="+strings.TrimSpace(base), "PAGECALL_API_KEY="+pagecalltest.APIKey)
		}
	}
	t.Fatalf("no base URL in the mock's output:\n%s", out)
	return nil
}

// jsonObject runs the binary, wants exit 0 and one JSON object on stdout.
func jsonObject(t *testing.T, env []string, stdin string, args ...string) map[string]any {
	t.Helper()
	r := runCLI(t, env, stdin, args...)
	if r.code != exitOK {
		t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &obj); err != nil {
		t.Fatalf("%v: stdout is not one JSON object: %v", args, err)
	}
	return obj
}

// jsonLines runs the binary, wants exit 0 and JSON Lines on stdout.
func jsonLines(t *testing.T, env []string, args ...string) []map[string]any {
	t.Helper()
	r := runCLI(t, env, "", args...)
	if r.code != exitOK {
		t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
	}
	var out []map[string]any
	for _, l := range lines(r.stdout) {
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatalf("%v: line %q is not a JSON object: %v", args, l, err)
		}
		out = append(out, obj)
	}
	return out
}

// TestWorkflowFromTheShell runs section 4 of the CLI's issue with the
// built binary against "pagecall mock": create a user and a private room
// without recording, make the user its host, print the user's meeting
// URL, list the members, terminate the room, then delete every user whose
// name starts with "test" through the pipeline
//
//	pagecall users list --all --format jsonl | jq -r 'select(.name|startswith("test")) | .user_id' | pagecall users delete --file -
//
// with the jq step done in Go (CI has no jq).
func TestWorkflowFromTheShell(t *testing.T) {
	t.Parallel()
	env := startMockCommand(t)

	user := jsonObject(t, env, "", "users", "create", "--user-id", "u1", "--name", "Ada")
	if user["user_id"] != "u1" || user["name"] != "Ada" {
		t.Errorf("created user %v", user)
	}
	room := jsonObject(t, env, "", "rooms", "create", "--name", "standup", "--type", "private", "--record=false")
	roomID, _ := room["id"].(string)
	if roomID == "" || room["name"] != "standup" || room["type"] != "private" || room["record"] != false {
		t.Fatalf("created room %v, want standup, private, record false", room)
	}
	member := jsonObject(t, env, "", "members", "create", roomID, "--user-id", "u1", "--type", "host")
	if member["user_id"] != "u1" || member["type"] != "host" || member["room_id"] != roomID {
		t.Errorf("created member %v", member)
	}

	r := runCLI(t, env, "", "rooms", "url", roomID, "--user", "u1")
	if want := pagecall.MeetURL(roomID, user["access_token"].(string)) + "\n"; r.code != exitOK || r.stdout != want {
		t.Errorf("rooms url: exit %d, %q; want %q", r.code, r.stdout, want)
	}
	if u, err := url.Parse(strings.TrimSpace(r.stdout)); err != nil || u.Query().Get("room_id") != roomID {
		t.Errorf("rooms url printed %q", r.stdout)
	}

	members := jsonLines(t, env, "members", "list", roomID, "--all")
	if len(members) != 1 || members[0]["user_id"] != "u1" || members[0]["type"] != "host" {
		t.Errorf("members %v, want u1 as host", members)
	}

	terminated := jsonObject(t, env, "", "rooms", "terminate", roomID)
	if terminated["id"] != roomID || terminated["is_terminated"] != true {
		t.Errorf("terminated room %v", terminated)
	}
	if got := jsonObject(t, env, "", "rooms", "get", roomID); got["is_terminated"] != true {
		t.Errorf("rooms get after terminate: %v", got)
	}
	open := jsonLines(t, env, "rooms", "list", "--is-terminated=false", "--all")
	for _, o := range open {
		if o["id"] == roomID {
			t.Errorf("the terminated room is listed as open")
		}
	}

	// The bulk clean-up: three test users, and two that stay (one whose
	// user_id, not name, starts with test).
	for id, name := range map[string]string{"t1": "test user 1", "t2": "tester", "t3": "test", "test-keep": "Keeper"} {
		jsonObject(t, env, "", "users", "create", "--user-id", id, "--name", name)
	}
	var ids []string
	for _, u := range jsonLines(t, env, "users", "list", "--all", "--format", "jsonl") {
		if name, _ := u["name"].(string); strings.HasPrefix(name, "test") { // jq: select(.name|startswith("test")) | .user_id
			ids = append(ids, u["user_id"].(string))
		}
	}
	slices.Sort(ids)
	if want := []string{"t1", "t2", "t3"}; !slices.Equal(ids, want) {
		t.Fatalf("the filter found %q, want %q", ids, want)
	}
	r = runCLI(t, env, strings.Join(ids, "\n")+"\n", "users", "delete", "--file", "-")
	if r.code != exitOK {
		t.Fatalf("users delete --file -: exit %d: %s", r.code, r.stderr)
	}
	recs := records(t, r.stdout)
	for _, id := range ids {
		if recs[id].Outcome != outcomeDeleted {
			t.Errorf("%s: %+v, want deleted", id, recs[id])
		}
	}
	var left []string
	for _, u := range jsonLines(t, env, "users", "list", "--all") {
		left = append(left, u["user_id"].(string))
	}
	slices.Sort(left)
	if want := []string{"external_user_102932", "test-keep", "u1"}; !slices.Equal(left, want) {
		t.Errorf("users left %q, want %q", left, want)
	}
}
