package pagecalltest_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// getUser asks for the example user: answered 200 when no fault applies.
func getUser(s *pagecalltest.Server) result {
	return send(context.Background(), s, http.MethodGet, "/users/"+exampleUser, pagecalltest.APIKey, "")
}

// TestWindowFault: a 429 window answers every request from the first one
// until the window has passed, with Retry-After, then drops out.
func TestWindowFault(t *testing.T) {
	s := pagecalltest.NewTestServer(t)
	s.Inject(pagecalltest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1", Window: time.Second})
	time.Sleep(200 * time.Millisecond) // the window starts at the first request, not at Inject
	start := time.Now()
	limited := 0
	for time.Since(start) < 200*time.Millisecond {
		r := getUser(s)
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
			t.Fatalf("request %d inside the window: status %d, Retry-After %q; want 429 and 1", limited+1, r.status, r.header.Get("Retry-After"))
		}
		limited++
	}
	if n := s.PendingFaults(); n != 1 {
		t.Errorf("PendingFaults() = %d inside the window, want 1", n)
	}
	time.Sleep(time.Until(start.Add(1200 * time.Millisecond))) // the window began just after start
	if r := getUser(s); r.status != http.StatusOK {
		t.Errorf("after the window: status %d, want 200", r.status)
	}
	if n := s.PendingFaults(); n != 0 {
		t.Errorf("PendingFaults() = %d after the window, want 0", n)
	}
	if limited < 2 {
		t.Errorf("only %d requests inside the window", limited)
	}
}

// TestRateFault: a random failure rate fails about that share of requests,
// and the same seed fails the same ones.
func TestRateFault(t *testing.T) {
	const n, rate = 400, 0.25
	run := func(seed uint64) []bool {
		s := pagecalltest.NewTestServer(t)
		s.Inject(pagecalltest.Fault{Status: http.StatusServiceUnavailable, Rate: rate, Seed: seed})
		failed := make([]bool, n)
		for i := range n {
			r := getUser(s)
			if r.status != http.StatusOK && r.status != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 200 or 503", r.status)
			}
			failed[i] = r.status == http.StatusServiceUnavailable
		}
		return failed
	}
	a, b, c := run(7), run(7), run(8)
	count := 0
	for _, f := range a {
		if f {
			count++
		}
	}
	if share := float64(count) / n; share < rate*0.6 || share > rate*1.4 {
		t.Errorf("%d of %d requests failed (%.2f), want about %.2f", count, n, share, rate)
	}
	same, other := true, true
	for i := range a {
		same = same && a[i] == b[i]
		other = other && a[i] == c[i]
	}
	if !same {
		t.Error("the same seed failed different requests")
	}
	if other {
		t.Error("another seed failed exactly the same requests")
	}
}

// TestTogetherFault: a blip holds its requests until all have arrived and
// answers them at the same moment; later requests are not held.
func TestTogetherFault(t *testing.T) {
	const n = 8
	s := pagecalltest.NewTestServer(t)
	s.Inject(pagecalltest.Fault{Status: http.StatusServiceUnavailable, Count: n, Together: true})
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		answered []time.Time
		statuses []int
	)
	var lastSent time.Time
	for i := range n {
		if i == n-1 {
			time.Sleep(200 * time.Millisecond) // the others must wait for this one
			lastSent = time.Now()
		}
		wg.Go(func() {
			r := getUser(s)
			mu.Lock()
			answered = append(answered, time.Now())
			statuses = append(statuses, r.status)
			mu.Unlock()
		})
	}
	wg.Wait()
	for i, at := range answered {
		if statuses[i] != http.StatusServiceUnavailable {
			t.Errorf("held request got %d, want 503", statuses[i])
		}
		if at.Before(lastSent) {
			t.Errorf("a held request was answered %v before the last one was sent", lastSent.Sub(at))
		}
	}
	start := time.Now()
	if r := getUser(s); r.status != http.StatusOK || time.Since(start) > 5*time.Second {
		t.Errorf("after the blip: status %d after %v, want 200 at once", r.status, time.Since(start))
	}
}

// TestMaxRequests: the request log keeps only the most recent requests.
func TestMaxRequests(t *testing.T) {
	for _, keep := range []int{0, 2} {
		s := pagecalltest.NewTestServer(t, pagecalltest.WithMaxRequests(keep))
		for _, id := range []string{"a", "b", "c"} {
			send(context.Background(), s, http.MethodGet, "/users/"+id, pagecalltest.APIKey, "")
		}
		reqs := s.Requests()
		var paths []string
		for _, r := range reqs {
			paths = append(paths, r.Path)
		}
		want := map[int][]string{0: nil, 2: {"/v1/users/b", "/v1/users/c"}}[keep]
		if !slices.Equal(paths, want) {
			t.Errorf("WithMaxRequests(%d): log %q, want %q", keep, paths, want)
		}
	}
}
