//go:build !anyspec

package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/pagecalltest"
)

// These tests pin the commands of the checked-in spec by name: the pinned
// command names, and requests built from its fields.

// seededRoom is the room the mock starts with (the spec's example).
const seededRoom = "000585f36eed9e8fb6b655b4"

func TestPinnedCommands(t *testing.T) {
	t.Parallel()
	cmds := operationCommands(t)
	byWords := map[string]string{}
	for op, words := range cmds {
		byWords[strings.Join(words, " ")] = op
	}
	for words, op := range map[string]string{
		"users list": "GET /users", "users get": "GET /users/{user_id}", "users create": "POST /users",
		"users update": "PUT /users/{user_id}", "users delete": "DELETE /users/{user_id}",
		"rooms list": "GET /rooms", "rooms get": "GET /rooms/{id}", "rooms create": "POST /rooms",
		"rooms update": "PUT /rooms/{id}", "rooms delete": "DELETE /rooms/{id}",
		"rooms sessions":     "GET /rooms/{room_id}/sessions",
		"rooms send-message": "POST /rooms/{room_id}/message",
		"rooms create-pages": "POST /rooms/{room_id}/pages/create_many",
		"members list":       "GET /rooms/{room_id}/members", "members get": "GET /rooms/{room_id}/members/{member_id}",
		"members create": "POST /rooms/{room_id}/members", "members update": "PUT /rooms/{room_id}/members/{member_id}",
	} {
		if byWords[words] != op {
			t.Errorf("pagecall %s calls %q, want %s", words, byWords[words], op)
		}
	}
	root, err := newRootCmd(&env{}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, words := range [][]string{{"rooms", "terminate"}, {"rooms", "url"}} {
		if c, _, err := root.Find(words); err != nil || c.Name() != words[1] {
			t.Errorf("no command pagecall %s", strings.Join(words, " "))
		}
	}
}

// TestFormerVerbIsHiddenAlias: rooms create-page, the verb before the
// overlay renamed CreateRoomsPage, still sends what rooms create-pages
// sends, says on stderr what the command is called now (stdout stays the
// answer alone), and is in no help.
func TestFormerVerbIsHiddenAlias(t *testing.T) {
	t.Parallel()
	data := `[{"entities":[{"type":"Image","src":"https://example.com/a.png"}]}]`
	var bodies []string
	var stdouts []string
	for _, verb := range []string{"create-pages", "create-page"} {
		srv := pagecalltest.NewTestServer(t)
		r := runTree(t, srv, treeIn{}, "rooms", verb, seededRoom, "--data", data, "--format", "json")
		if r.code != exitOK {
			t.Fatalf("rooms %s: exit %d: %s", verb, r.code, r.stderr)
		}
		reqs := srv.Requests()
		if len(reqs) != 1 || reqs[0].Method != "POST" || !strings.HasSuffix(reqs[0].Path, "/pages/create_many") {
			t.Fatalf("rooms %s sent %+v, want one POST .../pages/create_many", verb, reqs)
		}
		bodies = append(bodies, string(reqs[0].Body))
		// The mock gives each created page a new ID (its first bytes are
		// the time): compare the answers without them.
		stdouts = append(stdouts, regexp.MustCompile(`"id": "[0-9a-f]+"`).ReplaceAllString(r.stdout, `"id": "…"`))
		notice := `"rooms create-page" is now "rooms create-pages"`
		if got := strings.Contains(r.stderr, notice); got != (verb == "create-page") {
			t.Errorf("rooms %s: stderr %q, want the notice %q only for the old verb", verb, r.stderr, notice)
		}
		if strings.Contains(r.stdout, "create-page\"") || strings.Contains(r.stdout, "is now") {
			t.Errorf("rooms %s: the notice reached stdout: %q", verb, r.stdout)
		}
	}
	if bodies[0] != bodies[1] {
		t.Errorf("bodies differ: %s and %s", bodies[0], bodies[1])
	}
	if len(stdouts[0]) == 0 || stdouts[0] != stdouts[1] {
		t.Errorf("stdouts differ or are empty: %q and %q", stdouts[0], stdouts[1])
	}
	srv := pagecalltest.NewTestServer(t)
	help := runTree(t, srv, treeIn{}, "rooms", "--help")
	if !strings.Contains(help.stdout, "create-pages") || regexp.MustCompile(`create-page\b`).MatchString(help.stdout) {
		t.Errorf("rooms --help lists create-pages and not create-page? %s", help.stdout)
	}
}

// TestInvalidRequestsSendNothing: what the spec or the SDK refuses exits 2
// with a message naming the problem, before anything is sent.
func TestInvalidRequestsSendNothing(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.json")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing required field", []string{"rooms", "create", "--type", "private"}, "name (--name) is required"},
		{"missing required fields", []string{"rooms", "create"}, "name (--name) is required; type (--type) is required"},
		{"missing required field in --data", []string{"users", "create", "--data", `{"name":"Ada"}`}, "user_id (--user-id) is required"},
		{"bad enum value", []string{"rooms", "create", "--name", "x", "--type", "nope"}, `type (--type): "nope" is not one of: open, public, private`},
		{"bad enum value inside JSON", []string{"rooms", "create", "--name", "x", "--type", "open", "--members", `[{"user_id":"u","type":"boss"}]`},
			`members (--members) at /0/type: "boss" is not one of: guest, host, monitor`},
		{"bad enum in a member", []string{"members", "create", seededRoom, "--user-id", "u1", "--type", "boss"}, `"boss" is not one of: guest, host, monitor`},
		{"wrong type in --data", []string{"rooms", "create", "--data", `{"name":"x","type":"open","record":"yes"}`}, "record (--record): value must be a boolean"},
		{"invalid JSON in --data", []string{"rooms", "create", "--data", `{"name":`}, "--data is not valid JSON"},
		{"two JSON values in --data", []string{"rooms", "create", "--data", `{} {}`}, "--data is not valid JSON: more than one value"},
		{"invalid JSON in a flag", []string{"rooms", "create", "--name", "x", "--type", "open", "--webhook", "{"}, `invalid argument "{" for "--webhook"`},
		{"unreadable --data file", []string{"rooms", "create", "--data", "@" + missing}, "no such file"},
		{"flags on a non-object --data", []string{"rooms", "create", "--data", "[1]", "--name", "x"}, "--data is not a JSON object"},
		{"a field the SDK cannot send", []string{"rooms", "create", "--data", `{"name":"x","type":"open","bogus":1}`}, `unknown field "bogus"`},
		{"body required for an array body", []string{"rooms", "create-pages", seededRoom}, "--data is required"},
		{"unknown flag", []string{"rooms", "create", "--name", "x", "--type", "open", "--nope"}, "unknown flag: --nope"},
		{"bad integer", []string{"rooms", "create", "--name", "x", "--type", "open", "--max-meeting-seconds", "ten"}, `invalid argument "ten" for "--max-meeting-seconds"`},
		{"empty path parameter", []string{"rooms", "get", ""}, "ROOM_ID"},
		{"dot path parameter", []string{"rooms", "delete", "."}, `ROOM_ID: invalid id: "." is a dot segment`},
		{"dot-dot path parameter", []string{"members", "get", seededRoom, ".."}, `MEMBER_ID: invalid member_id: ".." is a dot segment`},
		{"dot-dot user", []string{"users", "update", "..", "--name", "x"}, `USER_ID: invalid user_id: ".." is a dot segment`},
		{"missing argument", []string{"rooms", "get"}, "rooms get takes 1 argument(s), ROOM_ID; got 0"},
		{"extra argument", []string{"users", "list", "x"}, "users list takes 0 argument(s), none; got 1"},
		{"bad format", []string{"rooms", "list", "--format", "yaml"}, `--format "yaml": want one of json, jsonl, table`},
		{"url without --user", []string{"rooms", "url", seededRoom}, `"user" not set`},
		{"url with an invalid user", []string{"rooms", "url", seededRoom, "--user", ".."}, "invalid user ID"},
		{"terminate a dot room", []string{"rooms", "terminate", ".."}, "dot segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pagecalltest.NewTestServer(t)
			r := runTree(t, srv, treeIn{}, tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q does not name the problem: want %q", r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("the mock got %d requests, want none", n)
			}
		})
	}
}

// TestRequestFromFlags: the body and query sent are --data with the flags
// given on top; a flag not given is not sent, an explicit false is.
func TestRequestFromFlags(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "room.json")
	if err := os.WriteFile(file, []byte(`{"name":"from file","type":"open","record":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		stdin     string
		wantBody  string // JSON; "" for no body
		wantQuery string
	}{
		{"explicit false is sent", []string{"rooms", "create", "--name", "standup", "--type", "private", "--record=false"},
			"", `{"name":"standup","type":"private","record":false}`, ""},
		{"unset is not sent", []string{"rooms", "create", "--name", "standup", "--type", "private"},
			"", `{"name":"standup","type":"private"}`, ""},
		{"a bare boolean flag is true", []string{"rooms", "create", "--name", "s", "--type", "open", "--record"},
			"", `{"name":"s","type":"open","record":true}`, ""},
		{"integer and JSON flags", []string{"rooms", "create", "--name", "s", "--type", "open", "--max-meeting-seconds", "600",
			// The member is the mock's seeded user: CreateRoom refuses a
			// member whose user does not exist, as CreateMember does.
			"--members", `[{"user_id":"external_user_102932","type":"host"}]`, "--webhook", `{"url":"https://example.com/hook","headers":{"X-A":"1"}}`},
			"", `{"name":"s","type":"open","max_meeting_seconds":600,"members":[{"user_id":"external_user_102932","type":"host"}],"webhook":{"url":"https://example.com/hook","headers":{"X-A":"1"}}}`, ""},
		{"flags override --data", []string{"rooms", "create", "--data", `{"name":"a","type":"open","record":true}`, "--name", "b", "--record=false"},
			"", `{"name":"b","type":"open","record":false}`, ""},
		{"--data from a file", []string{"rooms", "create", "--data", "@" + file, "--type", "public"},
			"", `{"name":"from file","type":"public","record":true}`, ""},
		{"--data from stdin", []string{"rooms", "create", "--data", "-"},
			`{"name":"from stdin","type":"private"}`, `{"name":"from stdin","type":"private"}`, ""},
		{"update sends only what is given", []string{"rooms", "update", seededRoom, "--is-terminated=false"},
			"", `{"is_terminated":false}`, ""},
		{"unblock a member", []string{"members", "update", seededRoom, "external_user_102932", "--is-blocked=false"},
			"", `{"is_blocked":false}`, ""},
		{"an array body", []string{"rooms", "create-pages", seededRoom, "--data", `[{"entities":[{"type":"Image","src":"https://example.com/a.png"}]}]`},
			"", `[{"entities":[{"type":"Image","src":"https://example.com/a.png"}]}]`, ""},
		{"query flags", []string{"rooms", "list", "--is-terminated=false", "--limit", "5"}, "", "", "is_terminated=false&limit=5"},
		{"no query flags", []string{"rooms", "list"}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pagecalltest.NewTestServer(t)
			r := runTree(t, srv, treeIn{stdin: tt.stdin}, tt.args...)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if tt.wantBody == "" && len(reqs[0].Body) != 0 {
				t.Errorf("body %s, want none", reqs[0].Body)
			}
			if tt.wantBody != "" {
				var got, want any
				if err := json.Unmarshal(reqs[0].Body, &got); err != nil {
					t.Fatalf("body %s: %v", reqs[0].Body, err)
				}
				_ = json.Unmarshal([]byte(tt.wantBody), &want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("body %s, want %s", reqs[0].Body, tt.wantBody)
				}
			}
			if got, want := query(t, reqs[0].RawQuery), query(t, tt.wantQuery); !reflect.DeepEqual(got, want) {
				t.Errorf("query %q, want %q", reqs[0].RawQuery, tt.wantQuery)
			}
		})
	}
}

// query parses a query string.
func query(t *testing.T, raw string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// newClient returns an SDK client for srv, to set up the mock's store.
func newClient(t *testing.T, srv *pagecalltest.Server) *pagecall.Client {
	t.Helper()
	c, err := pagecall.NewClient(pagecall.WithAPIKey(srv.APIKey()), pagecall.WithBaseURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// addRooms creates n rooms named room-0 ... in srv.
func addRooms(t *testing.T, srv *pagecalltest.Server, n int) {
	t.Helper()
	c := newClient(t, srv)
	for i := range n {
		if _, err := c.CreateRoom(t.Context(), pagecall.CreateRoomRequest{Name: "room-" + string(rune('a'+i%26)), Type: pagecall.RoomTypeOpen}); err != nil {
			t.Fatal(err)
		}
	}
	srv.ResetRequests()
}

func TestListOutput(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	addRooms(t, srv, 2) // and the seeded one: 3
	tests := []struct {
		name     string
		args     []string
		terminal bool
		check    func(t *testing.T, r cliResult)
	}{
		{"JSON Lines and the paging on stderr", []string{"rooms", "list"}, false, func(t *testing.T, r cliResult) {
			ls := lines(r.stdout)
			if len(ls) != 3 {
				t.Fatalf("%d lines, want 3", len(ls))
			}
			for _, l := range ls {
				var room map[string]any
				if err := json.Unmarshal([]byte(l), &room); err != nil || room["id"] == nil {
					t.Errorf("line %q is not a room: %v", l, err)
				}
			}
			if !strings.Contains(r.stderr, `paging: {"limit":30,"offset":0,"total":3}`) {
				t.Errorf("stderr lacks the paging")
			}
		}},
		{"one page, and how to get more", []string{"rooms", "list", "--limit", "1", "--offset", "1"}, false, func(t *testing.T, r cliResult) {
			if len(lines(r.stdout)) != 1 {
				t.Errorf("want 1 line")
			}
			if !strings.Contains(r.stderr, "(more: --offset 2, or --all for every page)") {
				t.Errorf("stderr lacks the hint")
			}
		}},
		{"a JSON array", []string{"rooms", "list", "--format", "json"}, false, func(t *testing.T, r cliResult) {
			var rooms []map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &rooms); err != nil || len(rooms) != 3 {
				t.Errorf("stdout is not an array of 3 rooms: %v", err)
			}
		}},
		{"an empty JSON array", []string{"rooms", "list", "--name", "nothing", "--format", "json"}, false, func(t *testing.T, r cliResult) {
			if r.stdout != "[]\n" {
				t.Errorf("stdout %q, want []", r.stdout)
			}
		}},
		{"a table on a terminal", []string{"rooms", "list"}, true, func(t *testing.T, r cliResult) {
			ls := lines(r.stdout)
			if len(ls) != 4 || !strings.HasPrefix(ls[0], "ID  ") || !strings.Contains(ls[0], "  TYPE  ") || !strings.Contains(ls[0], "  NAME  ") {
				t.Fatalf("want a header and 3 rows")
			}
			if !strings.HasPrefix(ls[1], seededRoom+"  public  ") {
				t.Errorf("first row %q, want the seeded room", ls[1])
			}
		}},
		{"jsonl on a terminal when asked", []string{"rooms", "list", "--format", "jsonl"}, true, func(t *testing.T, r cliResult) {
			if len(lines(r.stdout)) != 3 || !json.Valid([]byte(lines(r.stdout)[0])) {
				t.Errorf("want 3 JSON lines")
			}
		}},
		{"one resource as one JSON object", []string{"rooms", "get", seededRoom}, false, func(t *testing.T, r cliResult) {
			var room map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &room); err != nil || room["id"] != seededRoom {
				t.Errorf("stdout is not the room: %v", err)
			}
			if _, ok := room["created_at"]; ok && room["created_at"] == "0001-01-01T00:00:00Z" {
				t.Errorf("a zero time was printed")
			}
		}},
		{"one resource on one line", []string{"rooms", "get", seededRoom, "--format", "jsonl"}, false, func(t *testing.T, r cliResult) {
			if len(lines(r.stdout)) != 1 || !json.Valid([]byte(r.stdout)) {
				t.Errorf("want one JSON line")
			}
		}},
		{"one resource as a table", []string{"rooms", "get", seededRoom}, true, func(t *testing.T, r cliResult) {
			ls := lines(r.stdout)
			if len(ls) < 3 || !strings.HasPrefix(ls[0], "ID ") || !strings.HasSuffix(ls[0], seededRoom) {
				t.Errorf("want a field a line, ID first")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runTree(t, srv, treeIn{terminal: tt.terminal}, tt.args...)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			tt.check(t, r)
		})
	}
}

// TestZeroTimesAreNotPrinted: a date-time field the answer lacks is not
// printed as Go's zero time (api/overlay.yaml makes optional date-times
// omitzero).
func TestZeroTimesAreNotPrinted(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	srv.Inject(pagecalltest.Fault{Route: "GET /users/{user_id}", Status: 200,
		Body: []byte(`{"user":{"user_id":"u1","name":"Ada"}}`)})
	r := runTree(t, srv, treeIn{}, "users", "get", "u1", "--format", "jsonl")
	if r.code != exitOK {
		t.Fatalf("exit %d", r.code)
	}
	if strings.TrimSpace(r.stdout) != `{"name":"Ada","user_id":"u1"}` {
		t.Errorf("stdout %q, want only the fields sent", r.stdout)
	}
}

// lineWatcher is a stdout that calls onLine with the number of each line
// as it is written, before returning.
type lineWatcher struct {
	mu     sync.Mutex
	n      int
	onLine func(n int)
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for range strings.Count(string(p), "\n") {
		w.n++
		w.onLine(w.n)
	}
	return len(p), nil
}

// TestAllStreamsPages: --all prints each page's items before it fetches
// the next page, through the SDK's iterator, and stops at the last.
func TestAllStreamsPages(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	addRooms(t, srv, 249) // and the seeded one: 250
	var requestsAtLine100 int
	w := &lineWatcher{onLine: func(n int) {
		if n == 100 {
			requestsAtLine100 = len(srv.Requests())
		}
	}}
	r := runTree(t, srv, treeIn{stdout: w}, "rooms", "list", "--all", "--limit", "100")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if w.n != 250 {
		t.Errorf("%d lines, want 250", w.n)
	}
	if requestsAtLine100 > 1 {
		t.Errorf("%d requests made when the 100th item was printed, want the first page's only", requestsAtLine100)
	}
	var pages []url.Values
	for _, req := range srv.Requests() {
		pages = append(pages, query(t, req.RawQuery))
	}
	want := []url.Values{
		{"limit": {"100"}, "offset": {"0"}},
		{"limit": {"100"}, "offset": {"100"}},
		{"limit": {"100"}, "offset": {"200"}},
	}
	if !reflect.DeepEqual(pages, want) {
		t.Errorf("requests %v, want %v", pages, want)
	}
	if strings.Contains(r.stderr, "paging") {
		t.Errorf("--all printed a page's paging")
	}
}

// TestAllInterrupted: Ctrl-C during --all fetches no further page and
// exits 130 after the item being printed.
func TestAllInterrupted(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	addRooms(t, srv, 5)
	sigs := make(chan os.Signal, 1)
	stderr := &syncBuffer{}
	w := &lineWatcher{onLine: func(n int) {
		if n != 1 {
			return
		}
		sigs <- syscall.SIGINT
		// The watcher has seen it once it says so.
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(stderr.String(), "interrupt") && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}}
	r := runTree(t, srv, treeIn{stdout: w, stderr: stderr, signals: sigs}, "rooms", "list", "--all", "--limit", "2")
	if r.code != exitInterrupted {
		t.Errorf("exit %d, want 130", r.code)
	}
	if w.n != 1 {
		t.Errorf("%d items printed, want 1", w.n)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (no page after the interrupt)", n)
	}
}

// TestAPIErrorIsOneLine: a 4xx or 5xx exits 1 with the APIError on one line.
func TestAPIErrorIsOneLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault *pagecalltest.Fault
		args  []string
		want  string
	}{
		{"not found", nil, []string{"rooms", "get", "nosuch"}, "pagecall: GET /v1/rooms/nosuch: 400 Bad Request: room not found"},
		{"server error", &pagecalltest.Fault{Status: 503}, []string{"users", "list", "--max-retries", "0"}, "pagecall: GET /v1/users: 503 Service Unavailable"},
		{"unauthorized", &pagecalltest.Fault{Status: 401}, []string{"members", "list", seededRoom}, "401 Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pagecalltest.NewTestServer(t)
			if tt.fault != nil {
				srv.Inject(*tt.fault)
			}
			r := runTree(t, srv, treeIn{}, tt.args...)
			if r.code != exitFailure {
				t.Errorf("exit %d, want 1", r.code)
			}
			if len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q, want one line with %q", r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

func TestRoomsTerminate(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	r := runTree(t, srv, treeIn{}, "rooms", "terminate", seededRoom)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Route != "PUT /rooms/{id}" || string(reqs[0].Body) != `{"is_terminated":true}` {
		t.Fatalf("requests %+v, want one UpdateRoom with is_terminated true", reqs)
	}
	var room map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &room); err != nil || room["is_terminated"] != true {
		t.Errorf("stdout is not the terminated room: %v", err)
	}
	if stored, _ := srv.Room(seededRoom); stored["is_terminated"] != true {
		t.Errorf("the room is not terminated: %v", stored)
	}
}

func TestRoomsURL(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	srv.AddUser("u1", map[string]any{"access_token": "tok-of-u1/+="})
	r := runTree(t, srv, treeIn{}, "rooms", "url", seededRoom, "--user", "u1")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if want := pagecall.MeetURL(seededRoom, "tok-of-u1/+=") + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/v1/users/u1" {
		t.Errorf("requests %+v, want one GetUser", reqs)
	}
	if r := runTree(t, srv, treeIn{}, "rooms", "url", seededRoom, "--user", "nobody"); r.code != exitFailure {
		t.Errorf("unknown user: exit %d, want 1", r.code)
	}
}

// TestCompletion: enum values and formats are offered by shell completion.
func TestCompletion(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "rooms", "create", "--type", ""}, []string{"open", "public", "private"}},
		{[]string{"__complete", "members", "update", seededRoom, "u1", "--type", ""}, []string{"guest", "host", "monitor"}},
		{[]string{"__complete", "users", "list", "--format", ""}, []string{"json", "jsonl", "table"}},
		{[]string{"__complete", "rooms", ""}, []string{"create", "get", "list", "sessions", "terminate", "url"}},
	} {
		r := runTree(t, srv, treeIn{}, tt.args...)
		for _, w := range tt.want {
			if !strings.Contains("\n"+r.stdout, "\n"+w) {
				t.Errorf("%v: completion %q lacks %q", tt.args, r.stdout, w)
			}
		}
	}
}

// TestMembersListAll: a list without paging parameters: --all makes the
// one request its iterator needs.
func TestMembersListAll(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	c := newClient(t, srv)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, u := range []string{"u1", "u2"} {
		srv.AddUser(u, nil)
		if _, err := c.CreateMember(ctx, seededRoom, pagecall.CreateMemberRequest{UserID: u, Type: pagecall.MemberTypeGuest}); err != nil {
			t.Fatal(err)
		}
	}
	want := len(srv.Members(seededRoom))
	srv.ResetRequests()
	r := runTree(t, srv, treeIn{}, "members", "list", seededRoom, "--all")
	if r.code != exitOK || len(lines(r.stdout)) != want {
		t.Errorf("exit %d, %d lines; want 0 and %d", r.code, len(lines(r.stdout)), want)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
