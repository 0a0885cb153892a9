// Package pagecallredis shares one Pagecall API key's limits among many
// processes (a fleet: the pods of a service, cron jobs, the CLI) through
// Redis, with go-redis v9.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
//	client, err := pagecall.NewClient(pagecall.WithAPIKey(key),
//		pagecallredis.New(rdb, pagecallredis.WithRateLimit(50, 5)))
//
// # What the fleet shares
//
// Every client built with the same Redis and namespace (WithNamespace; by
// default "pagecall:" and a hash of the base URL and the API key, so that
// clients of one key share and the key itself never reaches Redis, in a key
// or a value) shares three things:
//
//   - the rate (WithRateLimit): GCRA on Redis, one script call per
//     attempt in the key NAMESPACE:rate, as a reservation: the fleet's
//     attempts take their turns in order, as x/time/rate's Reserve does in
//     one process, rather than polling and colliding (see reserveScript
//     for why not github.com/go-redis/redis_rate). Without WithRateLimit
//     the fleet sets no rate and this costs nothing.
//   - the pause: a 429, or a 503 with Retry-After, that one client gets is
//     written to NAMESPACE:pause with the pause as its expiry, and published
//     on NAMESPACE:events in the same round trip. Every client follows that
//     channel in the background, so a client learns a pause as it starts,
//     without polling; a client that starts later, or reconnects, reads the
//     key once. The pause travels as a duration, not a time of day, so that
//     machines whose clocks differ pause as long. The caller's deadline
//     rules as it does for one client.
//   - the retry budget: NAMESPACE:budget holds the tokens left (absent: full,
//     WithBudgetCapacity), taken by a Lua script before each retry, so that
//     in an outage N clients retry no more than one would. Refunds gather
//     locally for a few milliseconds and go back in one round trip; the
//     reward of a call that succeeds at once costs nothing while the budget
//     is full (the first retry taken from a full budget tells every client
//     on NAMESPACE:events). A budget that no retry touched for ten minutes
//     is full again, as a new process's own would be.
//
// So a call that succeeds costs at most one Redis round trip with
// WithRateLimit, and none without it (docs/BENCHMARKS.md has the figures).
// Above 100 a second a client takes 10 ms of the fleet's admissions in one
// round trip (never more than the burst) and drops what it has not used
// after 10 ms: a fast fleet pays a fraction of a round trip per call, and a
// window may hold up to N × rate × 10 ms more than the exact limit. At 100
// a second or less every admission is one round trip, and the rate is
// exact.
//
// # When Redis fails, the calls go on
//
// Every Redis operation is bounded by WithTimeout (100 ms by default; the
// go-redis client must honour a context's deadline: ContextTimeoutEnabled,
// or read, write and dial timeouts as short). An operation that fails
// returns an error wrapping ErrUnavailable, and the pagecall client then
// uses its own limits for that step: its WithRateLimit, its own pause and
// its own retry budget. It logs one warning and calls Hooks.SharedLimits
// when the shared limits become unreachable, and again when they answer. No
// call fails because Redis did.
//
// After a failure the client leaves Redis alone for WithCooldown (a second)
// and then tries again, so that a dead Redis does not cost every attempt a
// timeout, and sharing resumes by itself once Redis answers.
//
// While Redis is down, each process keeps the fleet's rate for itself (a
// local limiter of WithRateLimit's rate and burst): the fleet then sends up
// to N times the rate, N being the number of processes. Give each client a
// pagecall.WithRateLimit of rate/N as well if the API key must never see
// more. Pauses learned before the outage hold; a pause one client gets
// during it holds that client only.
//
// # Webhooks
//
// NewDeduplicator is a webhook.Deduplicator on Redis: with
// webhook.WithDeduplicator, a delivery's fn runs once per (session ID,
// action) across every process that shares the Redis (see the webhook
// package).
//
// # Why a package of the root module
//
// This package lives in the root module (not a nested module like otel) so
// that the CLI, cmd/pagecall, can offer --redis: a nested module would make
// the two modules require each other. A program that imports only package
// pagecall still links neither this package nor go-redis (make check-deps
// checks it).
package pagecallredis
