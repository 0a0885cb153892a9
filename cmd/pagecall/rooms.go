package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pplink/pagecall-go"
	"github.com/spf13/cobra"
)

// The hand-written commands of the rooms resource, beside those derived
// from the spec. They use only what every published spec version has
// (UpdateRoom's is_terminated, GetUser's access_token), so they build with
// any of them.

// newRoomsTerminateCmd is "pagecall rooms terminate ROOM_ID".
func newRoomsTerminateCmd(e *env, update *apiOp) *cobra.Command {
	var (
		client clientFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "terminate ROOM_ID [flags]",
		Short: "End a room's meeting: update the room with is_terminated true",
		Long: `Terminate a room: UpdateRoom with {"is_terminated": true}. Nobody can join
the room afterwards. Prints the updated room as one JSON object.`,
		Example: `  pagecall rooms terminate 000585f36eed9e8fb6b655b4
  pagecall rooms list --is-terminated=false --all --format jsonl   # the rooms still open`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return withCode(exitUsage, err)
			}
			return callSDK(cmd.Context(), e, &client, func(ctx context.Context, c *pagecall.Client, _ <-chan struct{}) error {
				room, err := c.UpdateRoom(ctx, args[0], pagecall.UpdateRoomRequest{IsTerminated: pagecall.Ptr(true)})
				if err != nil {
					return err
				}
				return newPrinter(e.Stdout, format, e.StdoutIsTerminal, update).one(room)
			})
		},
	}
	cmd.Flags().StringVarP(&format, "format", "o", "", "output: json, jsonl or table (default: table on a terminal, else json)")
	client.register(cmd.Flags())
	return cmd
}

// newRoomsURLCmd is "pagecall rooms url ROOM_ID --user USER_ID".
func newRoomsURLCmd(e *env) *cobra.Command {
	var (
		client clientFlags
		user   string
	)
	cmd := &cobra.Command{
		Use:   "url ROOM_ID --user USER_ID [flags]",
		Short: "Print the URL at which a user joins a room's meeting",
		Long: `Print the URL at which a user joins the meeting in a room:
` + pagecall.AppURL + `/meet?room_id=…&access_token=…, with the user's access
token, fetched with GetUser. Anyone holding the URL joins as that user.`,
		Example: `  pagecall rooms url 000585f36eed9e8fb6b655b4 --user external_user_102932
  open "$(pagecall rooms url "$ROOM_ID" --user u1)"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(args[0]) == "" {
				return usageErrorf("ROOM_ID is empty")
			}
			return callSDK(cmd.Context(), e, &client, func(ctx context.Context, c *pagecall.Client, _ <-chan struct{}) error {
				u, err := c.GetUser(ctx, user)
				if err != nil {
					return err
				}
				if u.AccessToken == "" {
					return fmt.Errorf("user %s has no access_token in the answer", user)
				}
				_, err = fmt.Fprintln(e.Stdout, pagecall.MeetURL(args[0], u.AccessToken))
				return err
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "the user_id of the user who joins (required)")
	_ = cmd.MarkFlagRequired("user")
	client.register(cmd.Flags())
	return cmd
}

// callSDK makes the client from the flags and runs call with it. The first
// SIGINT or SIGTERM closes stop and lets the request in flight finish (a
// call making several requests should start no more); the second aborts
// it. It maps the outcome to the exit status: a path parameter
// the SDK refused (nothing sent) 2, interrupted 130, any other failure 1.
func callSDK(ctx context.Context, e *env, flags *clientFlags, call func(ctx context.Context, c *pagecall.Client, stop <-chan struct{}) error) error {
	c, err := flags.newClient(e, newLogger(e.Stderr, flags.verbose))
	if err != nil {
		return err
	}
	ctx, sw := watchSignals(ctx, e.Signals, e.Stderr, "finishing the request in flight; press Ctrl-C again to abort")
	defer sw.Release()
	err = call(ctx, c, sw.Stopped())
	sw.Release()
	switch {
	case errors.Is(err, pagecall.ErrInvalidPathParam):
		return withCode(exitUsage, err)
	case sw.Interrupted():
		return withCode(exitInterrupted, err)
	case err != nil:
		return withCode(exitFailure, err)
	}
	return nil
}
