package pagecallotel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pplink/pagecall-go"
	pagecallotel "github.com/pplink/pagecall-go/otel"
	"github.com/pplink/pagecall-go/pagecalltest"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// userID is the path parameter no span or metric may carry.
const userID = "ann.lee@example.com"

// rig is a client reporting to in-memory telemetry, against the mock.
type rig struct {
	srv    *pagecalltest.Server
	client *pagecall.Client
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

// newRig starts the mock with the user userID and a client whose retries
// wait at most a few milliseconds, reporting through pagecallotel.New.
func newRig(t *testing.T, opts ...pagecall.Option) *rig {
	t.Helper()
	return newRigWith(t, pagecallotel.New, opts...)
}

// newRigWith is newRig with the telemetry option that instrument makes
// from the rig's providers.
func newRigWith(t *testing.T, instrument func(trace.TracerProvider, metric.MeterProvider) pagecall.Option, opts ...pagecall.Option) *rig {
	t.Helper()
	r := &rig{srv: pagecalltest.NewTestServer(t), spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	r.srv.AddUser(userID, map[string]any{"name": "Ann"})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	opts = append([]pagecall.Option{
		pagecall.WithAPIKey(r.srv.APIKey()), pagecall.WithBaseURL(r.srv.URL()),
		pagecall.WithRetryPolicy(pagecall.RetryPolicy{MaxRetries: 3, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}),
		instrument(tp, mp),
	}, opts...)
	c, err := pagecall.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	r.client = c
	return r
}

// metrics collects every metric by name.
func (r *rig) metrics(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// attrs returns a set's attributes as a map of their string values.
func attrs(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

// wantAttrs fails unless got holds every key of want with its value; a
// want value of "-" means the key must be absent.
func wantAttrs(t *testing.T, what string, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		switch {
		case v == "-" && ok:
			t.Errorf("%s: %s = %q, want none", what, k, g)
		case v != "-" && g != v:
			t.Errorf("%s: %s = %q (present %v), want %q", what, k, g, ok, v)
		}
	}
}

// histogramPoints returns the points of a histogram by their attributes'
// status code (or "none").
func histogramPoints[N int64 | float64](t *testing.T, m metricdata.Metrics) []metricdata.HistogramDataPoint[N] {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[N])
	if !ok {
		t.Fatalf("%s is %T, want a histogram", m.Name, m.Data)
	}
	return h.DataPoints
}

// counterTotal sums a counter's points.
func counterTotal(t *testing.T, ms map[string]metricdata.Metrics, name string) int64 {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		return 0
	}
	s, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is %T, want an int64 sum", name, m.Data)
	}
	var n int64
	for _, p := range s.DataPoints {
		n += p.Value
	}
	return n
}

// noSecrets greps every span name, attribute, event and status, and every
// metric's attributes, for the API key and the user ID (raw and escaped).
func (r *rig) noSecrets(t *testing.T) {
	t.Helper()
	bad := []string{r.srv.APIKey(), userID, url.PathEscape(userID), "@", "%40", "offset=", "limit="}
	check := func(where, s string) {
		for _, b := range bad {
			if strings.Contains(s, b) {
				t.Errorf("%s carries %q: %s", where, b, s)
			}
		}
	}
	kvs := func(where string, set []attribute.KeyValue) {
		for _, kv := range set {
			check(where+" "+string(kv.Key), string(kv.Key)+"="+kv.Value.String())
		}
	}
	for _, s := range r.spans.Ended() {
		check("span name", s.Name())
		check("span status", s.Status().Description)
		kvs("span "+s.Name(), s.Attributes())
		for _, e := range s.Events() {
			check("event name", e.Name)
			kvs("event "+e.Name, e.Attributes)
		}
	}
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, set := range pointSets(m.Data) {
				kvs("metric "+m.Name, set.ToSlice())
			}
		}
	}
}

// pointSets returns the attribute sets of a metric's points.
func pointSets(d metricdata.Aggregation) []attribute.Set {
	var out []attribute.Set
	switch d := d.(type) {
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	}
	return out
}

// TestRetriedCall: a 503 then a 200 is one span with two attempts and one
// retry event, and the metrics count two attempts of one call; the W3C
// trace context of that span reaches the server on both attempts.
func TestRetriedCall(t *testing.T) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	r := newRig(t)
	r.srv.Inject(pagecalltest.Fault{Route: "GET /users/{user_id}", Status: http.StatusServiceUnavailable})
	if _, err := r.client.GetUser(context.Background(), userID); err != nil {
		t.Fatal(err)
	}
	spans := r.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Name() != "GetUser" || s.SpanKind().String() != "client" {
		t.Errorf("span %q kind %s, want GetUser client", s.Name(), s.SpanKind())
	}
	u, _ := url.Parse(r.srv.URL())
	wantAttrs(t, "span", attrs(s.Attributes()), map[string]string{
		"http.request.method": "GET", "url.template": "/users/{user_id}", "server.address": u.Hostname(),
		"server.port": u.Port(), "http.response.status_code": "200", "pagecall.operation": "GetUser",
		"http.request.resend_count": "1", "error.type": "-",
	})
	if s.Status().Code == codes.Error {
		t.Errorf("status %v, want not Error", s.Status())
	}
	events := s.Events()
	if len(events) != 1 || events[0].Name != pagecallotel.EventRetry {
		t.Fatalf("events %v, want one %s", events, pagecallotel.EventRetry)
	}
	wantAttrs(t, "retry event", attrs(events[0].Attributes), map[string]string{
		"pagecall.attempt": "1", "pagecall.retry.cause": "backoff", "http.response.status_code": "503", "error.type": "503",
	})
	if w := attrs(events[0].Attributes)["pagecall.retry.wait"]; w == "" || w == "0" {
		t.Errorf("retry wait %q, want a positive number of seconds", w)
	}

	reqs := r.srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	want := fmt.Sprintf("00-%s-%s-01", s.SpanContext().TraceID(), s.SpanContext().SpanID())
	for i, req := range reqs {
		if got := req.Header.Get("Traceparent"); got != want {
			t.Errorf("attempt %d: traceparent %q, want %q", i+1, got, want)
		}
	}

	ms := r.metrics(t)
	attempts := histogramPoints[float64](t, ms["http.client.request.duration"])
	if len(attempts) != 2 {
		t.Fatalf("http.client.request.duration has %d points, want 2 (503 and 200)", len(attempts))
	}
	byStatus := map[string]uint64{}
	for _, p := range attempts {
		a := attrs(p.Attributes.ToSlice())
		byStatus[a["http.response.status_code"]+"/"+a["error.type"]] += p.Count
		wantAttrs(t, "attempt point", a, map[string]string{"http.request.method": "GET", "url.template": "/users/{user_id}", "server.port": u.Port()})
	}
	if byStatus["503/503"] != 1 || byStatus["200/"] != 1 {
		t.Errorf("attempts by status/error.type %v, want one 503/503 and one 200/", byStatus)
	}
	if ms["http.client.request.duration"].Unit != "s" {
		t.Errorf("unit %q, want s", ms["http.client.request.duration"].Unit)
	}
	calls := histogramPoints[float64](t, ms["pagecall.client.call.duration"])
	if len(calls) != 1 || calls[0].Count != 1 {
		t.Errorf("call.duration points %+v, want one call", calls)
	}
	perCall := histogramPoints[int64](t, ms["pagecall.client.call.attempts"])
	if len(perCall) != 1 || perCall[0].Count != 1 || perCall[0].Sum != 2 {
		t.Errorf("call.attempts points %+v, want one call of 2 attempts", perCall)
	}
	r.noSecrets(t)
}

// givenPropagator writes the trace ID of the context's span into a header
// of its own, which no global propagator writes.
type givenPropagator struct{}

const givenHeader = "X-Given-Propagator"

func (givenPropagator) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	carrier.Set(givenHeader, trace.SpanContextFromContext(ctx).TraceID().String())
}
func (givenPropagator) Extract(ctx context.Context, _ propagation.TextMapCarrier) context.Context {
	return ctx
}
func (givenPropagator) Fields() []string { return []string{givenHeader} }

// TestNewWithPropagatorUsesTheGivenOne: with no global propagator set,
// every attempt carries the trace context through the propagator given to
// NewWithPropagator, and nothing else (the global one stays unused).
func TestNewWithPropagatorUsesTheGivenOne(t *testing.T) {
	global := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator()) // none: another test may have set one
	t.Cleanup(func() { otel.SetTextMapPropagator(global) })
	r := newRigWith(t, func(tp trace.TracerProvider, mp metric.MeterProvider) pagecall.Option {
		return pagecallotel.NewWithPropagator(tp, mp, givenPropagator{})
	})
	r.srv.Inject(pagecalltest.Fault{Route: "GET /users/{user_id}", Status: http.StatusServiceUnavailable})
	if _, err := r.client.GetUser(context.Background(), userID); err != nil {
		t.Fatal(err)
	}
	spans := r.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	want := spans[0].SpanContext().TraceID().String()
	reqs := r.srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 (a 503 and its retry)", len(reqs))
	}
	for i, req := range reqs {
		if got := req.Header.Get(givenHeader); got != want {
			t.Errorf("attempt %d: %s = %q, want the span's trace ID %s", i+1, givenHeader, got, want)
		}
		if tp := req.Header.Get("Traceparent"); tp != "" {
			t.Errorf("attempt %d: traceparent %q, which the given propagator does not write", i+1, tp)
		}
	}
}

// TestNilPropagatorIsTheGlobalOneAtEachAttempt: New (NewWithPropagator
// with nil) looks the global propagator up at each attempt, so a program
// that sets it after building the client still propagates.
func TestNilPropagatorIsTheGlobalOneAtEachAttempt(t *testing.T) {
	global := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator()) // none yet
	t.Cleanup(func() { otel.SetTextMapPropagator(global) })
	r := newRigWith(t, func(tp trace.TracerProvider, mp metric.MeterProvider) pagecall.Option {
		return pagecallotel.NewWithPropagator(tp, mp, nil)
	})
	otel.SetTextMapPropagator(givenPropagator{}) // set after the client is built
	if _, err := r.client.GetUser(context.Background(), userID); err != nil {
		t.Fatal(err)
	}
	spans := r.spans.Ended()
	reqs := r.srv.Requests()
	if len(spans) != 1 || len(reqs) != 1 {
		t.Fatalf("%d spans, %d requests, want 1 and 1", len(spans), len(reqs))
	}
	if got, want := reqs[0].Header.Get(givenHeader), spans[0].SpanContext().TraceID().String(); got != want {
		t.Errorf("%s = %q, want the span's trace ID %s from the global propagator set later", givenHeader, got, want)
	}
}

// TestPostNotRetried: a POST that gets a 503 is not retried: one attempt,
// no retry event, status Error with error.type 503.
func TestPostNotRetried(t *testing.T) {
	r := newRig(t)
	r.srv.Inject(pagecalltest.Fault{Route: "POST /rooms", Status: http.StatusServiceUnavailable})
	_, err := r.client.CreateRoom(context.Background(), pagecall.CreateRoomRequest{Name: "standup", Type: pagecall.RoomTypePrivate})
	var apiErr *pagecall.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("err %v, want a 503 APIError", err)
	}
	spans := r.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	wantAttrs(t, "span", attrs(s.Attributes()), map[string]string{
		"http.request.method": "POST", "url.template": "/rooms", "pagecall.operation": "CreateRoom",
		"http.response.status_code": "503", "error.type": "503", "http.request.resend_count": "-",
	})
	if s.Status().Code != codes.Error {
		t.Errorf("status %v, want Error", s.Status())
	}
	if len(s.Events()) != 0 {
		t.Errorf("events %v, want none", s.Events())
	}
	perCall := histogramPoints[int64](t, r.metrics(t)["pagecall.client.call.attempts"])
	if len(perCall) != 1 || perCall[0].Sum != 1 {
		t.Errorf("call.attempts %+v, want one call of 1 attempt", perCall)
	}
	r.noSecrets(t)
}

// TestBudgetRefusal: once failures have drained the retry budget, a
// retryable failure is not retried: the span has a budget event and the
// refusal counter counts it.
func TestBudgetRefusal(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.srv.Inject(pagecalltest.Fault{Route: "GET /users/{user_id}", Status: http.StatusServiceUnavailable, Count: 1000})
	for r.client.RetryBudget() >= 5 {
		_, _ = r.client.GetUser(ctx, userID, pagecall.WithCallMaxRetries(0))
	}
	r.spans.Reset()
	_, err := r.client.GetUser(ctx, userID)
	if err == nil {
		t.Fatal("the call succeeded; want the 503")
	}
	spans := r.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	ev := spans[0].Events()
	if len(ev) != 1 || ev[0].Name != pagecallotel.EventBudgetRefused {
		t.Fatalf("events %v, want one %s", ev, pagecallotel.EventBudgetRefused)
	}
	if spans[0].Status().Code != codes.Error {
		t.Errorf("status %v, want Error", spans[0].Status())
	}
	if n := counterTotal(t, r.metrics(t), "pagecall.client.retry_budget.refusals"); n != 1 {
		t.Errorf("refusals %d, want 1", n)
	}
	r.noSecrets(t)
}

// TestPause429: a 429 with Retry-After pauses the client; the next call
// waits for it, which its span records as an event and the pause counter
// counts.
func TestPause429(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.srv.Inject(pagecalltest.Fault{Route: "GET /users/{user_id}", Status: http.StatusTooManyRequests, RetryAfter: "1"})
	if _, err := r.client.GetUser(ctx, userID, pagecall.WithCallMaxRetries(0)); err == nil {
		t.Fatal("the first call succeeded; want the 429")
	}
	if r.client.PausedUntil().IsZero() {
		t.Fatal("the client is not paused after a 429 with Retry-After")
	}
	r.spans.Reset()
	if _, err := r.client.GetUser(ctx, userID); err != nil {
		t.Fatal(err)
	}
	spans := r.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	ev := spans[0].Events()
	if len(ev) != 1 || ev[0].Name != pagecallotel.EventPause {
		t.Fatalf("events %v, want one %s", ev, pagecallotel.EventPause)
	}
	wantAttrs(t, "pause event", attrs(ev[0].Attributes), map[string]string{
		"http.response.status_code": "429", "pagecall.attempt": "1", "pagecall.pause.deadline_first": "false",
	})
	if n := counterTotal(t, r.metrics(t), "pagecall.client.pauses"); n != 1 {
		t.Errorf("pauses %d, want 1", n)
	}
	r.noSecrets(t)
}

// TestIteratorPages: an iterator over three pages makes three spans, none
// of which carries the page's query.
func TestIteratorPages(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	setup, err := pagecall.NewClient(pagecall.WithAPIKey(r.srv.APIKey()), pagecall.WithBaseURL(r.srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	for len(r.srv.RoomIDs()) < 5 {
		if _, err := setup.CreateRoom(ctx, pagecall.CreateRoomRequest{Name: "r", Type: pagecall.RoomTypeOpen}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, err := range r.client.ListRoomsSeq(ctx, &pagecall.ListRoomsParams{Limit: pagecall.Ptr(2)}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	spans := r.spans.Ended()
	if n != 5 || len(spans) != 3 {
		t.Fatalf("%d rooms in %d spans, want 5 in 3", n, len(spans))
	}
	for _, s := range spans {
		if s.Name() != "ListRooms" {
			t.Errorf("span %q, want ListRooms", s.Name())
		}
	}
	r.noSecrets(t)
}

// TestNoSecretsOnFailure: a failed call on a user ID with an "@" (a 404
// from the mock, whose message may name the path) carries neither the ID
// nor the key anywhere, even in error.type or the status description.
func TestNoSecretsOnFailure(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if _, err := r.client.GetUser(ctx, "nobody@example.com"); err == nil {
		t.Fatal("want a 404")
	}
	if _, err := r.client.DeleteUser(ctx, userID); err != nil {
		t.Fatal(err)
	}
	if len(r.spans.Ended()) != 2 {
		t.Fatalf("%d spans, want 2", len(r.spans.Ended()))
	}
	r.noSecrets(t)
}
