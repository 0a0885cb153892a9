package pagecallredis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Defaults of the options.
const (
	// DefaultTimeout bounds each Redis operation (WithTimeout).
	DefaultTimeout = 100 * time.Millisecond
	// DefaultCooldown is how long the client leaves Redis alone after an
	// operation failed, before it tries again (WithCooldown).
	DefaultCooldown = time.Second
	// budgetIdleExpiry is how long a budget that is not full survives
	// without a retry taken from it: then it is full again, as a new
	// process's own budget would be.
	budgetIdleExpiry = 10 * time.Minute
	// refundDelay is how long refunds gather before one round trip
	// gives them back.
	refundDelay = 20 * time.Millisecond
	// keyPrefix starts the default namespace.
	keyPrefix = "pagecall:"
	// leaseWindow sizes the admissions a client takes from the fleet's
	// rate in one round trip: what the rate grants in this time (at least
	// one, at most the burst). Admissions not used within it are dropped.
	leaseWindow = 10 * time.Millisecond
)

// ErrUnavailable is wrapped by every error that means Redis could not be
// reached in time (or was left alone for WithCooldown after a failure).
// The client then uses its own limits for that step.
var ErrUnavailable = errors.New("pagecallredis: Redis unavailable")

// Option configures New.
type Option func(*config)

type config struct {
	perSecond float64
	burst     int
	namespace string
	timeout   time.Duration
	cooldown  time.Duration
	capacity  int64
}

// WithRateLimit sets the rate of the whole fleet: every client that shares
// the Redis and the namespace sends at most perSecond attempts a second
// together (retries included), with bursts of up to burst. perSecond must be
// above zero (math.Inf(1) means no rate) and burst at least 1, or NewClient
// fails with pagecall.ErrInvalidRateLimit. Without it the fleet shares the
// pause and the budget and sets no rate.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) { c.perSecond, c.burst = perSecond, burst }
}

// WithNamespace sets the prefix of every Redis key and channel the fleet
// uses. Clients share their limits exactly when they share the Redis and
// the namespace. By default it is "pagecall:" and a hash of the base URL
// and the API key: clients of one key share, clients of two keys do not.
// An empty name keeps the default.
func WithNamespace(name string) Option {
	return func(c *config) { c.namespace = name }
}

// WithTimeout bounds each Redis operation (DefaultTimeout, 100 ms, by
// default). The go-redis client must honour it: give it
// ContextTimeoutEnabled, or read, write and dial timeouts as short.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithCooldown sets how long a client leaves Redis alone after an
// operation failed (DefaultCooldown, one second): in that time it uses its
// own limits at once instead of waiting for Redis to time out again.
func WithCooldown(d time.Duration) Option {
	return func(c *config) {
		if d >= 0 {
			c.cooldown = d
		}
	}
}

// WithBudgetCapacity sets the size of the fleet's retry budget, in tokens
// (pagecall.DefaultBudgetCapacity, 400, by default): what one client's
// budget holds, shared by all. Give the value of the clients'
// RetryPolicy.BudgetCapacity if they change it.
func WithBudgetCapacity(tokens int) Option {
	return func(c *config) {
		if tokens > 0 {
			c.capacity = int64(tokens)
		}
	}
}

// New returns the option that makes a pagecall client share its limits
// through rdb with every client of the same namespace (see the package
// documentation). rdb may be a *redis.Client, a cluster or a failover
// client; it is shared, not closed, and the client's background
// subscription ends when rdb is closed.
func New(rdb redis.UniversalClient, opts ...Option) pagecall.Option {
	c := newConfig(opts)
	if !validRate(c.perSecond, c.burst) {
		// NewClient reports the same error for the fleet's rate as for
		// its own: the root's option validates, and this option has no
		// other way to fail NewClient.
		return pagecall.WithRateLimit(c.perSecond, c.burst)
	}
	return pagecall.WithSharedLimits(func(scope string) pagecall.SharedLimits {
		ns := c.namespace
		if ns == "" {
			ns = keyPrefix + scope
		}
		return newShared(rdb, c, ns)
	})
}

func newConfig(opts []Option) config {
	c := config{timeout: DefaultTimeout, cooldown: DefaultCooldown, capacity: pagecall.DefaultBudgetCapacity, perSecond: math.Inf(1), burst: 1}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func validRate(perSecond float64, burst int) bool {
	return perSecond > 0 && burst >= 1 // NaN fails the first test
}

// shared is one client's view of the fleet's limits: pagecall.SharedLimits
// on Redis.
type shared struct {
	rdb redis.UniversalClient
	cfg config

	rateKey, pauseKey, budgetKey, channel string

	rated          bool          // a fleet rate is set
	intervalMicros string        // between two admissions at the fleet's rate, in µs, with a fraction
	local          *rate.Limiter // the fleet's rate for this process alone, while Redis fails
	lease          int           // admissions taken per round trip (leaseWindow's worth)

	leased    atomic.Int64 // admissions taken and not used yet
	leasedEnd atomic.Int64 // unix nanoseconds after which they are dropped

	pause      atomic.Pointer[pauseState] // the latest fleet pause learned
	budgetFull atomic.Bool                // the fleet's budget is known to be full
	pending    atomic.Int64               // refunds not yet given back
	flushing   atomic.Bool                // a refund flush is scheduled
	down       atomic.Int64               // unix nanoseconds until which Redis is left alone
}

type pauseState struct {
	until  time.Time
	status int
}

var _ pagecall.SharedLimits = (*shared)(nil)

// newShared returns the shared limits of namespace ns and starts the
// subscription that learns the fleet's pauses.
func newShared(rdb redis.UniversalClient, c config, ns string) *shared {
	s := &shared{
		rdb:       rdb,
		cfg:       c,
		rateKey:   ns + ":rate",
		pauseKey:  ns + ":pause",
		budgetKey: ns + ":budget",
		channel:   ns + ":events",
	}
	s.pause.Store(&pauseState{})
	if !math.IsInf(c.perSecond, 1) {
		s.rated = true
		s.intervalMicros = strconv.FormatFloat(1e6/c.perSecond, 'f', 3, 64)
		s.local = rate.NewLimiter(rate.Limit(c.perSecond), c.burst)
		s.lease = int(min(max(c.perSecond*leaseWindow.Seconds(), 1), float64(c.burst)))
	}
	go s.subscribe()
	return s
}

// op runs one Redis operation bounded by the timeout, unless Redis failed
// less than the cooldown ago. Its error wraps ErrUnavailable, or is ctx's
// own when ctx ended.
func (s *shared) op(ctx context.Context, f func(ctx context.Context) error) error {
	if until := s.down.Load(); until != 0 && time.Now().UnixNano() < until {
		return fmt.Errorf("%w: left alone for %v after a failure", ErrUnavailable, s.cfg.cooldown)
	}
	octx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	err := f(octx)
	cancel()
	if err == nil {
		s.down.Store(0)
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	s.down.Store(time.Now().Add(s.cfg.cooldown).UnixNano())
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// reserveScript is GCRA on Redis, as a reservation: it takes ARGV[3]
// admissions at one every ARGV[1] microseconds, bursts of ARGV[2], and
// returns how long to wait for them (microseconds), or -1 and takes
// nothing when that is longer than ARGV[4] (the caller's deadline).
//
// Hand-written rather than github.com/go-redis/redis_rate's Allow, which
// only admits or refuses: its callers poll, and N processes that poll
// together collide and lose admissions (measured: 46.6/s of 50 on a
// loaded machine). A reservation puts the fleet's attempts in order, with
// one round trip each, as golang.org/x/time/rate's Reserve does in one
// process. The state is the theoretical arrival time in microseconds of
// Redis's clock, so that the clocks of the machines do not matter.
var reserveScript = redis.NewScript(`
local interval, burst, n, maxwait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local newtat = tat + interval * n
local wait = newtat - interval * burst - now
if wait < 0 then wait = 0 end
if wait > maxwait then return -1 end
redis.call('SET', KEYS[1], string.format('%.3f', newtat), 'PX', math.ceil((newtat - now) / 1000) + 1000)
return wait
`)

// Wait blocks until the fleet's rate admits one attempt: it reserves the
// fleet's next admission (or takes one of a lease) and sleeps until it.
// While Redis fails it waits for this process's share of the fallback
// limiter (the fleet's rate, for this process alone) and returns the
// error.
func (s *shared) Wait(ctx context.Context) error {
	if !s.rated {
		return nil
	}
	if s.takeLeased() {
		return nil
	}
	maxWait := int64(math.MaxInt64 / 2)
	if dl, ok := ctx.Deadline(); ok {
		maxWait = time.Until(dl).Microseconds()
	}
	var wait int64
	err := s.op(ctx, func(ctx context.Context) (err error) {
		wait, err = reserveScript.Run(ctx, s.rdb, []string{s.rateKey},
			s.intervalMicros, s.cfg.burst, s.lease, maxWait).Int64()
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if werr := sleep(ctx, s.local.Reserve().Delay()); werr != nil {
			return werr
		}
		return err
	}
	if wait < 0 { // the turn comes after the deadline
		<-ctx.Done()
		return ctx.Err()
	}
	if err := sleep(ctx, time.Duration(wait)*time.Microsecond); err != nil {
		return err
	}
	if s.lease > 1 {
		s.leasedEnd.Store(time.Now().Add(leaseWindow).UnixNano())
		s.leased.Add(int64(s.lease - 1))
	}
	return nil
}

// takeLeased uses one admission taken earlier, if one is left and fresh.
// At rates of a hundred a second or less a lease is one admission, and
// this never holds one.
func (s *shared) takeLeased() bool {
	for {
		n := s.leased.Load()
		if n <= 0 {
			return false
		}
		if time.Now().UnixNano() > s.leasedEnd.Load() {
			s.leased.CompareAndSwap(n, 0)
			return false
		}
		if s.leased.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// PausedUntil returns the fleet's pause as this client last learned it.
func (s *shared) PausedUntil() (time.Time, int) {
	p := s.pause.Load()
	return p.until, p.status
}

// learnPause extends the pause this client knows to until; it never
// shortens it.
func (s *shared) learnPause(until time.Time, status int) {
	next := &pauseState{until: until, status: status}
	for {
		cur := s.pause.Load()
		if !until.After(cur.until) || s.pause.CompareAndSwap(cur, next) {
			return
		}
	}
}

// pauseScript extends the fleet's pause to ARGV[1] milliseconds from now
// (never shortens it) and tells every subscribed client, in one round trip.
var pauseScript = redis.NewScript(`
local d = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) >= d then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', d)
redis.call('PUBLISH', KEYS[2], 'pause ' .. ARGV[1] .. ' ' .. ARGV[2])
return 1
`)

// Pause holds the fleet's new attempts until until. The pause travels as
// a duration, so that machines whose clocks differ still pause as long.
func (s *shared) Pause(ctx context.Context, until time.Time, status int) error {
	s.learnPause(until, status)
	d := time.Until(until).Milliseconds()
	if d <= 0 {
		return nil
	}
	return s.op(ctx, func(ctx context.Context) error {
		return pauseScript.Run(ctx, s.rdb, []string{s.pauseKey, s.channel}, d, status).Err()
	})
}

// spendScript takes ARGV[1] tokens from the budget (absent: full, of
// ARGV[2] tokens) when that many are left. When the budget was full it
// tells every client that it is not any more.
var spendScript = redis.NewScript(`
local cost, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local v = redis.call('GET', KEYS[1])
if v then v = tonumber(v) else v = cap end
if v < cost then return 0 end
redis.call('SET', KEYS[1], v - cost, 'PX', ARGV[3])
if v >= cap then redis.call('PUBLISH', KEYS[2], 'spent') end
return 1
`)

// Spend takes cost tokens from the fleet's budget.
func (s *shared) Spend(ctx context.Context, cost int64) (bool, error) {
	var ok bool
	err := s.op(ctx, func(ctx context.Context) error {
		n, err := spendScript.Run(ctx, s.rdb, []string{s.budgetKey, s.channel}, cost, s.cfg.capacity, budgetIdleExpiry.Milliseconds()).Int64()
		ok = n == 1
		return err
	})
	if err == nil && ok {
		s.budgetFull.Store(false)
	}
	return ok, err
}

// refundScript gives ARGV[1] tokens back, capped at ARGV[2]: a full
// budget is an absent key. It returns the tokens left.
var refundScript = redis.NewScript(`
local n, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local v = redis.call('GET', KEYS[1])
if not v then return cap end
v = tonumber(v) + n
if v >= cap then redis.call('DEL', KEYS[1]) return cap end
redis.call('SET', KEYS[1], v, 'KEEPTTL')
return v
`)

// Refund gives n tokens back. It never blocks: refunds gather for a few
// milliseconds and go back in one round trip, and nothing goes when the
// budget is known to be full (the reward of every call that succeeds).
func (s *shared) Refund(n int64) {
	if n <= 0 || s.budgetFull.Load() {
		return
	}
	if s.pending.Add(n) > s.cfg.capacity {
		s.pending.Store(s.cfg.capacity)
	}
	if s.flushing.CompareAndSwap(false, true) {
		time.AfterFunc(refundDelay, s.flush)
	}
}

// flush gives the gathered refunds back. When Redis fails they stay
// pending, for the next Refund to try again.
func (s *shared) flush() {
	s.flushing.Store(false)
	n := s.pending.Swap(0)
	if n == 0 {
		return
	}
	var left int64
	err := s.op(context.Background(), func(ctx context.Context) (err error) {
		left, err = refundScript.Run(ctx, s.rdb, []string{s.budgetKey}, n, s.cfg.capacity).Int64()
		return err
	})
	if err != nil {
		s.pending.Add(n)
		return
	}
	if left >= s.cfg.capacity {
		s.budgetFull.Store(true)
	}
}

// subscribe follows the fleet's events until rdb is closed. On every
// (re)subscription it reads the pause and the budget once, which covers
// what it missed while it was not subscribed.
func (s *shared) subscribe() {
	ps := s.rdb.Subscribe(context.Background(), s.channel)
	defer ps.Close()
	for m := range ps.ChannelWithSubscriptions() {
		switch m := m.(type) {
		case *redis.Subscription:
			s.refresh()
		case *redis.Message:
			s.onMessage(m.Payload)
		}
	}
}

// onMessage applies one event: "pause MS STATUS" or "spent".
func (s *shared) onMessage(payload string) {
	if payload == "spent" {
		s.budgetFull.Store(false)
		return
	}
	f := strings.Fields(payload)
	if len(f) != 3 || f[0] != "pause" {
		return
	}
	ms, err1 := strconv.ParseInt(f[1], 10, 64)
	status, err2 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil {
		return
	}
	s.learnPause(time.Now().Add(time.Duration(ms)*time.Millisecond), status)
}

// refresh reads the fleet's pause and whether its budget is full.
func (s *shared) refresh() {
	var status *redis.StringCmd
	var ttl *redis.DurationCmd
	var budget *redis.IntCmd
	err := s.op(context.Background(), func(ctx context.Context) error {
		pipe := s.rdb.Pipeline()
		status = pipe.Get(ctx, s.pauseKey)
		ttl = pipe.PTTL(ctx, s.pauseKey)
		budget = pipe.Exists(ctx, s.budgetKey)
		_, err := pipe.Exec(ctx)
		if errors.Is(err, redis.Nil) {
			err = nil
		}
		return err
	})
	if err != nil {
		return
	}
	s.budgetFull.Store(budget.Val() == 0)
	if code, err := strconv.Atoi(status.Val()); err == nil && ttl.Val() > 0 {
		s.learnPause(time.Now().Add(ttl.Val()), code)
	}
}
