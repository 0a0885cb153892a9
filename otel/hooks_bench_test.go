package pagecallotel

import (
	"context"
	"testing"
	"time"

	"github.com/pplink/pagecall-go"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// BenchmarkTelemetryHooks measures the telemetry of one successful call
// alone, without the HTTP round trip whose time varies far more than it on
// a shared machine: the hooks a call runs (CallStart, AttemptStart with
// the propagator, AttemptEnd, CallEnd), on SDK providers with a no-op
// exporter and a ManualReader, as BenchmarkDeleteUserTelemetry's otel
// variant uses.
func BenchmarkTelemetryHooks(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
	t := newTelemetry(tp, mp)
	t.propagator = propagation.TraceContext{}
	ci := pagecall.CallInfo{OperationID: "DeleteUser", Method: "DELETE", PathTemplate: "/users/{user_id}", ServerAddress: "api.pagecall.com", ServerPort: 443}
	b.ReportAllocs()
	for b.Loop() {
		ctx := t.callStart(context.Background(), ci)
		// A zero AttemptHeader drops what the propagator sets, after it
		// has formatted it.
		t.attemptStart(ctx, pagecall.AttemptStart{Call: ci, Attempt: 1})
		t.attemptEnd(ctx, pagecall.AttemptEnd{Call: ci, Attempt: 1, StatusCode: 200, Duration: time.Millisecond})
		t.callEnd(ctx, pagecall.CallEnd{Call: ci, StatusCode: 200, Attempts: 1, Duration: time.Millisecond})
	}
}
