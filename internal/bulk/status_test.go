//go:build !anyspec

package bulk

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pplink/pagecall-go"
)

// TestStatusHooksKeepTheLastOfSeveralAnswers: after a 502, a 503 and then
// a timeout, the record's status is the 503, the last answer that came,
// not the first.
func TestStatusHooksKeepTheLastOfSeveralAnswers(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := map[int32]int{1: http.StatusBadGateway, 2: http.StatusServiceUnavailable}[calls.Add(1)]
		if status == 0 {
			<-r.Context().Done() // the last retry hangs until the client gives up
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"message":"try later"}`)
	}))
	defer srv.Close()
	c, err := pagecall.NewClient(
		pagecall.WithAPIKey("test-key"),
		pagecall.WithBaseURL(srv.URL),
		pagecall.WithInsecureHTTP(),
		pagecall.WithTimeout(500*time.Millisecond),
		pagecall.WithRetryPolicy(pagecall.RetryPolicy{MaxRetries: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}),
		pagecall.WithHooks(StatusHooks()),
	)
	if err != nil {
		t.Fatal(err)
	}
	var got []Record
	err = Run(t.Context(), make(chan struct{}), c, &sliceSource{ids: []string{"u1"}}, 1, SinkFunc(func(r Record) { got = append(got, r) }))
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d requests, want 3 (502, 503, then a retry that timed out)", n)
	}
	if len(got) != 1 || got[0].Outcome != OutcomeFailed || got[0].Status != http.StatusServiceUnavailable {
		t.Errorf("records %+v, want one failed with status 503", got)
	}
}
