// Package pagecallotel reports the calls of a pagecall.Client as
// OpenTelemetry traces and metrics. It is built on pagecall.WithHooks and
// lives in a module of its own (github.com/pplink/pagecall-go/otel), so that
// only programs that want OpenTelemetry link it.
//
//	c, err := pagecall.NewClient(pagecallotel.New(nil, nil)) // the global providers
//
// Each call is one client span named after its operationId ("DeleteUser"),
// with the HTTP client semantic conventions (http.request.method,
// url.template, server.address, server.port, http.response.status_code,
// error.type), pagecall.operation and http.request.resend_count; each retry
// is an event on it ("pagecall.retry", with the wait and its cause), and so
// are a retry the budget refused ("pagecall.retry_budget_refused") and a
// wait for the client-wide pause ("pagecall.pause"). A failed call's span
// has status Error. Every attempt carries the W3C trace context of the span
// through the global propagator (otel.GetTextMapPropagator; set it to
// propagation.TraceContext{} to send traceparent), or the one given to
// NewWithPropagator.
//
// Metrics:
//
//	http.client.request.duration        histogram, s, per attempt
//	pagecall.client.call.duration       histogram, s, per call, retries and waits included
//	pagecall.client.call.attempts       histogram, {attempt}, per call
//	pagecall.client.retry_budget.refusals counter, {refusal}: retries the retry budget refused
//	pagecall.client.pauses              counter, {pause}: attempts held by the client-wide pause
//
// No span, event or metric carries the API key, a query string or a path
// parameter value (a user ID may be an e-mail address): paths appear only
// as templates, and errors only as their error.type (pagecall.ErrorType).
package pagecallotel

import (
	"context"

	"github.com/pplink/pagecall-go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/pplink/pagecall-go/otel"

// The names of what this package reports besides the semantic conventions.
const (
	// AttrOperation is the operationId of the call.
	AttrOperation = attribute.Key("pagecall.operation")
	// AttrRetryWait is a retry event's wait in seconds.
	AttrRetryWait = attribute.Key("pagecall.retry.wait")
	// AttrRetryCause is what decided a retry's wait: "retry_after" or
	// "backoff" (pagecall.WaitCause).
	AttrRetryCause = attribute.Key("pagecall.retry.cause")
	// AttrAttempt is the attempt an event is about (1 for the first).
	AttrAttempt = attribute.Key("pagecall.attempt")
	// AttrPauseWait is a pause event's wait in seconds.
	AttrPauseWait = attribute.Key("pagecall.pause.wait")
	// AttrPauseDeadlineFirst marks a pause the call's deadline ends
	// before: the call failed instead of waiting.
	AttrPauseDeadlineFirst = attribute.Key("pagecall.pause.deadline_first")

	// EventRetry is the span event of a retry.
	EventRetry = "pagecall.retry"
	// EventBudgetRefused is the span event of a retry the budget refused.
	EventBudgetRefused = "pagecall.retry_budget_refused"
	// EventPause is the span event of a wait for the client-wide pause.
	EventPause = "pagecall.pause"
)

// durationBuckets are the semantic conventions' advice for HTTP durations,
// in seconds, extended to the SDK's default call timeout (60 s).
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60}

// New returns the option that reports the client's calls to tp and mp. A
// nil provider means the global one (otel.GetTracerProvider,
// otel.GetMeterProvider), looked up now. The trace context goes out
// through the global propagator, looked up at each attempt.
func New(tp trace.TracerProvider, mp metric.MeterProvider) pagecall.Option {
	return NewWithPropagator(tp, mp, nil)
}

// NewWithPropagator is New with the propagator that injects the trace
// context into each attempt's headers, for a program that does not set
// the global one; nil means the global propagator.
func NewWithPropagator(tp trace.TracerProvider, mp metric.MeterProvider, p propagation.TextMapPropagator) pagecall.Option {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	t := newTelemetry(tp, mp)
	t.propagator = p
	return pagecall.WithHooks(pagecall.Hooks{
		CallStart:    t.callStart,
		AttemptStart: t.attemptStart,
		AttemptEnd:   t.attemptEnd,
		Pause:        t.pause,
		CallEnd:      t.callEnd,
	})
}

// telemetry holds the tracer and the instruments of one client.
type telemetry struct {
	tracer       trace.Tracer
	attempt      metric.Float64Histogram
	callDuration metric.Float64Histogram
	callAttempts metric.Int64Histogram
	refusals     metric.Int64Counter
	pauses       metric.Int64Counter
	propagator   propagation.TextMapPropagator // nil: the global one
}

// newTelemetry creates the tracer and the instruments. An instrument the
// meter cannot create is a no-op one: telemetry never fails a client.
func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) *telemetry {
	meter := mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	t := &telemetry{tracer: tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL))}
	t.attempt, _ = meter.Float64Histogram("http.client.request.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of HTTP client requests: one per attempt of a Pagecall call."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	t.callDuration, _ = meter.Float64Histogram("pagecall.client.call.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of Pagecall calls, attempts and the waits between them included."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	t.callAttempts, _ = meter.Int64Histogram("pagecall.client.call.attempts",
		metric.WithUnit("{attempt}"), metric.WithDescription("Requests sent per Pagecall call, retries included."),
		metric.WithExplicitBucketBoundaries(1, 2, 3, 4, 5, 6, 8, 10))
	t.refusals, _ = meter.Int64Counter("pagecall.client.retry_budget.refusals",
		metric.WithUnit("{refusal}"), metric.WithDescription("Retries the policy allowed and the client's retry budget refused."))
	t.pauses, _ = meter.Int64Counter("pagecall.client.pauses",
		metric.WithUnit("{pause}"), metric.WithDescription("Attempts held, or failed at once, by the client-wide pause a 429 or 503 with Retry-After asked for."))
	return t
}

// spanName is the operationId, or the method for a request sent through
// Client.API (the semantic conventions' name when no template is known).
func spanName(c pagecall.CallInfo) string {
	if c.OperationID != "" {
		return c.OperationID
	}
	return c.Method
}

// callAttrs are the attributes that name a call: its operation and server.
// They never hold a path parameter value.
func callAttrs(c pagecall.CallInfo, extra int) []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, 5+extra)
	kv = append(kv,
		semconv.HTTPRequestMethodKey.String(c.Method),
		semconv.ServerAddress(c.ServerAddress),
		semconv.ServerPort(c.ServerPort),
	)
	if c.PathTemplate != "" {
		kv = append(kv, semconv.URLTemplate(c.PathTemplate))
	}
	if c.OperationID != "" {
		kv = append(kv, AttrOperation.String(c.OperationID))
	}
	return kv
}

// outcome appends the status and error.type of an answer or failure.
func outcome(kv []attribute.KeyValue, status int, errorType string) []attribute.KeyValue {
	if status != 0 {
		kv = append(kv, semconv.HTTPResponseStatusCode(status))
	}
	if errorType != "" {
		kv = append(kv, semconv.ErrorTypeKey.String(errorType))
	}
	return kv
}

func (t *telemetry) callStart(ctx context.Context, c pagecall.CallInfo) context.Context {
	ctx, _ = t.tracer.Start(ctx, spanName(c),
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(callAttrs(c, 0)...))
	return ctx
}

func (t *telemetry) attemptStart(ctx context.Context, a pagecall.AttemptStart) {
	p := t.propagator
	if p == nil {
		p = otel.GetTextMapPropagator()
	}
	p.Inject(ctx, a.Header)
}

func (t *telemetry) attemptEnd(ctx context.Context, a pagecall.AttemptEnd) {
	t.attempt.Record(ctx, a.Duration.Seconds(),
		metric.WithAttributes(outcome(callAttrs(a.Call, 2), a.StatusCode, a.ErrorType)...))
	span := trace.SpanFromContext(ctx)
	switch {
	case a.Retry:
		span.AddEvent(EventRetry, trace.WithAttributes(outcome([]attribute.KeyValue{
			AttrAttempt.Int(a.Attempt), AttrRetryWait.Float64(a.Wait.Seconds()), AttrRetryCause.String(string(a.WaitCause)),
		}, a.StatusCode, a.ErrorType)...))
	case a.BudgetRefused:
		t.refusals.Add(ctx, 1, metric.WithAttributes(callAttrs(a.Call, 0)...))
		span.AddEvent(EventBudgetRefused, trace.WithAttributes(outcome([]attribute.KeyValue{
			AttrAttempt.Int(a.Attempt),
		}, a.StatusCode, a.ErrorType)...))
	}
}

func (t *telemetry) pause(ctx context.Context, p pagecall.PauseWait) {
	t.pauses.Add(ctx, 1, metric.WithAttributes(outcome(callAttrs(p.Call, 1), p.StatusCode, "")...))
	trace.SpanFromContext(ctx).AddEvent(EventPause, trace.WithAttributes(
		AttrAttempt.Int(p.Attempt), AttrPauseWait.Float64(p.Wait.Seconds()),
		semconv.HTTPResponseStatusCode(p.StatusCode), AttrPauseDeadlineFirst.Bool(p.DeadlineFirst)))
}

func (t *telemetry) callEnd(ctx context.Context, c pagecall.CallEnd) {
	// One set for both instruments: WithAttributes would sort and copy
	// the attributes once for each.
	attrs := metric.WithAttributeSet(attribute.NewSet(outcome(callAttrs(c.Call, 2), c.StatusCode, c.ErrorType)...))
	t.callDuration.Record(ctx, c.Duration.Seconds(), attrs)
	t.callAttempts.Record(ctx, int64(c.Attempts), attrs)
	span := trace.SpanFromContext(ctx)
	if c.StatusCode != 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCode(c.StatusCode))
	}
	if c.Attempts > 1 {
		span.SetAttributes(semconv.HTTPRequestResendCount(c.Attempts - 1))
	}
	if c.ErrorType != "" {
		span.SetAttributes(semconv.ErrorTypeKey.String(c.ErrorType))
		span.SetStatus(codes.Error, c.ErrorType)
	}
	span.End()
}
