// Command consumer is the program `make consumer` builds in a fresh module
// that requires this repository's modules from a module proxy, as a user's
// program does: one CreateUser and one DeleteUser against pagecalltest,
// with pagecallotel's tracing on, and a check of what came back and of the
// spans recorded. It exits 1, saying why, when anything differs.
package main

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/pplink/pagecall-go"
	pagecallotel "github.com/pplink/pagecall-go/otel"
	"github.com/pplink/pagecall-go/pagecalltest"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	srv, err := pagecalltest.NewServer()
	if err != nil {
		return err
	}
	defer srv.Close()

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	mp := sdkmetric.NewMeterProvider()
	c, err := pagecall.NewClient(pagecall.WithAPIKey(srv.APIKey()), pagecall.WithBaseURL(srv.URL()), pagecallotel.New(tp, mp))
	if err != nil {
		return err
	}

	const id = "consumer_user_1"
	created, err := c.CreateUser(ctx, pagecall.CreateUserRequest{UserID: id, Name: "consumer"})
	if err != nil {
		return fmt.Errorf("CreateUser: %w", err)
	}
	if created.UserID != id {
		return fmt.Errorf("CreateUser returned user %q, want %q", created.UserID, id)
	}
	deleted, err := c.DeleteUser(ctx, id)
	if err != nil {
		return fmt.Errorf("DeleteUser: %w", err)
	}
	if deleted.UserID != id {
		return fmt.Errorf("DeleteUser returned user %q, want %q", deleted.UserID, id)
	}

	var names []string
	for _, s := range spans.Ended() {
		names = append(names, s.Name())
	}
	if want := []string{"CreateUser", "DeleteUser"}; !slices.Equal(names, want) {
		return fmt.Errorf("pagecallotel recorded spans %q, want %q", names, want)
	}
	fmt.Printf("consumer: CreateUser and DeleteUser of %s against pagecalltest, spans %q\n", id, names)
	return nil
}
