// These tests share helpers with the checked-in spec's tests.

//go:build !anyspec

package pagecall

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDoReachesAnUnlistedPath: Do sends through the request loop: the key,
// retries by method, the decoded answer and ResponseInfo.
func TestDoReachesAnUnlistedPath(t *testing.T) {
	c, mux, ts := setup(t)
	var n atomic.Int64
	mux.HandleFunc("GET /v1/rooms/r%201/actions", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testKey {
			t.Errorf("Authorization = %q, want the key", r.Header.Get("Authorization"))
		}
		if r.URL.Query().Get("kind") != "a b" || r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
			t.Errorf("query %q, content length %d, type %q: want the query and no body", r.URL.RawQuery, r.ContentLength, r.Header.Get("Content-Type"))
		}
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, `{"actions":[{"name":"draw"}]}`)
	})
	var out struct {
		Actions []struct {
			Name string `json:"name"`
		} `json:"actions"`
	}
	var info ResponseInfo
	if err := c.Do(context.Background(), http.MethodGet, "/rooms/r%201/actions?kind=a+b", nil, &out, WithResponseInfo(&info)); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if len(out.Actions) != 1 || out.Actions[0].Name != "draw" {
		t.Errorf("out = %+v, want the decoded answer", out)
	}
	if ts.hits.Load() != 2 || info.Attempts != 2 || info.StatusCode != 200 {
		t.Errorf("requests = %d, info = %+v; want a GET retried once after the 503", ts.hits.Load(), info)
	}
}

// TestDoRetriesByMethod: a POST is not replayed after a 502 unless the call
// says it is idempotent; a non-2xx answer is a *APIError; the body is JSON.
func TestDoRetriesByMethod(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []CallOption
		want int64
	}{{"post", nil, 1}, {"idempotent post", []CallOption{WithIdempotent()}, 3}} {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, ts := setup(t)
			mux.HandleFunc("POST /v1/sessions/actions", func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if string(b) != `{"type":"x"}` || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("body %s (%s), want the JSON", b, r.Header.Get("Content-Type"))
				}
				w.WriteHeader(http.StatusBadGateway)
			})
			err := c.Do(context.Background(), http.MethodPost, "/sessions/actions", map[string]string{"type": "x"}, nil, tt.opts...)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadGateway || apiErr.Path != "/v1/sessions/actions" {
				t.Fatalf("err = %v, want a *APIError for POST /v1/sessions/actions", err)
			}
			if n := ts.hits.Load(); n != tt.want {
				t.Errorf("requests = %d, want %d", n, tt.want)
			}
		})
	}
}

// TestDoRefusesPathsOutsideTheBaseURL: nothing is sent for a path that
// could leave the base URL.
func TestDoRefusesPathsOutsideTheBaseURL(t *testing.T) {
	c, mux, ts := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, `{}`) })
	for _, p := range []string{
		"https://elsewhere/x", "/../x", "//elsewhere/x", "x", "", "/a/%2e%2e/x", "/a/./x", "/x?next=/../admin",
		"/x\\..\\y", "/x#frag", "http://127.0.0.1/v1/x",
	} {
		err := c.Do(context.Background(), http.MethodGet, p, nil, nil)
		var reqErr *RequestError
		if !errors.Is(err, ErrOutsideBaseURL) || !errors.As(err, &reqErr) {
			t.Errorf("Do(%q): err = %v, want a *RequestError with ErrOutsideBaseURL", p, err)
		}
	}
	if n := ts.hits.Load(); n != 0 {
		t.Errorf("%d requests were sent for refused paths", n)
	}
	if err := c.Do(context.Background(), "GET /x", "/x", nil, nil); !errors.Is(err, ErrInvalidHeader) {
		t.Errorf("a method with a space: err = %v, want ErrInvalidHeader", err)
	}
	var notPointer struct{}
	if err := c.Do(context.Background(), http.MethodGet, "/x", nil, notPointer); err == nil {
		t.Error("Do decoded into a non-pointer")
	}
}

// TestDoDrift: an answer that does not fit out succeeds with what fitted,
// and a strict client refuses it.
func TestDoDrift(t *testing.T) {
	for _, strict := range []bool{false, true} {
		var opts []Option
		if strict {
			opts = append(opts, WithStrictResponses())
		}
		c, mux, _ := setup(t, opts...)
		mux.HandleFunc("/v1/things", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, `{"a":"x","b":"not a number"}`) })
		var out struct {
			A string `json:"a"`
			B int    `json:"b"`
		}
		var info ResponseInfo
		err := c.Do(context.Background(), http.MethodGet, "/things", nil, &out, WithResponseInfo(&info))
		if strict != errors.Is(err, ErrMalformedResponse) {
			t.Errorf("strict=%v: err = %v", strict, err)
		}
		if !strict && (out.A != "x" || len(info.Drift) != 1 || info.Drift[0].Pointer != "/b") {
			t.Errorf("out = %+v, drift = %v; want a kept and drift at /b", out, info.Drift)
		}
	}
}

// TestDoEdges: a context with its own deadline, an empty 2xx body with an
// out to fill, and a strict client given an answer that fits all succeed.
func TestDoEdges(t *testing.T) {
	c, mux, _ := setup(t, WithStrictResponses())
	mux.HandleFunc("/v1/empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/v1/fits", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, `{"a":"x"}`) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out struct {
		A string `json:"a"`
	}
	if err := c.Do(ctx, http.MethodGet, "/empty", nil, &out); err != nil || out.A != "" {
		t.Errorf("an empty 204 with out: %v, out %+v; want success and out untouched", err, out)
	}
	if err := c.Do(ctx, http.MethodGet, "/fits", nil, &out); err != nil || out.A != "x" {
		t.Errorf("a fitting answer to a strict client: %v, out %+v; want success", err, out)
	}
}

// TestDoDriftLoggedPerPath: Do's drift is logged once per method, path and
// pointer, and the log names the path: drift at /n on /a and on /b is two
// warnings, a second call to /a none.
func TestDoDriftLoggedPerPath(t *testing.T) {
	var logs bytes.Buffer
	c, mux, _ := setup(t, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	mux.HandleFunc("/v1/{p}", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, `{"n":"x"}`) })
	var out struct {
		N int `json:"n"`
	}
	for _, p := range []string{"/a", "/b", "/a"} {
		if err := c.Do(context.Background(), http.MethodGet, p, nil, &out); err != nil {
			t.Fatalf("Do %s: %v", p, err)
		}
	}
	got := logs.String()
	if n := strings.Count(got, "level=WARN"); n != 2 || !strings.Contains(got, "path=/v1/a") || !strings.Contains(got, "path=/v1/b") {
		t.Errorf("%d warnings, want one for /v1/a and one for /v1/b:\n%s", n, got)
	}
}

// TestDoReusedOut: decoding into an out that holds an earlier answer, Do
// resets each drifted field to its zero value, leaves an optional pointer
// that did not fit nil, and reports null where the model has no room for
// it.
func TestDoReusedOut(t *testing.T) {
	type inner struct {
		A string `json:"a"`
	}
	type model struct {
		Name string   `json:"name"`
		N    int      `json:"n"`
		Opt  *inner   `json:"opt,omitempty"`
		List []string `json:"list"`
	}
	c, mux, _ := setup(t)
	answer := `{"name":"first","n":1,"opt":{"a":"x"},"list":["a"]}`
	mux.HandleFunc("/v1/thing", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, answer) })
	var out model
	if err := c.Do(context.Background(), http.MethodGet, "/thing", nil, &out); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, answer string
		want         model
		pointers     []string
	}{
		{"an optional pointer that did not fit", `{"name":"n","n":2,"opt":"x","list":[]}`, model{Name: "n", N: 2, List: []string{}}, []string{"/opt"}},
		{"an optional pointer that fitted in part", `{"name":"n","n":2,"opt":{"a":5},"list":[]}`, model{Name: "n", N: 2, Opt: &inner{}, List: []string{}}, []string{"/opt/a"}},
		{"a number that did not fit", `{"name":"n","n":"two","list":[]}`, model{Name: "n", List: []string{}}, []string{"/n"}},
		{"null for a required string", `{"name":null,"n":3,"list":[]}`, model{N: 3, List: []string{}}, []string{"/name"}},
		{"null for a required list", `{"name":"n","n":4,"list":null}`, model{Name: "n", N: 4}, []string{"/list"}},
		{"a required member missing", `{"n":5,"list":[]}`, model{N: 5, List: []string{}}, []string{"/name"}},
	}
	for _, tt := range tests {
		out = model{Name: "old", N: 9, Opt: &inner{A: "old"}, List: []string{"old"}}
		answer = tt.answer
		var info ResponseInfo
		if err := c.Do(context.Background(), http.MethodGet, "/thing", nil, &out, WithResponseInfo(&info)); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !strings.Contains(tt.answer, `"opt"`) && out.Opt != nil && out.Opt.A == "old" {
			out.Opt = nil // an optional member the answer lacks keeps its value, as encoding/json keeps it
		}
		var ptrs []string
		for _, d := range info.Drift {
			ptrs = append(ptrs, d.Pointer)
		}
		if !reflect.DeepEqual(out, tt.want) || !reflect.DeepEqual(ptrs, tt.pointers) {
			t.Errorf("%s: out = %+v, drift at %q; want %+v, drift at %q", tt.name, out, ptrs, tt.want, tt.pointers)
		}
	}
}

// TestDoNullDrift: Do reports null where out has no room for it as drift,
// and a strict client refuses it, as the generated methods do.
func TestDoNullDrift(t *testing.T) {
	for _, strict := range []bool{false, true} {
		var opts []Option
		if strict {
			opts = append(opts, WithStrictResponses())
		}
		c, mux, _ := setup(t, opts...)
		mux.HandleFunc("/v1/things", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, `{"a":null}`) })
		var out struct {
			A string `json:"a"`
		}
		var info ResponseInfo
		err := c.Do(context.Background(), http.MethodGet, "/things", nil, &out, WithResponseInfo(&info))
		if strict != errors.Is(err, ErrMalformedResponse) || len(info.Drift) != 1 || info.Drift[0].Pointer != "/a" {
			t.Errorf("strict=%v: err %v, drift %v; want drift at /a", strict, err, info.Drift)
		}
	}
}

// TestClientDoGetsTheSameTreatment: a request through Client.Do is sent
// with the key and retried as a generated method's is, and one addressed to
// another host is not sent.
func TestClientDoGetsTheSameTreatment(t *testing.T) {
	c, mux, ts := setup(t)
	var auths []string
	var mu sync.Mutex
	failOnce := failThen(1, http.StatusServiceUnavailable, "", okUser)
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		failOnce(w, r)
	})

	var out struct{ User User }
	if err := c.Do(context.Background(), http.MethodDelete, "/users/"+testUserID, nil, &out); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if out.User.UserID != testUserID {
		t.Errorf("out = %+v", out)
	}
	if n := ts.hits.Load(); n != 2 {
		t.Errorf("attempts = %d, want 2 (retried through Do)", n)
	}
	for _, a := range auths {
		if a != "Bearer "+testKey {
			t.Errorf("Authorization = %q", a)
		}
	}

	// A request addressed to another host is not sent, and the key goes
	// nowhere.
	other := newTestServer(t)
	other.mux.HandleFunc("/", okUser)
	otherURL, _ := url.Parse(other.URL)
	err := c.Do(context.Background(), http.MethodDelete, "//"+otherURL.Host+"/v1/users/"+testUserID, nil, nil)
	if !errors.Is(err, ErrOutsideBaseURL) {
		t.Errorf("err = %v, want ErrOutsideBaseURL", err)
	}
	if n := other.hits.Load(); n != 0 {
		t.Errorf("other host got %d requests", n)
	}
}

// TestClientDoMapsAnErrorAnswer: a non-2xx answer through Client.Do is an
// *APIError naming the request, with the message of a plain-text body.
func TestClientDoMapsAnErrorAnswer(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "no such user\n")
	})
	err := c.Do(context.Background(), http.MethodDelete, "/users/ghost", nil, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("Do = %v; want *APIError", err)
	}
	if apiErr.StatusCode != 400 || apiErr.Message != "no such user" || apiErr.Method != "DELETE" || apiErr.Path != "/v1/users/ghost" {
		t.Errorf("APIError = %+v", apiErr)
	}
}

// TestDoDriftLoggedPerMethod: Do's drift log names the method in what it
// dedupes, so drift at /n on GET /a and on POST /a is two warnings.
func TestDoDriftLoggedPerMethod(t *testing.T) {
	var logs bytes.Buffer
	c, mux, _ := setup(t, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	mux.HandleFunc("/v1/a", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, `{"n":"x"}`) })
	var out struct {
		N int `json:"n"`
	}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodGet} {
		if err := c.Do(context.Background(), m, "/a", nil, &out); err != nil {
			t.Fatalf("Do %s: %v", m, err)
		}
	}
	got := logs.String()
	if n := strings.Count(got, "level=WARN"); n != 2 || !strings.Contains(got, "method=GET") || !strings.Contains(got, "method=POST") {
		t.Errorf("%d warnings, want one for GET /v1/a and one for POST /v1/a:\n%s", n, got)
	}
}

// TestDoReusedOutListMismatch: a required list that the answer gives as a
// number is drift, and a reused out's earlier list is reset, not kept.
func TestDoReusedOutListMismatch(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("/v1/thing", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, `{"list":7}`) })
	out := struct {
		List []string `json:"list"`
	}{List: []string{"old"}}
	var info ResponseInfo
	if err := c.Do(context.Background(), http.MethodGet, "/thing", nil, &out, WithResponseInfo(&info)); err != nil {
		t.Fatal(err)
	}
	if out.List != nil || len(info.Drift) != 1 || info.Drift[0].Pointer != "/list" {
		t.Errorf("list = %q, drift %v; want nil, drift at /list", out.List, info.Drift)
	}
}
