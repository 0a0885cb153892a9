// Command pagecall is the command-line client for the Pagecall API.
//
//	pagecall demo                                 # see the SDK work, no key needed
//	pagecall users delete USER_ID...              # delete users
//	pagecall users delete --file ids.txt --dry-run
//	pagecall mock                                 # a local mock API to try it on
//	pagecall version
//
// The API key comes from PAGECALL_API_KEY or --api-key-file; the base URL
// from PAGECALL_BASE_URL or --base-url. Run "pagecall --help" for the exit
// statuses and each command's --help for its flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	e := &env{
		Stdin:            os.Stdin,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		StderrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		StdoutIsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
		Getenv:           os.Getenv,
		Signals:          sigs,
	}
	code := run(context.Background(), e, os.Args[1:])
	signal.Stop(sigs)
	os.Exit(code)
}
