// Command wirenames applies package wirenames to one generated file, in
// place: go generate runs it on internal/wire/wire.gen.go (generate.go).
package main

import (
	"fmt"
	"os"

	"github.com/pplink/pagecall-go/internal/wirenames"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: wirenames FILE.go")
		os.Exit(2)
	}
	if err := wirenames.RenameFile(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "wirenames:", err)
		os.Exit(1)
	}
}
