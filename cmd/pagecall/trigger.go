package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/pagecalltest"
	"github.com/spf13/cobra"
)

// mockBaseURL is where "pagecall mock" serves by default, and so where
// "pagecall trigger" looks for it.
const mockBaseURL = "http://127.0.0.1:4010/v1"

// triggerEvents maps the trigger command's event names to Pagecall's
// actions.
var triggerEvents = map[string]string{
	"session-joined": pagecalltest.ActionSessionJoined,
	"session-left":   pagecalltest.ActionSessionLeft,
}

type triggerOptions struct {
	room, user string
	baseURL    string
	apiKeyFile string
	timeout    time.Duration
}

func newTriggerCmd(e *env) *cobra.Command {
	var o triggerOptions
	cmd := &cobra.Command{
		Use:   "trigger session-joined|session-left --room ID --user ID",
		Short: "Make the mock deliver a room's session webhook",
		Long: `Make a user join or leave a room of a running "pagecall mock", which
then POSTs the webhook Pagecall sends for it to the room's webhook URL,
with the room's webhook headers.

The room must have been created with a webhook on a loopback URL (the mock
delivers nowhere else); "pagecall webhook listen" receives it. A join
starts a session of the user in the room (adding the user to an open or
public room as a member, as Pagecall does); a leave ends the user's
latest session.

It prints one JSON object: the webhook's URL, the body sent (event) and
the receiver's answer (status). The exit status is 0 when the receiver
answered 2xx, 1 when it answered otherwise, when the delivery failed or
the mock refused (an unknown room or user, a room without a webhook),
and 2 for a usage error.

The mock is found at --base-url, else $` + pagecall.EnvBaseURL + `, else ` + mockBaseURL + `,
which must be on loopback. The key is the mock's: --api-key-file, else
$` + pagecall.EnvAPIKey + `, else the mock's default key.`,
		Example: `  pagecall trigger session-joined --room 6634c1e2000000000000000a --user ada
  pagecall trigger session-left --room 6634c1e2000000000000000a --user ada`,
		ValidArgs: []string{"session-joined", "session-left"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || triggerEvents[args[0]] == "" {
				return fmt.Errorf("want one event, session-joined or session-left; got %q", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrigger(cmd.Context(), e, triggerEvents[args[0]], &o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.room, "room", "", "the room's ID (required)")
	fs.StringVar(&o.user, "user", "", "the user's ID (required)")
	fs.StringVar(&o.baseURL, "base-url", "", "the mock's API base URL (default $"+pagecall.EnvBaseURL+", else "+mockBaseURL+")")
	fs.StringVar(&o.apiKeyFile, "api-key-file", "", "read the mock's key from this file (default $"+pagecall.EnvAPIKey+", else "+pagecalltest.APIKey+")")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "bound on the whole trigger, delivery included")
	_ = cmd.MarkFlagRequired("room")
	_ = cmd.MarkFlagRequired("user")
	return cmd
}

// runTrigger is "pagecall trigger".
func runTrigger(ctx context.Context, e *env, action string, o *triggerOptions) error {
	if o.room == "" || o.user == "" {
		return usageErrorf("--room and --user must not be empty")
	}
	if o.timeout <= 0 {
		return usageErrorf("--timeout must be positive")
	}
	endpoint, err := controlURL(firstNonEmpty(o.baseURL, e.getenv(pagecall.EnvBaseURL), mockBaseURL))
	if err != nil {
		return withCode(exitUsage, err)
	}
	key := pagecalltest.APIKey
	if o.apiKeyFile != "" || e.getenv(pagecall.EnvAPIKey) != "" {
		if key, _, err = loadAPIKey(e, o.apiKeyFile); err != nil {
			return withCode(exitUsage, err)
		}
	}

	body, _ := json.Marshal(pagecalltest.TriggerRequest{RoomID: o.room, UserID: o.user, Action: action})
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return withCode(exitUsage, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	// The mock is on loopback: no proxy, whatever the environment says.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return withCode(exitFailure, fmt.Errorf("is \"pagecall mock\" running? %w", err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return withCode(exitFailure, fmt.Errorf("reading the mock's answer: %w", err))
	}
	var res pagecalltest.TriggerResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return withCode(exitFailure, fmt.Errorf("%s answered %s, not a trigger result: is it \"pagecall mock\"?", endpoint, resp.Status))
	}
	if res.URL != "" { // the session changed: say what was sent, whatever came of it
		line, _ := json.Marshal(res)
		fmt.Fprintf(e.Stdout, "%s\n", line)
	}
	switch {
	case resp.StatusCode != http.StatusOK:
		return withCode(exitFailure, fmt.Errorf("the mock: %s: %s", resp.Status, res.Message))
	case res.Status < 200 || res.Status > 299:
		return withCode(exitFailure, fmt.Errorf("the webhook receiver at %s answered %d %s", res.URL, res.Status, http.StatusText(res.Status)))
	}
	return nil
}

// controlURL is the mock's trigger endpoint for the API base URL base,
// which must be on loopback.
func controlURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("base URL %q: want the mock's URL, e.g. %s", base, mockBaseURL)
	}
	if checkLoopback(net.JoinHostPort(u.Hostname(), "0")) != nil {
		return "", errors.New("trigger drives a local \"pagecall mock\": the base URL " + base + " is not on loopback")
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: pagecalltest.ControlTriggerSessionPath}).String(), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
