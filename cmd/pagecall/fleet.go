package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/pplink/pagecall-go"
	pagecallredis "github.com/pplink/pagecall-go/redis"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"
)

// envRedisURL names the variable that --redis defaults to.
const envRedisURL = "PAGECALL_REDIS_URL"

// Bounds on Redis, so that a slow or dead Redis never holds a call: each
// operation of the shared limits, and the check at start-up.
const (
	redisOpTimeout   = 100 * time.Millisecond
	redisPingTimeout = time.Second
)

// fleetFlags is --redis: the process joins the fleet of every process that
// uses the same Redis and API key, and shares its rate, pause and retry
// budget with them (package pagecallredis).
type fleetFlags struct {
	url string
	fs  *pflag.FlagSet // the command's flags, for its --rate
}

// register adds --redis to fs.
func (f *fleetFlags) register(fs *pflag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.url, "redis", "", "share this API key's rate (--rate), pause and retry budget with every process using the same Redis URL (default $"+envRedisURL+")")
}

// redisURL returns --redis, else $PAGECALL_REDIS_URL; "" when neither is set.
func (f *fleetFlags) redisURL(e *env) string {
	if f.url != "" {
		return f.url
	}
	return e.getenv(envRedisURL)
}

// redisClient returns the go-redis client of --redis (or
// $PAGECALL_REDIS_URL), with every operation bounded, or nil when neither
// is set. A URL that does not parse is a usage error; the error never
// repeats the URL, which may hold a password. It does not connect.
func (f *fleetFlags) redisClient(e *env) (*redis.Client, error) {
	u := f.redisURL(e)
	if u == "" {
		return nil, nil
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		return nil, usageErrorf("--redis (or $%s) is not a Redis URL such as redis://host:6379/0", envRedisURL)
	}
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = -1 // one bounded try; the client falls back to its own limits
	opts.DialTimeout = redisPingTimeout
	opts.ReadTimeout = redisOpTimeout
	opts.WriteTimeout = redisOpTimeout
	opts.PoolTimeout = redisOpTimeout
	opts.DialerRetries = 1
	quietRedis.Do(func() { redis.SetLogger(discardRedisLog{}) })
	return redis.NewClient(opts), nil
}

// quietRedis turns go-redis's own log off once per process: it prints each
// failed dial to stderr, and the CLI reports an unreachable Redis once, in
// its own words (the SDK's hook and warning do during a run).
var quietRedis sync.Once

type discardRedisLog struct{}

func (discardRedisLog) Printf(context.Context, string, ...any) {}

// options returns the client options that join the fleet, or none without
// --redis. With it, the command's --rate, if it has one and it is set, is
// the rate of the whole fleet. An unreachable Redis is not an error: the
// process warns and uses its own limits until Redis answers.
func (f *fleetFlags) options(ctx context.Context, e *env, log *slog.Logger) ([]pagecall.Option, error) {
	rdb, err := f.redisClient(e)
	if rdb == nil || err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, redisPingTimeout)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		fmt.Fprintf(e.Stderr, "pagecall: warning: Redis at %s is unreachable (%v); this process uses its own limits until it answers\n", rdb.Options().Addr, err)
	}
	var opts []pagecallredis.Option
	if perSecond := f.rate(); perSecond > 0 {
		opts = append(opts, pagecallredis.WithRateLimit(perSecond, 1))
	}
	opts = append(opts, pagecallredis.WithTimeout(redisOpTimeout))
	log.Debug("pagecall: sharing limits through Redis", "addr", rdb.Options().Addr, "fleet_rate", f.rate())
	return []pagecall.Option{pagecallredis.New(rdb, opts...)}, nil
}

// rate returns the command's --rate, or 0 when it has none.
func (f *fleetFlags) rate() float64 {
	if f.fs == nil {
		return 0
	}
	fl := f.fs.Lookup("rate")
	if fl == nil {
		return 0
	}
	r, err := strconv.ParseFloat(fl.Value.String(), 64)
	if err != nil {
		return 0
	}
	return r
}
