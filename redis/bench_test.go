//go:build !anyspec

package pagecallredis

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/redis/go-redis/v9"
)

var benchUser = []byte(`{"user":{"user_id":"u1","name":"scotty","default_member_type":"guest",` +
	`"created_at":"2023-01-01T01:00:00.000Z","updated_at":"2023-01-01T01:00:00.000Z"}}`)

// BenchmarkFleetCost is what sharing costs a call: DeleteUser by 64
// callers against a loopback server, with the client's local rate limiter
// (limiter=local) or, in the same run, the fleet's rate on the real
// redis-server at PAGECALL_TEST_REDIS as well (limiter=shared), both set
// far above the rate reached. It reports Redis round trips per call.

func BenchmarkFleetCost(b *testing.B) {
	addr := os.Getenv(envTestRedis)
	if addr == "" {
		b.Skipf("%s is not set", envTestRedis)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{strconv.Itoa(len(benchUser))}
		_, _ = w.Write(benchUser)
	}))
	defer srv.Close()
	srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 128
	const callers = 64
	const high, burst = 1e6, 1024 // far above what 64 callers reach on loopback
	for _, variant := range []string{"local", "shared"} {
		b.Run("limiter="+variant, func(b *testing.B) {
			rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: callers, ContextTimeoutEnabled: true})
			defer rdb.Close()
			hook := &countHook{}
			rdb.AddHook(hook)
			var outages atomic.Int64 // the shared limits did not answer in time
			opts := []pagecall.Option{pagecall.WithAPIKey("bench-key"), pagecall.WithBaseURL(srv.URL),
				pagecall.WithInsecureHTTP(), pagecall.WithHTTPClient(srv.Client()), pagecall.WithRateLimit(high, burst),
				pagecall.WithHooks(pagecall.Hooks{SharedLimits: func(_ context.Context, e pagecall.SharedLimitsEvent) {
					if !e.Reachable {
						outages.Add(1)
					}
				}})}
			if variant == "shared" {
				ns := "pagecallbench:" + strconv.Itoa(os.Getpid())
				defer flushNamespace(nil, addr, ns)
				opts = append(opts, New(rdb, WithNamespace(ns), WithRateLimit(high, burst), WithTimeout(time.Second)))
			}
			c, err := pagecall.NewClient(opts...)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			// warm: the script loaded, the pool's connections open, the budget known full
			for range callers {
				if _, err := c.DeleteUser(ctx, "u1"); err != nil {
					b.Fatal(err)
				}
			}
			time.Sleep(50 * time.Millisecond)
			hook.n.Store(0)
			b.SetParallelism((callers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.DeleteUser(ctx, "u1"); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
			b.ReportMetric(float64(hook.n.Load())/float64(b.N), "roundtrips/call")
			b.ReportMetric(float64(outages.Load()), "outages")
		})
	}
}
