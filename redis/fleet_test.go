//go:build !anyspec

package pagecallredis

// The fleet's integration tests (issue 22): separate OS processes (this
// test binary run again as a child, TestMain) share limits and webhook
// deliveries through a real redis-server. They need PAGECALL_TEST_REDIS
// (host:port; .ci/run starts one): without it they skip, and under CI=true
// they fail. make test-redis runs them all, with their figures logged.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/webhook"
	"github.com/redis/go-redis/v9"
)

// envTestRedis is the address of the real redis-server of the tests.
const envTestRedis = "PAGECALL_TEST_REDIS"

// envChild makes the test binary a child process of a fleet test: its
// value is the JSON of a childSpec.
const envChild = "PAGECALL_FLEET_CHILD"

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	if spec := os.Getenv(envChild); spec != "" {
		os.Exit(runChild(spec))
	}
	redis.SetLogger(quiet{}) // the tests make Redis fail on purpose
	os.Exit(m.Run())
}

// testRedis returns the real redis-server's address, and a namespace of
// this test's own, emptied at the end.
func testRedis(t *testing.T) (addr, ns string) {
	t.Helper()
	addr = os.Getenv(envTestRedis)
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the fleet's tests against a real redis-server (.ci/run starts one)", envTestRedis)
		}
		t.Skipf("%s is not set: start a redis-server and set it to host:port (make test-redis)", envTestRedis)
	}
	ns = fmt.Sprintf("pagecalltest:%s:%d", t.Name(), time.Now().UnixNano())
	t.Cleanup(func() { flushNamespace(t, addr, ns) })
	return addr, ns
}

// flushNamespace deletes the keys a test wrote.
func flushNamespace(t *testing.T, addr, ns string) {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	ctx := context.Background()
	for _, pattern := range []string{ns + ":*"} {
		keys, _ := rdb.Keys(ctx, pattern).Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	}
}

// loadedTimeout bounds the Redis operations of the tests that measure
// sharing, not failures: CI machines are shared, and a timeout there would
// measure the fallback instead.
const loadedTimeout = time.Second

// childSpec is what a child process does.
type childSpec struct {
	Role      string        // "rate", "pause", "budget", "webhook"
	Redis     string        // host:port
	Namespace string        // the fleet's namespace
	Target    string        // the counting server's URL
	Start     time.Time     // when to start sending
	For       time.Duration // how long to send
	Rate      float64       // the fleet's rate, 0: none
	Burst     int
	Local     bool          // only a local limit of Rate and Burst: no Redis
	Calls     int           // budget: calls to make
	Who       string        // pause: "a" gets the 429, "b" sends
	Dir       string        // webhook: where the children write
	Timeout   time.Duration // of each Redis operation; 0: DefaultTimeout
}

// startChildren starts n children of spec (Namespace may differ with
// each, by nsOf) and returns a function that waits for them and returns
// each one's stdout lines.
func startChildren(t *testing.T, n int, spec func(i int) childSpec) func() [][]string {
	t.Helper()
	type child struct {
		cmd *exec.Cmd
		out *strings.Builder
	}
	var children []child
	for i := range n {
		b, _ := json.Marshal(spec(i))
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"="+string(b))
		out := &strings.Builder{}
		cmd.Stdout = out
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, child{cmd, out})
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	return func() [][]string {
		var all [][]string
		for i, c := range children {
			if err := c.cmd.Wait(); err != nil {
				t.Fatalf("child %d: %v\n%s", i, err, c.out)
			}
			all = append(all, strings.Split(strings.TrimSpace(c.out.String()), "\n"))
		}
		return all
	}
}

// counter is the counting server: it records when each request arrived,
// by path.
type counter struct {
	mu     sync.Mutex
	at     map[string][]time.Time
	answer func(w http.ResponseWriter, r *http.Request) bool // nil, or false: a user, 200
}

func newCounter(t *testing.T, answer func(w http.ResponseWriter, r *http.Request) bool) (*counter, string) {
	c := &counter{at: map[string][]time.Time{}, answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.at[r.URL.Path] = append(c.at[r.URL.Path], time.Now())
		c.mu.Unlock()
		if c.answer != nil && c.answer(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(benchUser)
	}))
	t.Cleanup(srv.Close)
	return c, srv.URL
}

func (c *counter) times(path string) []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.at[path])
}

// window returns how many of ts fall in [from, to) and the most in any
// 1-second window that starts at one of them.
func window(ts []time.Time, from, to time.Time) (n, maxPerSecond int) {
	var in []time.Time
	for _, x := range ts {
		if !x.Before(from) && x.Before(to) {
			in = append(in, x)
		}
	}
	slices.SortFunc(in, func(a, b time.Time) int { return a.Compare(b) })
	j := 0
	for i := range in {
		for j < len(in) && in[j].Sub(in[i]) < time.Second {
			j++
		}
		maxPerSecond = max(maxPerSecond, j-i)
	}
	return len(in), maxPerSecond
}

// runChild is a child process's main.
func runChild(specJSON string) int {
	var s childSpec
	if err := json.Unmarshal([]byte(specJSON), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	redis.SetLogger(quiet{})
	rdb := redis.NewClient(&redis.Options{Addr: s.Redis, ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1,
		DialTimeout: s.Timeout, ReadTimeout: s.Timeout, WriteTimeout: s.Timeout})
	defer rdb.Close()
	var err error
	switch s.Role {
	case "rate":
		err = childRate(s, rdb)
	case "pause":
		err = childPause(s, rdb)
	case "budget":
		err = childBudget(s, rdb)
	case "webhook":
		err = childWebhook(s, rdb)
	default:
		err = fmt.Errorf("unknown role %q", s.Role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// fleetClient is a child's pagecall client: through the fleet's shared
// limits on Redis, or with only a local WithRateLimit (Local). It counts
// the outages its hook reports (the root logs one warning for each) and
// the attempts the limits let go.
type fleetClient struct {
	*pagecall.Client
	outages  atomic.Int32
	mu       sync.Mutex
	admitted []string // unix nanoseconds of each attempt's start
}

func newFleetClient(s childSpec, rdb *redis.Client) (*fleetClient, error) {
	fc := &fleetClient{}
	opts := []pagecall.Option{
		pagecall.WithAPIKey("fleet-test-key"), pagecall.WithBaseURL(s.Target), pagecall.WithInsecureHTTP(),
		pagecall.WithRetryPolicy(pagecall.RetryPolicy{MaxRetries: 3, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}),
		pagecall.WithHooks(pagecall.Hooks{
			SharedLimits: func(_ context.Context, e pagecall.SharedLimitsEvent) {
				if !e.Reachable {
					fc.outages.Add(1)
				}
				fmt.Fprintf(os.Stderr, "child %d: %s reachable=%v %v\n", os.Getpid(), time.Now().Format("15:04:05.000"), e.Reachable, e.Err)
			},
			AttemptStart: func(context.Context, pagecall.AttemptStart) {
				fc.mu.Lock()
				fc.admitted = append(fc.admitted, strconv.FormatInt(time.Now().UnixNano(), 10))
				fc.mu.Unlock()
			},
		}),
	}
	if s.Local {
		opts = append(opts, pagecall.WithRateLimit(s.Rate, s.Burst))
	} else {
		popts := []Option{WithTimeout(s.Timeout), WithNamespace(s.Namespace)}
		if s.Rate > 0 {
			popts = append(popts, WithRateLimit(s.Rate, s.Burst))
		}
		opts = append(opts, New(rdb, popts...))
	}
	c, err := pagecall.NewClient(opts...)
	fc.Client = c
	return fc, err
}

// childRate calls DeleteUser("rate") in a loop from Start for For, and
// prints the outages it saw, the calls that failed and when each attempt
// started.
func childRate(s childSpec, rdb *redis.Client) error {
	c, err := newFleetClient(s, rdb)
	if err != nil {
		return err
	}
	time.Sleep(time.Until(s.Start))
	ctx, cancel := context.WithDeadline(context.Background(), s.Start.Add(s.For))
	defer cancel()
	failed := 0
	for ctx.Err() == nil {
		_, err := c.DeleteUser(ctx, "rate")
		if errors.Is(err, context.DeadlineExceeded) {
			break // the run's end: the turn would come after it
		}
		if err != nil {
			failed++
			fmt.Fprintln(os.Stderr, "child: call failed:", err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Printf("outages %d\nfailed %d\nadmitted %s\n", c.outages.Load(), failed, strings.Join(c.admitted, ","))
	return nil
}

// childPause: "a" calls DeleteUser("a") at Start+500ms, which is answered
// 429 with Retry-After; "b" calls DeleteUser("b") about 100 times a second
// from Start for For.
func childPause(s childSpec, rdb *redis.Client) error {
	c, err := newFleetClient(s, rdb)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithDeadline(context.Background(), s.Start.Add(s.For))
	defer cancel()
	if s.Who == "a" {
		time.Sleep(time.Until(s.Start.Add(500 * time.Millisecond)))
		_, err := c.DeleteUser(ctx, "a")
		return err
	}
	time.Sleep(time.Until(s.Start))
	for ctx.Err() == nil {
		_, _ = c.DeleteUser(ctx, "b")
		_ = sleep(ctx, 10*time.Millisecond)
	}
	return nil
}

// childBudget makes Calls calls of DeleteUser("outage") into an outage
// (every answer 503), 10 at a time, each retried up to 3 times while the
// budgets grant it.
func childBudget(s childSpec, rdb *redis.Client) error {
	c, err := newFleetClient(s, rdb)
	if err != nil {
		return err
	}
	calls := make(chan struct{}, s.Calls)
	for range s.Calls {
		calls <- struct{}{}
	}
	close(calls)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range calls {
				_, _ = c.DeleteUser(context.Background(), "outage")
			}
		})
	}
	wg.Wait()
	return nil
}

// childWebhook serves webhook deliveries with a deduplicator on Redis
// until Dir/stop exists. fn records each run in Dir/runs and takes 300 ms;
// for a session whose ID starts with "fail-" the first run in the fleet
// fails.
func childWebhook(s childSpec, rdb *redis.Client) error {
	fn := func(ctx context.Context, ev webhook.Event) error {
		f, err := os.OpenFile(s.Dir+"/runs", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		fmt.Fprintf(f, "%d %s\n", os.Getpid(), ev.Payload.SessionID)
		f.Close()
		time.Sleep(300 * time.Millisecond)
		if strings.HasPrefix(ev.Payload.SessionID, "fail-") {
			if f, err := os.OpenFile(s.Dir+"/failed-"+ev.Payload.SessionID, os.O_CREATE|os.O_EXCL, 0o600); err == nil {
				f.Close()
				return errors.New("the first run fails")
			}
		}
		return nil
	}
	h := webhook.NewHandler(fn, webhook.WithSecretHeader(webhook.DefaultSecretHeader, "fleet-secret"),
		webhook.WithDeduplicator(NewDeduplicator(rdb, time.Hour, WithDedupTimeout(s.Timeout))))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	if err := os.WriteFile(fmt.Sprintf("%s/url-%d", s.Dir, os.Getpid()), []byte("http://"+ln.Addr().String()), 0o600); err != nil {
		return err
	}
	for end := time.Now().Add(s.For); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(s.Dir + "/stop"); err == nil {
			return nil
		}
	}
	return errors.New("never told to stop")
}

// value returns the number after name in a child's output.
func value(t *testing.T, lines []string, name string) int {
	t.Helper()
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %q in %q", name, lines)
	return 0
}

// admitted returns the admission times a rate child printed.
func admitted(t *testing.T, lines []string) []time.Time {
	t.Helper()
	var ts []time.Time
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "admitted "); ok {
			for _, f := range strings.Split(v, ",") {
				ns, err := strconv.ParseInt(f, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				ts = append(ts, time.Unix(0, ns))
			}
		}
	}
	return ts
}

// TestFleetRateAccuracy: 4 processes share WithRateLimit(50, 5) through
// Redis for 10 s against one counting server: together they send 50 a
// second, and no second holds more than 55. The same 4 with only local
// limits send about 200 a second.
func TestFleetRateAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s twice: make test-long or make test-redis")
	}
	if raceEnabled {
		// Five instrumented processes on a shared machine measure the
		// machine; make test-redis runs this without -race.
		t.Skip("a timing measurement of 4 processes: make test-redis runs it without -race")
	}
	addr, ns := testRedis(t)
	const (
		procs  = 4
		perSec = 50
		burst  = 5
		dur    = 10 * time.Second
	)
	for _, local := range []bool{false, true} {
		c, url := newCounter(t, nil)
		start := time.Now().Add(2500 * time.Millisecond) // the children are up, even on a loaded machine
		wait := startChildren(t, procs, func(int) childSpec {
			return childSpec{Role: "rate", Redis: addr, Namespace: ns + fmt.Sprint(local), Target: url,
				Start: start, For: dur, Rate: perSec, Burst: burst, Local: local, Timeout: loadedTimeout}
		})
		var admits []time.Time
		for i, out := range wait() {
			if f := value(t, out, "failed"); f != 0 {
				t.Errorf("child %d: %d requests failed", i, f)
			}
			admits = append(admits, admitted(t, out)...)
		}
		n, peak := window(c.times("/users/rate"), start, start.Add(dur))
		_, admitPeak := window(admits, start, start.Add(dur))
		got := float64(n) / dur.Seconds()
		var perSecond []int
		for i := range int(dur.Seconds()) {
			k, _ := window(c.times("/users/rate"), start.Add(time.Duration(i)*time.Second), start.Add(time.Duration(i+1)*time.Second))
			perSecond = append(perSecond, k)
		}
		t.Logf("local=%v: requests in each second: %v", local, perSecond)
		t.Logf("local=%v: %d processes at WithRateLimit(%d, %d) for %v: %d requests, %.1f/s; the busiest second: %d admitted, %d arrived", local, procs, perSec, burst, dur, n, got, admitPeak, peak)
		if !local {
			if got < perSec*0.95 || got > perSec*1.05 {
				t.Errorf("shared: %.1f requests a second, want within 5%% of %d", got, perSec)
			}
			// GCRA admits at most burst + rate in any second by
			// construction; a process that wakes late for its turn, or
			// a request that arrives late, moves a request into the
			// next second on a shared machine: 5 % for that jitter.
			if limit := (perSec + burst) * 105 / 100; peak > limit || admitPeak > limit {
				t.Errorf("shared: the busiest second held %d requests at the server, %d admitted; want at most %d (55, and 5 %% for the jitter of a shared machine)", peak, admitPeak, limit)
			}
		} else if want := float64(procs * perSec); got < want*0.9 || got > want*1.1 {
			t.Errorf("local: %.1f requests a second, want about %.0f", got, want)
		}
	}
}

// TestFleetPause: a 429 with Retry-After: 1 to process A holds process B
// for the next second.
func TestFleetPause(t *testing.T) {
	addr, ns := testRedis(t)
	var pausedAt time.Time
	var mu sync.Mutex
	c, url := newCounter(t, func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/users/a" && pausedAt.IsZero() {
			pausedAt = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	start := time.Now().Add(1500 * time.Millisecond)
	wait := startChildren(t, 2, func(i int) childSpec {
		return childSpec{Role: "pause", Who: []string{"a", "b"}[i], Redis: addr, Namespace: ns, Target: url, Start: start, For: 3 * time.Second, Timeout: loadedTimeout}
	})
	wait()
	mu.Lock()
	at := pausedAt
	mu.Unlock()
	b := c.times("/users/b")
	var gap time.Duration // B's longest silence after the 429
	prev := at
	resumed := false
	for _, x := range b {
		if x.Before(at) {
			continue
		}
		gap = max(gap, x.Sub(prev))
		prev = x
		resumed = true
	}
	during, _ := window(b, at.Add(50*time.Millisecond), at.Add(950*time.Millisecond))
	before, _ := window(b, start, at)
	t.Logf("B sent %d requests before A's 429, %d in the 0.05-0.95 s after it, and none for %v after it", before, during, gap)
	if before < 20 || !resumed {
		t.Fatalf("B sent %d requests before the pause, resumed %v: the test did not run", before, resumed)
	}
	if during != 0 || gap < 900*time.Millisecond || gap > 1500*time.Millisecond {
		t.Errorf("B sent %d requests within the second after A's 429 (silence %v), want none for about 1 s", during, gap)
	}
}

// TestFleetBudget: 4 clients, 100 calls each, into a total outage: with
// one shared budget the fleet retries as much as one client would, with 4
// budgets about 4 times as much.
func TestFleetBudget(t *testing.T) {
	addr, ns := testRedis(t)
	const procs, calls = 4, 100
	perCall := map[bool]float64{}
	for _, shared := range []bool{true, false} {
		c, url := newCounter(t, func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		})
		wait := startChildren(t, procs, func(i int) childSpec {
			s := childSpec{Role: "budget", Redis: addr, Namespace: ns, Target: url, Calls: calls, Timeout: loadedTimeout}
			if !shared {
				s.Namespace = fmt.Sprintf("%s:%d", ns, i)
			}
			return s
		})
		wait()
		total := len(c.times("/users/outage"))
		perCall[shared] = float64(total) / (procs * calls)
		t.Logf("shared=%v: %d clients x %d calls into an outage: %d attempts, %.2f per call", shared, procs, calls, total, perCall[shared])
	}
	// A budget of 400 grants 80 failed attempts of 5 tokens, and the last
	// failed attempt of a call that used all its retries takes its 5 too:
	// one budget lets at most 80 retries through, and 4 budgets about 4
	// times as many.
	retries := func(perCall float64) float64 { return (perCall - 1) * procs * calls }
	if r := retries(perCall[true]); r > pagecall.DefaultBudgetCapacity/5 {
		t.Errorf("shared budget: %.0f retries, want at most one budget's %d", r, pagecall.DefaultBudgetCapacity/5)
	}
	if r, one := retries(perCall[false]), retries(perCall[true]); r < 2.5*one {
		t.Errorf("4 budgets: %.0f retries, want about 4 times the shared budget's %.0f", r, one)
	}
}

// TestFleetRedisFailure: redis-server is killed in the middle of a run and
// restarted. No call fails, each client sees one outage (the root logs one
// warning for it), each keeps the fleet's rate for itself meanwhile, and
// the fleet shares its rate again after.
func TestFleetRedisFailure(t *testing.T) {
	_, ns := testRedis(t)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("no redis-server binary to kill and restart (the service container has none); .ci/run installs it")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	startRedis := func() *exec.Cmd {
		cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
		defer rdb.Close()
		for i := 0; rdb.Ping(context.Background()).Err() != nil; i++ {
			if i > 100 {
				t.Fatal("redis-server did not start")
			}
			time.Sleep(20 * time.Millisecond)
		}
		return cmd
	}
	srv := startRedis()
	const procs, perSec = 2, 40
	c, url := newCounter(t, nil)
	start := time.Now().Add(1500 * time.Millisecond)
	wait := startChildren(t, procs, func(int) childSpec {
		return childSpec{Role: "rate", Redis: "127.0.0.1:" + port, Namespace: ns, Target: url, Start: start, For: 7 * time.Second, Rate: perSec, Burst: 1, Timeout: 500 * time.Millisecond}
	})
	time.Sleep(time.Until(start.Add(2 * time.Second)))
	_ = srv.Process.Kill()
	_ = srv.Wait()
	time.Sleep(time.Until(start.Add(4 * time.Second)))
	startRedis()
	for i, out := range wait() {
		if f := value(t, out, "failed"); f != 0 {
			t.Errorf("child %d: %d calls failed", i, f)
		}
		if o := value(t, out, "outages"); o != 1 {
			t.Errorf("child %d saw %d outages (warnings), want 1", i, o)
		}
	}
	ts := c.times("/users/rate")
	rateIn := func(from, to time.Duration) float64 {
		n, _ := window(ts, start.Add(from), start.Add(to))
		return float64(n) / (to - from).Seconds()
	}
	before, during, after := rateIn(200*time.Millisecond, 2*time.Second), rateIn(2300*time.Millisecond, 4*time.Second), rateIn(5200*time.Millisecond, 7*time.Second)
	t.Logf("fleet of %d at %d/s: %.1f/s shared, %.1f/s while Redis was down (each its own %d/s), %.1f/s after the restart", procs, perSec, before, during, perSec, after)
	if before > perSec*1.15 || after > perSec*1.15 {
		t.Errorf("the fleet's rate was not shared: %.1f/s before, %.1f/s after the outage, want about %d", before, after, perSec)
	}
	if during < perSec*procs*0.8 {
		t.Errorf("%.1f/s while Redis was down, want each process at about its own %d/s", during, perSec)
	}
}

// TestFleetWebhooks: the same delivery sent 20 times at once to 3
// processes, each with its own handler and one Redis, runs fn once; when
// fn fails the first time, the next delivery runs it again.
func TestFleetWebhooks(t *testing.T) {
	addr, ns := testRedis(t)
	dir := t.TempDir()
	wait := startChildren(t, 3, func(int) childSpec {
		return childSpec{Role: "webhook", Redis: addr, Namespace: ns, Dir: dir, For: 30 * time.Second, Timeout: loadedTimeout}
	})
	var urls []string
	for end := time.Now().Add(10 * time.Second); len(urls) < 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the children did not start")
		}
		urls, _ = filepath.Glob(dir + "/url-*")
	}
	for i, f := range urls {
		b, _ := os.ReadFile(f)
		urls[i] = string(b)
	}
	session := fmt.Sprintf("s-%d", time.Now().UnixNano())
	deliver := func(to, session string) int {
		body := fmt.Sprintf(`{"action":"sessionJoined","payload":{"roomId":"r","memberId":"m","sessionId":%q,"sessionsCount":1,"membersCount":1,"timestamp":"2026-01-01T00:00:00.000Z"}}`, session)
		req, _ := http.NewRequest(http.MethodPost, to, strings.NewReader(body))
		req.Header.Set(webhook.DefaultSecretHeader, "fleet-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	runs := func(session string) int {
		b, _ := os.ReadFile(dir + "/runs")
		n := 0
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasSuffix(l, " "+session) {
				n++
			}
		}
		return n
	}
	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			st := deliver(urls[i%3], session)
			mu.Lock()
			statuses[st]++
			mu.Unlock()
		})
	}
	wg.Wait()
	again := deliver(urls[0], session) // after the first finished
	t.Logf("20 concurrent deliveries to 3 processes: answers %v, fn ran %d times; a later one: %d", statuses, runs(session), again)
	if n := runs(session); n != 1 {
		t.Errorf("fn ran %d times for one event, want 1", n)
	}
	if statuses[200] < 1 || statuses[200]+statuses[503] != 20 || again != 200 {
		t.Errorf("answers %v then %d: want one 200 for the run, 503 (retry later) or 200 for the others, and 200 after", statuses, again)
	}

	failing := fmt.Sprintf("fail-%d", time.Now().UnixNano())
	first, second, third := deliver(urls[0], failing), deliver(urls[1], failing), deliver(urls[2], failing)
	t.Logf("fn fails its first run: answers %d, %d, %d; fn ran %d times", first, second, third, runs(failing))
	if first != 500 || second != 200 || third != 200 || runs(failing) != 2 {
		t.Errorf("answers %d, %d, %d with fn run %d times; want 500, then 200 from a run again (2 runs), then 200 without one", first, second, third, runs(failing))
	}
	if err := os.WriteFile(dir+"/stop", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	wait()
}
