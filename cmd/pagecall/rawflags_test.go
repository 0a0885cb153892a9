//go:build !anyspec

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

// rawServer records what the CLI sends and answers with answer.
type rawServer struct {
	mu   sync.Mutex
	reqs []*http.Request
	body []string
	*httptest.Server
}

func newRawServer(t *testing.T, answer string) *rawServer {
	t.Helper()
	rs := &rawServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rs.mu.Lock()
		rs.reqs, rs.body = append(rs.reqs, r), append(rs.body, string(b))
		rs.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}))
	t.Cleanup(rs.Close)
	return rs
}

// runAgainst runs the command tree against base.
func runAgainst(t *testing.T, base string, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	vars := map[string]string{"PAGECALL_BASE_URL": base + "/v1", "PAGECALL_API_KEY": "raw-flags-key-0123"}
	e := &env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return vars[k] }, Signals: make(chan os.Signal)}
	code := run(t.Context(), e, args)
	return code, errOut.String()
}

// TestRawFlags: --set sets a body field the spec does not declare (JSON,
// dotted for nesting, null included) and --query sends a query parameter,
// escaped; a --set on an operation without a body, or a value that is not
// JSON, is a usage error and sends nothing.
func TestRawFlags(t *testing.T) {
	rs := newRawServer(t, `{"room":{"id":"r","name":"n","type":"open"}}`)
	code, stderr := runAgainst(t, rs.URL, "rooms", "create", "--name", "n", "--type", "open",
		"--set", `webhook.url="https://hook.example"`, "--set", "future=null", "--query", "x=a/b c")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if len(rs.reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(rs.reqs))
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(rs.body[0]), &got); err != nil {
		t.Fatal(err)
	}
	hook, _ := got["webhook"].(map[string]any)
	if v, ok := got["future"]; got["name"] != "n" || hook["url"] != "https://hook.example" || !ok || v != nil {
		t.Errorf("body %s, want name, webhook.url and future: null", rs.body[0])
	}
	if q := rs.reqs[0].URL.RawQuery; q != "x=a%2Fb+c" || rs.reqs[0].URL.Path != "/v1/rooms" {
		t.Errorf("sent %s?%s, want /v1/rooms?x=a%%2Fb+c", rs.reqs[0].URL.Path, q)
	}

	for _, args := range [][]string{
		{"rooms", "get", "r", "--set", "a=1"},
		{"rooms", "create", "--name", "n", "--type", "open", "--set", "a=not json"},
		{"rooms", "create", "--name", "n", "--type", "open", "--set", "a"},
		{"rooms", "get", "r", "--query", "novalue"},
	} {
		if code, stderr := runAgainst(t, rs.URL, args...); code != exitUsage || stderr == "" {
			t.Errorf("%v: exit %d (%q), want a usage error", args, code, stderr)
		}
	}
	if len(rs.reqs) != 1 {
		t.Errorf("%d requests, want none after the first", len(rs.reqs))
	}
}

// TestRawFlagsSetSplitsAtTheFirstEquals: --set FIELD=JSON splits at the
// first "=", so a JSON value may hold "=" ("a=b=c" sets a to "b=c").
func TestRawFlagsSetSplitsAtTheFirstEquals(t *testing.T) {
	rs := newRawServer(t, `{"room":{"id":"r","name":"n","type":"open"}}`)
	code, stderr := runAgainst(t, rs.URL, "rooms", "create", "--name", "n", "--type", "open", "--set", `note="x=y=z"`)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got map[string]any
	if len(rs.body) != 1 || json.Unmarshal([]byte(rs.body[0]), &got) != nil || got["note"] != "x=y=z" {
		t.Errorf("sent %q, want note set to \"x=y=z\"", rs.body)
	}
}
