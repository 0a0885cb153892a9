package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/pplink/pagecall-go/webhook"
	"github.com/spf13/cobra"
)

// newWebhookCmd is the "webhook" command group.
func newWebhookCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Receive Pagecall's webhooks locally",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newWebhookListenCmd(e), newWebhookSecretCmd(e))
	return cmd
}

type listenOptions struct {
	addr       string
	secretFile string
	header     string
	verbose    bool
}

func newWebhookListenCmd(e *env) *cobra.Command {
	var o listenOptions
	cmd := &cobra.Command{
		Use:   "listen --secret-file FILE [--addr 127.0.0.1:8080]",
		Short: "Receive webhooks on a loopback address and print each event",
		Long: `Receive Pagecall's room webhooks at http://ADDR/ (any path) until
interrupted, with the handler of the SDK's webhook package, and print each
event on stdout as one JSON line: {"action": ..., "payload": {...}}.

Every delivery must carry the header --header with the secret in
--secret-file (its trailing line end is ignored): create the room's webhook
with the same header and secret. It answers as the SDK's handler does:
200 for an event, 405 for a method other than POST, 401 for a missing or
wrong secret, 413 for a body over 64 KiB, 400 for malformed JSON or no
action. Refusals are logged on stderr, never with the secret.

It listens on loopback only; Ctrl-C stops it (exit status 130).`,
		Example: `  pagecall webhook secret > secret.txt
  pagecall webhook listen --secret-file secret.txt --addr 127.0.0.1:8080
  pagecall trigger session-joined --room ROOM_ID --user ada   # in another shell, with pagecall mock`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runListen(cmd.Context(), e, &o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "loopback address to listen on (port 0 picks a free one)")
	fs.StringVar(&o.secretFile, "secret-file", "", "file holding the secret every delivery must carry (required)")
	fs.StringVar(&o.header, "header", webhook.DefaultSecretHeader, "the header that carries the secret")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "also log each delivery handled")
	_ = cmd.MarkFlagRequired("secret-file")
	return cmd
}

// runListen is "pagecall webhook listen".
func runListen(ctx context.Context, e *env, o *listenOptions) error {
	if checkLoopback(o.addr) != nil {
		return usageErrorf("--addr %q: webhook listen listens on loopback only (e.g. 127.0.0.1:8080)", o.addr)
	}
	secret, err := readSecretFile(o.secretFile, "--secret-file")
	if err != nil {
		return withCode(exitUsage, err)
	}
	if err := webhook.ValidateSecretHeader(o.header, secret); err != nil {
		return withCode(exitUsage, err)
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(e.Stderr, &slog.HandlerOptions{Level: level}))

	var mu sync.Mutex // deliveries arrive concurrently; lines must not interleave
	print := func(_ context.Context, ev webhook.Event) error {
		line, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		_, err = fmt.Fprintf(e.Stdout, "%s\n", line)
		return err // a closed stdout: the sender hears 500 and may retry
	}
	h := webhook.NewHandler(print, webhook.WithSecretHeader(o.header, secret), webhook.WithLogger(log))

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return withCode(exitFailure, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(e.Stderr, "Listening for Pagecall webhooks on http://%s/ (secret header %s)\n", ln.Addr(), o.header)
	fmt.Fprintln(e.Stderr, "Press Ctrl-C to stop.")

	ctx, sw := watchSignals(ctx, e.Signals, e.Stderr, "stopping the listener")
	defer sw.Release()
	select {
	case err := <-served:
		return withCode(exitFailure, err)
	case <-ctx.Done():
	case <-sw.Stopped():
	}
	// Let deliveries in flight be answered; a second Ctrl-C cuts them.
	shutdown, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return withCode(exitFailure, err)
	}
	if sw.Interrupted() {
		return withCode(exitInterrupted, nil)
	}
	return nil
}

func newWebhookSecretCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "secret",
		Short: "Print a new random secret for a room's webhook header",
		Long: `Print a new random secret (130 bits from the system's secure source) for
a room's webhook header and "pagecall webhook listen --secret-file".`,
		Example: `  (umask 077; pagecall webhook secret > secret.txt)`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			s, err := webhook.NewSecret()
			if err != nil {
				return withCode(exitFailure, err)
			}
			_, err = fmt.Fprintln(e.Stdout, s)
			return err
		},
	}
}
