// These tests use the checked-in spec's own operations.

//go:build !anyspec

package pagecall

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
)

// editServer answers every request 200 with answer, records the body and
// query of the last request, and fails the first `fail` attempts with a 503.
type editServer struct {
	hits       atomic.Int64
	fail       int64
	body, last atomic.Value // string
	query      atomic.Value // string
}

func newEditServer(t *testing.T, answer string, fail int64) (*editServer, *Client) {
	t.Helper()
	es := &editServer{fail: fail}
	ts := newTestServer(t)
	ts.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		es.body.Store(string(b))
		es.query.Store(r.URL.RawQuery)
		es.last.Store(r.URL.EscapedPath())
		if es.hits.Add(1) <= es.fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, answer)
	})
	c, err := NewClient(WithAPIKey(testKey), WithBaseURL(ts.base()), WithRetryPolicy(fastRetries()))
	if err != nil {
		t.Fatal(err)
	}
	return es, c
}

// TestWithJSONSetAndDel: the edits reach the body of every attempt, a
// retry included, for a generated method and for Do; nested paths add the
// objects on the way, nil sends null, and the other members are kept.
func TestWithJSONSetAndDel(t *testing.T) {
	es, c := newEditServer(t, `{"room":{"id":"r","name":"n","type":"open"}}`, 1)
	body := CreateRoomRequest{Name: "standup", Type: RoomTypeOpen, Record: Ptr(true)}
	_, err := c.CreateRoom(context.Background(), body,
		WithIdempotent(), // so that the 503 is retried
		WithJSONSet("webhook.url", "https://hook.example/x"),
		WithJSONSet("future_flag", true),
		WithJSONSet("record", nil),
		WithJSONDel("type"))
	if err != nil {
		t.Fatal(err)
	}
	if n := es.hits.Load(); n != 2 {
		t.Fatalf("%d requests, want the 503 retried once", n)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(es.body.Load().(string)), &got); err != nil {
		t.Fatal(err)
	}
	hook, _ := got["webhook"].(map[string]any)
	if got["name"] != "standup" || hook["url"] != "https://hook.example/x" || got["future_flag"] != true {
		t.Errorf("retried body %v, want name kept, webhook.url and future_flag set", got)
	}
	if v, ok := got["record"]; !ok || v != nil {
		t.Errorf("record = %v (present %v), want JSON null", v, ok)
	}
	if _, ok := got["type"]; ok {
		t.Errorf("type still sent: %v", got)
	}

	if err := c.Do(context.Background(), http.MethodPost, "/things", map[string]int{"a": 1}, nil, WithJSONSet("b.c", 2)); err != nil {
		t.Fatal(err)
	}
	if b := es.body.Load().(string); b != `{"a":1,"b":{"c":2}}` {
		t.Errorf("Do body %s, want the member added beside a", b)
	}
}

// TestEditRefusedSendsNothing: an edit that cannot be applied fails the
// call with ErrInvalidEdit, and nothing is sent.
func TestEditRefusedSendsNothing(t *testing.T) {
	es, c := newEditServer(t, `{}`, 0)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"a body edit on an operation without a body", func() error {
			_, err := c.GetRoom(ctx, "r", WithJSONSet("a", 1))
			return err
		}},
		{"a delete on an operation without a body", func() error {
			_, err := c.DeleteUser(ctx, "u", WithJSONDel("a"))
			return err
		}},
		{"indexing into a string", func() error {
			_, err := c.CreateRoom(ctx, CreateRoomRequest{Name: "n", Type: RoomTypeOpen}, WithJSONSet("name.first", "x"))
			return err
		}},
		{"deleting inside a string", func() error {
			_, err := c.CreateRoom(ctx, CreateRoomRequest{Name: "n", Type: RoomTypeOpen}, WithJSONDel("name.first"))
			return err
		}},
		{"a name for an array index", func() error {
			_, err := c.CreateRoomPages(ctx, "r", CreateRoomPagesRequest{{}}, WithJSONSet("x.y", 1))
			return err
		}},
		{"a value that cannot be encoded", func() error {
			_, err := c.CreateRoom(ctx, CreateRoomRequest{Name: "n", Type: RoomTypeOpen}, WithJSONSet("a", make(chan int)))
			return err
		}},
		{"an empty path", func() error {
			_, err := c.CreateRoom(ctx, CreateRoomRequest{Name: "n", Type: RoomTypeOpen}, WithJSONSet("", 1))
			return err
		}},
		{"a wildcard", func() error {
			_, err := c.CreateRoom(ctx, CreateRoomRequest{Name: "n", Type: RoomTypeOpen}, WithJSONSet("members.*", 1))
			return err
		}},
		{"an empty query name", func() error {
			_, err := c.GetRoom(ctx, "r", WithQuery("", "x"))
			return err
		}},
		{"Do without a body", func() error {
			return c.Do(ctx, http.MethodGet, "/things", nil, nil, WithJSONSet("a", 1))
		}},
	}
	for _, tt := range tests {
		err := tt.call()
		if !errors.Is(err, ErrInvalidEdit) {
			t.Errorf("%s: err = %v, want ErrInvalidEdit", tt.name, err)
		}
		if n := es.hits.Load(); n != 0 {
			t.Fatalf("%s: %d requests sent, want none", tt.name, n)
		}
	}
}

// TestWithQuery: the parameter reaches every attempt, escaped, beside the
// generated ones (replacing one of the same name), and cannot change the
// path.
func TestWithQuery(t *testing.T) {
	es, c := newEditServer(t, `{"rooms":[],"paging":{"limit":5,"offset":0,"total":0}}`, 1)
	_, _, err := c.ListRooms(context.Background(), &ListRoomsParams{Limit: Ptr(5), Name: Ptr("a")},
		WithQuery("name", "b"), WithQuery("sort", "x/../../users?y=1#z"))
	if err != nil {
		t.Fatal(err)
	}
	if n := es.hits.Load(); n != 2 {
		t.Errorf("%d requests, want the 503 retried once", n)
	}
	if p := es.last.Load().(string); p != "/v1/rooms" {
		t.Errorf("path %s, want /v1/rooms", p)
	}
	q := es.query.Load().(string)
	if want := "limit=5&name=b&sort=x%2F..%2F..%2Fusers%3Fy%3D1%23z"; q != want {
		t.Errorf("query %s, want %s", q, want)
	}
	if err := c.Do(context.Background(), http.MethodGet, "/things?a=1", nil, nil, WithQuery("b", "2 3")); err != nil {
		t.Fatal(err)
	}
	if q := es.query.Load().(string); q != "a=1&b=2+3" {
		t.Errorf("Do query %s, want a=1&b=2+3", q)
	}
}

// TestResponseInfoBody: ResponseInfo.Body holds the 2xx answer as it came,
// undeclared fields included, for a generated method and for Do; an answer
// outside 2xx leaves it nil.
func TestResponseInfoBody(t *testing.T) {
	answer := `{"user":{"user_id":"u","nickname":"undeclared"}}`
	_, c := newEditServer(t, answer, 0)
	var info ResponseInfo
	if _, err := c.GetUser(context.Background(), "u", WithResponseInfo(&info)); err != nil {
		t.Fatal(err)
	}
	if string(info.Body) != answer {
		t.Errorf("Body = %s, want %s", info.Body, answer)
	}
	info = ResponseInfo{}
	if err := c.Do(context.Background(), http.MethodGet, "/x", nil, nil, WithResponseInfo(&info)); err != nil || string(info.Body) != answer {
		t.Errorf("Do: %v, Body = %s; want %s", err, info.Body, answer)
	}
	es, c := newEditServer(t, answer, 99)
	info = ResponseInfo{Body: []byte("stale")}
	_, err := c.GetUser(context.Background(), "u", WithCallMaxRetries(0), WithResponseInfo(&info))
	if err == nil || info.Body != nil || es.hits.Load() != 1 {
		t.Errorf("a 503: err %v, Body %q; want an error and no body", err, info.Body)
	}
}

// BenchmarkCallOptions: a call without the new options allocates what it
// did before them (the loop's edit step is a nil check); with them, what
// the edit costs.
func BenchmarkCallOptions(b *testing.B) {
	ctx := context.Background()
	body := CreateRoomRequest{Name: "standup", Type: RoomTypePrivate}
	c, err := NewClient(WithAPIKey("bench-key-0123456789"), WithBaseURL("https://api.example/v1"),
		WithHTTPClient(&http.Client{Transport: benchMemoryRT(benchRoomJSON)}))
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []struct {
		name string
		opts []CallOption
	}{
		{"none", nil},
		{"set+query", []CallOption{WithJSONSet("webhook.url", "https://hook.example"), WithQuery("x", "1")}},
	} {
		b.Run("opts="+v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.CreateRoom(ctx, body, v.opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestWithJSONDelNested: deleting a nested member removes only it; its
// parent object and the parent's other members are sent.
func TestWithJSONDelNested(t *testing.T) {
	es, c := newEditServer(t, `{}`, 0)
	body := map[string]any{"a": map[string]int{"b": 1, "c": 2}, "d": 3}
	if err := c.Do(context.Background(), http.MethodPost, "/things", body, nil, WithJSONDel("a.b")); err != nil {
		t.Fatal(err)
	}
	if b := es.body.Load().(string); b != `{"a":{"c":2},"d":3}` {
		t.Errorf("body %s, want a.b removed and a.c, d kept", b)
	}
}

// TestResponseInfoBodyNilOutside2xx: an answer outside 2xx leaves
// ResponseInfo.Body nil even when it has a body (that is APIError.Body).
func TestResponseInfoBodyNilOutside2xx(t *testing.T) {
	ts := newTestServer(t)
	ts.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"no such user"}`)
	})
	c, err := NewClient(WithAPIKey(testKey), WithBaseURL(ts.base()), WithRetryPolicy(fastRetries()))
	if err != nil {
		t.Fatal(err)
	}
	info := ResponseInfo{Body: []byte("stale")}
	_, err = c.GetUser(context.Background(), "u", WithResponseInfo(&info))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || len(apiErr.Body) == 0 || info.Body != nil || info.StatusCode != http.StatusNotFound {
		t.Errorf("a 404: err %v, info %+v; want an APIError with the body, and ResponseInfo.Body nil", err, info)
	}
}

// TestWithJSONSetEscapedDot: "\." is a dot within a member name, also at
// the end of one, so a name like "v." can be set.
func TestWithJSONSetEscapedDot(t *testing.T) {
	es, c := newEditServer(t, `{}`, 0)
	if err := c.Do(context.Background(), http.MethodPost, "/things", map[string]int{"a": 1}, nil,
		WithJSONSet(`v\.`, 2), WithJSONSet(`x\.y`, 3)); err != nil {
		t.Fatal(err)
	}
	if b := es.body.Load().(string); b != `{"a":1,"v.":2,"x.y":3}` {
		t.Errorf("body %s, want members \"v.\" and \"x.y\" added", b)
	}
}

// TestWithJSONSetThroughNull: a path through a member that the body holds
// as null sets the member below it (null is no value to keep), rather than
// refusing the edit.
func TestWithJSONSetThroughNull(t *testing.T) {
	es, c := newEditServer(t, `{}`, 0)
	if err := c.Do(context.Background(), http.MethodPost, "/things", map[string]any{"webhook": nil}, nil,
		WithJSONSet("webhook.url", "https://hook.example")); err != nil {
		t.Fatal(err)
	}
	if b := es.body.Load().(string); b != `{"webhook":{"url":"https://hook.example"}}` {
		t.Errorf("body %s, want webhook.url set in place of the null", b)
	}
}
