package pagecalltest_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// syncBuffer is a bytes.Buffer that the server's handlers and the test
// may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRequestLogLineSaysStatusAndFault: WithLogger gets one line per
// request, whose status and fault attributes say what the client got: a
// faulted request is logged with fault=true, a normal one with fault=false.
func TestRequestLogLineSaysStatusAndFault(t *testing.T) {
	var out syncBuffer
	logger := slog.New(slog.NewJSONHandler(&out, nil))
	s := pagecalltest.NewTestServer(t, pagecalltest.WithLogger(logger))
	s.Inject(pagecalltest.Fault{Status: http.StatusServiceUnavailable, Count: 1})
	for i, want := range []int{http.StatusServiceUnavailable, http.StatusOK} {
		if r := getUser(s); r.status != want {
			t.Fatalf("request %d: status %d, want %d", i+1, r.status, want)
		}
	}
	type line struct {
		Msg    string `json:"msg"`
		Status int    `json:"status"`
		Fault  bool   `json:"fault"`
	}
	var got []line
	for _, raw := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var l line
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		if l.Msg == "pagecalltest request" {
			got = append(got, l)
		}
	}
	want := []line{
		{Msg: "pagecalltest request", Status: http.StatusServiceUnavailable, Fault: true},
		{Msg: "pagecalltest request", Status: http.StatusOK, Fault: false},
	}
	if len(got) != len(want) {
		t.Fatalf("request lines %+v, want %+v (the log:\n%s)", got, want, out.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request line %d: %+v, want %+v", i+1, got[i], want[i])
		}
	}
}
