package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/spf13/pflag"
)

// defaultBaseURL is shown in help texts.
const defaultBaseURL = pagecall.DefaultBaseURL

// maxKeyFile bounds what --api-key-file reads: a key is a few dozen bytes.
const maxKeyFile = 4 << 10

// clientFlags are the flags of every command that calls the API.
type clientFlags struct {
	apiKeyFile string
	baseURL    string
	timeout    time.Duration
	maxRetries int
	verbose    bool
	fleet      fleetFlags // --redis (fleet.go)
}

// register adds the flags to fs.
func (f *clientFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.apiKeyFile, "api-key-file", "", "read the API key from this file (trailing newline trimmed) instead of $"+pagecall.EnvAPIKey)
	fs.StringVar(&f.baseURL, "base-url", "", "API base URL (default $"+pagecall.EnvBaseURL+", else "+defaultBaseURL+")")
	fs.DurationVar(&f.timeout, "timeout", pagecall.DefaultTimeout, "bound on each call, retries and waits included")
	fs.IntVar(&f.maxRetries, "max-retries", pagecall.DefaultMaxRetries, "retries after a failed attempt (0 disables retries)")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "print each attempt (status, time, retry) and log each retry to stderr (the API key is never logged)")
	f.fleet.register(fs)
}

// loadAPIKey returns the API key and where it came from: the --api-key-file
// file if given, else $PAGECALL_API_KEY. The error never contains the key.
func loadAPIKey(e *env, file string) (key, source string, err error) {
	if file != "" {
		key, err := readKeyFile(file)
		return key, file, err
	}
	key = e.getenv(pagecall.EnvAPIKey)
	if key == "" {
		return "", "", fmt.Errorf("no API key: set %s or use --api-key-file PATH", pagecall.EnvAPIKey)
	}
	return key, "$" + pagecall.EnvAPIKey, nil
}

// readKeyFile reads an API key file: at most maxKeyFile bytes, with the
// trailing line end removed.
func readKeyFile(path string) (string, error) { return readSecretFile(path, "API key file") }

// readSecretFile reads a file holding a secret (an API key, a webhook
// secret): at most maxKeyFile bytes, with the trailing line end removed.
// what names the file in errors, which never contain its content.
func readSecretFile(path, what string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if len(b) > maxKeyFile {
		return "", fmt.Errorf("%s %s is larger than %d bytes; is it the right file?", what, path, maxKeyFile)
	}
	secret := strings.TrimRight(string(b), "\r\n")
	if secret == "" {
		return "", fmt.Errorf("%s %s is empty", what, path)
	}
	return secret, nil
}

// newClient builds the SDK client from the flags and the environment. Every
// error it returns is a configuration error (exit status 2) that names no
// secret.
func (f *clientFlags) newClient(e *env, log *slog.Logger, extra ...pagecall.Option) (*pagecall.Client, error) {
	if f.timeout < 0 {
		return nil, usageErrorf("--timeout must not be negative")
	}
	if f.maxRetries < 0 {
		return nil, usageErrorf("--max-retries must not be negative")
	}
	key, source, err := loadAPIKey(e, f.apiKeyFile)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	base := f.baseURL
	if base == "" {
		base = e.getenv(pagecall.EnvBaseURL)
	}
	opts := []pagecall.Option{
		pagecall.WithAPIKey(key),
		pagecall.WithTimeout(f.timeout),
		pagecall.WithMaxRetries(f.maxRetries),
		pagecall.WithLogger(log),
		pagecall.WithUserAgent(userAgentProduct()),
	}
	if base != "" {
		opts = append(opts, pagecall.WithBaseURL(base))
	}
	if f.verbose {
		opts = append(opts, pagecall.WithHooks(verboseHooks(e.Stderr)))
	}
	fleet, err := f.fleet.options(context.Background(), e, log)
	if err != nil {
		return nil, err
	}
	opts = append(opts, fleet...)
	c, err := pagecall.NewClient(append(opts, extra...)...)
	switch {
	case errors.Is(err, pagecall.ErrInvalidAPIKey):
		return nil, usageErrorf("the API key from %s contains white space or control characters", source)
	case err != nil:
		return nil, withCode(exitUsage, err)
	}
	log.Debug("pagecall: client ready", "base_url", c.BaseURL(), "api_key", maskKey(key, source),
		"timeout", f.timeout, "max_retries", f.maxRetries)
	return c, nil
}

// maskKey describes a key for logs without any of its characters.
func maskKey(key, source string) string {
	return fmt.Sprintf("[%d chars from %s]", len(key), source)
}
