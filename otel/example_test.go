package pagecallotel_test

import (
	"context"
	"fmt"
	"log"
	"slices"
	"strings"

	"github.com/pplink/pagecall-go"
	pagecallotel "github.com/pplink/pagecall-go/otel"
	"github.com/pplink/pagecall-go/pagecalltest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A call that gets a 503 and then a 200, against the mock: one span with a
// retry event, and the metric points of the call. Durations vary from run
// to run, so the example prints the counts of the histograms; a real
// program hands the providers an exporter (see the README's
// "Observability").
func ExampleNew() {
	srv, err := pagecalltest.NewServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.Inject(pagecalltest.Fault{Route: "DELETE /users/{user_id}", Status: 503, RetryAfter: "0"})

	spans := tracetest.NewSpanRecorder()
	reader := sdkmetric.NewManualReader()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	c, err := pagecall.NewClient(pagecall.WithAPIKey(srv.APIKey()), pagecall.WithBaseURL(srv.URL()),
		pagecallotel.NewWithPropagator(tp, mp, propagation.TraceContext{}))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.DeleteUser(context.Background(), "external_user_102932"); err != nil {
		log.Fatal(err)
	}

	for _, s := range spans.Ended() {
		fmt.Printf("span %s (%s) status=%s\n", s.Name(), s.SpanKind(), s.Status().Code)
		fmt.Println("  " + formatAttrs(s.Attributes(), "server.port"))
		for _, e := range s.Events() {
			fmt.Printf("  event %s %s\n", e.Name, formatAttrs(e.Attributes))
		}
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	skip := []string{"server.port", "server.address", "http.request.method", "url.template"}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		var lines []string // one a point, sorted: the SDK keeps them in no order
		switch d := m.Data.(type) {
		case metricdata.Histogram[float64]:
			for _, p := range d.DataPoints {
				lines = append(lines, fmt.Sprintf("metric %s (%s) count=%d %s", m.Name, m.Unit, p.Count, formatAttrs(p.Attributes.ToSlice(), skip...)))
			}
		case metricdata.Histogram[int64]:
			for _, p := range d.DataPoints {
				lines = append(lines, fmt.Sprintf("metric %s (%s) count=%d sum=%d %s", m.Name, m.Unit, p.Count, p.Sum, formatAttrs(p.Attributes.ToSlice(), skip...)))
			}
		}
		slices.Sort(lines)
		for _, l := range lines {
			fmt.Println(l)
		}
	}
	// Output:
	// span DeleteUser (client) status=Unset
	//   http.request.method=DELETE http.request.resend_count=1 http.response.status_code=200 pagecall.operation=DeleteUser server.address=127.0.0.1 url.template=/users/{user_id}
	//   event pagecall.retry error.type=503 http.response.status_code=503 pagecall.attempt=1 pagecall.retry.cause=retry_after pagecall.retry.wait=0
	// metric http.client.request.duration (s) count=1 error.type=503 http.response.status_code=503 pagecall.operation=DeleteUser
	// metric http.client.request.duration (s) count=1 http.response.status_code=200 pagecall.operation=DeleteUser
	// metric pagecall.client.call.duration (s) count=1 http.response.status_code=200 pagecall.operation=DeleteUser
	// metric pagecall.client.call.attempts ({attempt}) count=1 sum=2 http.response.status_code=200 pagecall.operation=DeleteUser
}

// formatAttrs prints attributes sorted by key, without the keys in skip
// (the mock's port changes from run to run).
func formatAttrs(kvs []attribute.KeyValue, skip ...string) string {
	var parts []string
	for _, kv := range kvs {
		if !slices.Contains(skip, string(kv.Key)) {
			parts = append(parts, string(kv.Key)+"="+kv.Value.String())
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
