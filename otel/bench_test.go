package pagecallotel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/pplink/pagecall-go"
	pagecallotel "github.com/pplink/pagecall-go/otel"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// benchKey is the bench server's API key.
const benchKey = "pk_bench_TfowtRYBs0E_trzoTaCmAXKzB1JxDDhi"

// benchUser is a DeleteUser answer shaped like the spec's example, as in
// the root package's BenchmarkDeleteUser.
var benchUser = []byte(`{"user":{"user_id":"external_user_102932","name":"scotty",` +
	`"profile_url":"https://www.gravatar.com/avatar/00000000000000000000000000000000?d=mp&f=y",` +
	`"default_member_type":"guest","access_token":"TfowtRYBs0E_trzoTaCmAXKzB1JxDDhi",` +
	`"created_at":"2023-01-01T01:00:00.000Z","updated_at":"2023-01-01T01:00:00.000Z"}}`)

// BenchmarkDeleteUserTelemetry measures what telemetry costs a call: the
// same DeleteUser over plain HTTP on loopback, against a handler that
// allocates as little as it can, with no hook (hook=none), with hooks
// that do nothing (hook=empty: the call state and the hook steps), and
// with pagecallotel on SDK providers (hook=otel: a sampled span ended into
// a no-op exporter, the W3C propagator, and the metrics aggregated by a
// ManualReader). The variants share one server and run in one process, so
// their ratio is the cost of telemetry.
func BenchmarkDeleteUserTelemetry(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+benchKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{strconv.Itoa(len(benchUser))}
		_, _ = w.Write(benchUser)
	}))
	defer srv.Close()

	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()

	for _, v := range []struct {
		name string
		opt  pagecall.Option
	}{
		{"none", nil},
		{"empty", pagecall.WithHooks(pagecall.Hooks{})},
		{"otel", pagecallotel.NewWithPropagator(tp, mp, propagation.TraceContext{})},
	} {
		b.Run("hook="+v.name, func(b *testing.B) {
			c, err := pagecall.NewClient(pagecall.WithAPIKey(benchKey), pagecall.WithBaseURL(srv.URL+"/v1"), v.opt)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.DeleteUser(ctx, "external_user_102932"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
