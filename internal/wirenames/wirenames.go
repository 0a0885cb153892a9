// Package wirenames renames what oapi-codegen's built-in client templates
// call things in package wire, where the name says how the code was made
// rather than what it is:
//
//   - <Operation>JSONRequestBody, the second name of an operation's request
//     body model, becomes <Operation>RequestBody;
//   - HttpRequestDoer, what the client sends requests through, becomes Doer.
//
// go generate runs its command (./internal/wirenames/cmd) on
// internal/wire/wire.gen.go right after oapi-codegen writes the file
// (generate.go), and cmd/specupdate applies Rename to the code it generates
// in memory, so that both see the same names. Each name is replaced as a
// whole word, in code and in comments alike, so a doc comment names the
// type it documents.
// A new name that the file already declares, or an old name left anywhere
// after the pass, is an error: generation stops rather than write a file
// that would not compile or that still shows a generator-made name.
//
// A rename pass, not templates of our own: the names sit in oapi-codegen's
// client templates, and overriding those would mean maintaining a copy of
// them. gofmt -r rewrites identifiers but not comments, and takes one rule a
// name; gopls rename needs a type-checked build of the module for each name.
package wirenames

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"sort"
	"strings"
)

// requestBodySuffix and doer are the generator's names this pass removes.
const (
	requestBodySuffix = "JSONRequestBody"
	doerName          = "HttpRequestDoer"
)

// RenameFile rewrites file in place; it leaves a file that needs no change
// untouched.
func RenameFile(file string) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	out, err := Rename(file, src)
	if err != nil {
		return err
	}
	if bytes.Equal(out, src) {
		return nil
	}
	return os.WriteFile(file, out, 0o644)
}

// Rename returns src with every generator-made type name it declares
// replaced, formatted.
func Rename(file string, src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	declared := topLevelNames(f)
	renames := map[string]string{}
	for name := range declared {
		switch {
		case name == doerName:
			renames[name] = "Doer"
		case strings.HasSuffix(name, requestBodySuffix) && len(name) > len(requestBodySuffix):
			renames[name] = strings.TrimSuffix(name, requestBodySuffix) + "RequestBody"
		}
	}
	if len(renames) == 0 {
		return src, checkLeftovers(file, src)
	}
	olds := make([]string, 0, len(renames))
	for old, nu := range renames {
		if declared[nu] {
			return nil, fmt.Errorf("%s: cannot rename %s to %s: the file already declares %s", file, old, nu, nu)
		}
		olds = append(olds, regexp.QuoteMeta(old))
	}
	// Longest first, so that no name matches inside a longer one's place.
	sort.Slice(olds, func(i, j int) bool { return len(olds[i]) > len(olds[j]) })
	words := regexp.MustCompile(`\b(` + strings.Join(olds, "|") + `)\b`)
	out := words.ReplaceAllFunc(src, func(old []byte) []byte { return []byte(renames[string(old)]) })
	out, err = format.Source(out)
	if err != nil {
		return nil, fmt.Errorf("%s after renaming: %w", file, err)
	}
	return out, checkLeftovers(file, out)
}

// checkLeftovers fails if src still has a generator-made name: one the
// generator wrote in a form this pass does not know (part of a longer
// identifier, say).
func checkLeftovers(file string, src []byte) error {
	for i, line := range bytes.Split(src, []byte("\n")) {
		for _, word := range []string{requestBodySuffix, doerName} {
			if bytes.Contains(line, []byte(word)) {
				return fmt.Errorf("%s:%d still says %s after renaming: %s", file, i+1, word, bytes.TrimSpace(line))
			}
		}
	}
	return nil
}

// topLevelNames returns the names f declares at package level: types,
// functions (not methods), constants and variables.
func topLevelNames(f *ast.File) map[string]bool {
	names := map[string]bool{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				names[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					names[s.Name.Name] = true
				case *ast.ValueSpec:
					for _, n := range s.Names {
						names[n.Name] = true
					}
				}
			}
		}
	}
	return names
}
