package pagecall

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestLongTestsAreListed keeps make test (go test -short) and make
// test-long together equal to every test: each test function that checks
// testing.Short(), directly or through a helper of its package, skips or
// shrinks under make test, so it must be named in the Makefile's
// LONG_TESTS, which make test-long (and so make ci) runs. Every name
// listed must be such a test.
func TestLongTestsAreListed(t *testing.T) {
	t.Parallel()
	mk, err := os.ReadFile("Makefile")
	if err != nil {
		t.Skipf("no Makefile here: %v", err)
	}
	m := regexp.MustCompile(`(?m)^LONG_TESTS \?= (.+)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile has no LONG_TESTS ?= line")
	}
	listed := strings.Split(strings.TrimSpace(string(m[1])), "|")

	// Test functions that reach testing.Short, by package directory.
	var short []string
	err = filepath.WalkDir(".", func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); dir != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		short = append(short, shortTests(t, files)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(short) == 0 {
		t.Fatal("found no test that checks testing.Short(): the scan is broken")
	}
	for _, name := range short {
		if !slices.Contains(listed, name) {
			t.Errorf("%s checks testing.Short(), so make test skips or shrinks it, but the Makefile's LONG_TESTS (make test-long) does not list it", name)
		}
	}
	for _, name := range listed {
		if !slices.Contains(short, name) {
			t.Errorf("LONG_TESTS lists %s, which is not a test that checks testing.Short()", name)
		}
	}
}

// shortTests returns the Test functions of one package's test files that
// call testing.Short, directly or through functions of the same files.
func shortTests(t *testing.T, files []string) []string {
	calls := map[string][]string{} // function -> the functions it calls by name
	reaches := map[string]bool{}   // function -> calls testing.Short itself
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil || fn.Recv != nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				switch f := call.Fun.(type) {
				case *ast.SelectorExpr:
					if x, ok := f.X.(*ast.Ident); ok && x.Name == "testing" && f.Sel.Name == "Short" {
						reaches[fn.Name.Name] = true
					}
				case *ast.Ident:
					calls[fn.Name.Name] = append(calls[fn.Name.Name], f.Name)
				}
				return true
			})
			if _, ok := calls[fn.Name.Name]; !ok {
				calls[fn.Name.Name] = nil
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for fn, callees := range calls {
			if reaches[fn] {
				continue
			}
			for _, c := range callees {
				if reaches[c] {
					reaches[fn], changed = true, true
					break
				}
			}
		}
	}
	var out []string
	for fn := range calls {
		if reaches[fn] && strings.HasPrefix(fn, "Test") && fn != "TestMain" {
			out = append(out, fn)
		}
	}
	return out
}
