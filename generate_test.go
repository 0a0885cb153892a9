package pagecall

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestGeneratorConfigsAgree: the oapi-codegen runs (generate.go) must
// see the same spec through the same overlay and name things the same way,
// or operations.gen.go would call names package wire does not have. Only the
// package, the output and the templates may differ.
func TestGeneratorConfigsAgree(t *testing.T) {
	load := func(path string) map[string]any {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		delete(m, "package")
		delete(m, "output")
		delete(m, "generate")
		if oo, ok := m["output-options"].(map[string]any); ok {
			delete(oo, "user-templates")
		}
		return m
	}
	want := load("gen/config.yaml")
	for _, path := range []string{"gen/methods.yaml", "gen/conformance.yaml", "gen/doc.yaml", "gen/cli.yaml"} {
		if got := load(path); !reflect.DeepEqual(got, want) {
			t.Errorf("%s differs from gen/config.yaml beyond package, output, generate and templates:\n%v\nwant\n%v", path, got, want)
		}
	}
}

// forbiddenInDocs are words that must not reach a doc comment of this
// package: names only the generator makes (a reader cannot find them in
// the API's documentation, and wire, which declares them, is internal), and
// the spec's prose marker for a deprecated field, which Go tools ignore.
var forbiddenInDocs = []string{"JSONResponseBody", "JSONRequestBody", "HttpRequestDoer", "*[Deprecated]*"}

// parseDir parses the non-test Go files of dir, with comments.
func parseDir(t *testing.T, dir string) (*token.FileSet, []*ast.File) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return fset, files
}

// docTexts returns what `go doc -all` shows of a package's comments: the
// package doc and the doc of every exported declaration, with the doc and
// line comment of every field of an exported struct, keyed by where it is.
func docTexts(t *testing.T, dir, importPath string) map[string]string {
	t.Helper()
	fset, files := parseDir(t, dir)
	p, err := doc.NewFromFiles(fset, files, importPath)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{"package": p.Doc}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			out[strings.Join(v.Names, ",")] = v.Doc
			for _, s := range v.Decl.Specs {
				if vs, ok := s.(*ast.ValueSpec); ok {
					out[vs.Names[0].Name+" (spec)"] = vs.Doc.Text() + vs.Comment.Text()
				}
			}
		}
	}
	funcs := func(fs []*doc.Func) {
		for _, f := range fs {
			name := f.Name
			if f.Recv != "" {
				name = f.Recv + "." + f.Name
			}
			out[name] = f.Doc
		}
	}
	values(p.Consts)
	values(p.Vars)
	funcs(p.Funcs)
	for _, ty := range p.Types {
		out[ty.Name] = ty.Doc
		values(ty.Consts)
		values(ty.Vars)
		funcs(ty.Funcs)
		funcs(ty.Methods)
		for _, s := range ty.Decl.Specs {
			st, ok := s.(*ast.TypeSpec).Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, f := range st.Fields.List {
				for _, n := range f.Names {
					out[ty.Name+"."+n.Name] = f.Doc.Text() + f.Comment.Text()
				}
			}
		}
	}
	return out
}

// TestDocsNameNoGeneratorTypes: the root's documentation, generated alias
// docs included, says things in words, never with a generator-made name or
// the spec's "*[Deprecated]*" marker.
func TestDocsNameNoGeneratorTypes(t *testing.T) {
	docs := docTexts(t, ".", "github.com/pplink/pagecall-go")
	if _, ok := docs["Room"]; !ok {
		t.Fatal("no doc for Room: the parse missed operations.gen.go")
	}
	for where, text := range docs {
		for _, word := range forbiddenInDocs {
			if strings.Contains(text, word) {
				t.Errorf("doc of %s contains %q:\n%s", where, word, text)
			}
		}
	}
}

// TestWireNamesNoGeneratorTypes: the generated package's source, so its
// `go doc -all` too, has no generator-made name and no "*[Deprecated]*"
// marker: internal/wirenames renames what oapi-codegen's client templates
// call <Operation>JSONRequestBody and HttpRequestDoer, and the overlay
// rewrites the marker, in every spec version.
func TestWireNamesNoGeneratorTypes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("internal", "wire", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no internal/wire/*.go: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			for _, word := range forbiddenInDocs {
				if strings.Contains(line, word) {
					t.Errorf("%s:%d has %q: %s", f, i+1, word, strings.TrimSpace(line))
				}
			}
		}
	}
}

// hasDeprecatedParagraph reports whether a doc comment has a paragraph
// that starts with "Deprecated: ", the form gopls and staticcheck read.
func hasDeprecatedParagraph(text string) bool {
	for _, para := range strings.Split(text, "\n\n") {
		if strings.HasPrefix(strings.TrimSpace(para), "Deprecated: ") {
			return true
		}
	}
	return false
}

// TestHasDeprecatedParagraph pins the rule gopls and staticcheck apply: a
// "Deprecated: " paragraph counts only at the start of a paragraph of its
// own, not mid-sentence and not as a line inside another paragraph.
func TestHasDeprecatedParagraph(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"Deprecated: use Layout.\n", true},
		{"ID of the room.\n\nDeprecated: use Layout.\n", true},
		{"ID of the room.\n\n  Deprecated: use Layout.\n", true},
		{"ID of the room. Deprecated: use Layout.\n", false},
		{"ID of the room.\nDeprecated: use Layout.\n", false},
		{"ID of the room.\n\nDeprecated use Layout.\n", false},
		{"ID of the room.\n", false},
	} {
		if got := hasDeprecatedParagraph(tc.text); got != tc.want {
			t.Errorf("hasDeprecatedParagraph(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

// TestDocTextsReadsEveryDocComment pins what the doc tests look at: the
// doc of a const block and of each constant in it, of a type, and the doc
// and line comment of each field of an exported struct.
func TestDocTextsReadsEveryDocComment(t *testing.T) {
	dir := t.TempDir()
	src := `// Package p is a fixture.
package p

// Kind is a kind.
type Kind string

// Kinds.
const (
	// KindA is doc-of-constant.
	KindA Kind = "a" // line-of-constant
)

// T is doc-of-type.
type T struct {
	// F is doc-of-field.
	F string
	G int // line-of-field
}
`
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	docs := docTexts(t, dir, "example.com/p")
	for where, want := range map[string]string{
		"package": "fixture", "Kind": "a kind", "KindA": "Kinds",
		"KindA (spec)": "doc-of-constant", "T": "doc-of-type",
		"T.F": "doc-of-field", "T.G": "line-of-field",
	} {
		if !strings.Contains(docs[where], want) {
			t.Errorf("docTexts[%q] = %q, want it to contain %q", where, docs[where], want)
		}
	}
	if !strings.Contains(docs["KindA (spec)"], "line-of-constant") {
		t.Errorf("docTexts[%q] = %q, want the constant's line comment too", "KindA (spec)", docs["KindA (spec)"])
	}
}
