// Command wirenames applies package wirenames to one generated file, in
// place: go generate runs it on internal/wire/wire.gen.go (generate.go).
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/pplink/pagecall-go/internal/wirenames"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run renames the one file args name and returns the exit code: 0 when
// done, 1 when the file cannot be renamed, 2 for a wrong command line.
func run(args []string, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: wirenames FILE.go")
		return 2
	}
	if err := wirenames.RenameFile(args[0]); err != nil {
		fmt.Fprintln(stderr, "wirenames:", err)
		return 1
	}
	return 0
}
