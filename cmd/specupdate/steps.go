package main

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// step is one check a spec version must pass, run in a module root. It
// writes what its command prints to out, which update shows as the test
// results and history discards (a failure's output is in its error).
type step struct {
	name string
	run  func(ctx context.Context, root string, out io.Writer) error
}

// anySpecTag is the build tag under which only the version-independent
// tests and the generated ones build. Test files written against the
// checked-in spec's own operations and fields (SendRoomMessage, say, which
// 2023 documents lack) carry `//go:build !anyspec`, and so do the tests of
// what no spec version changes (the fleet's shared limits in redis/, the
// bulk and distributed erasures, the module tooling): they start processes
// and servers, run once in make test, and would cost the 20-version run
// minutes each for nothing.
const anySpecTag = "anyspec"

// steps are what update runs after replacing the spec: build, vet and
// every test, since the new spec becomes the checked-in one. historySteps
// are what every published version must pass: the version-independent and
// generated tests (-tags anyspec), with -short to keep the 20-version run
// fast.
var (
	steps        = checkSteps(false)
	historySteps = checkSteps(true)
)

func checkSteps(history bool) []step {
	if history {
		// One go test and nothing else, because the 20-version run is bound
		// by CPU: it compiles every package (those without tests too) and
		// links every test binary, cmd/pagecall's TestMain links the CLI,
		// and go test's own vet checks (printf, tests, ...) run on each
		// package. A separate go vet ./... and go build ./... cost each
		// version about 15 CPU-seconds more (of 65), for what the checked-in
		// spec's make vet and make build already check of the hand-written
		// code.
		test := []string{"test", "-short", "-tags", anySpecTag, "./..."}
		return []step{
			{"go generate ./...", goCmd("generate", "./...")},
			{"generated code contract", checkGenerated},
			{"go " + strings.Join(test, " "), goCmd(test...)},
		}
	}
	return []step{
		{"go generate ./...", goCmd("generate", "./...")},
		{"generated code contract", checkGenerated},
		{"go build ./...", goCmd("build", "./...")},
		{"go vet ./...", goCmd("vet", "./...")},
		// -vet=off: the vet step before it has already vetted every package.
		{"go test -vet=off ./...", goCmd("test", "-vet=off", "./...")},
	}
}

// stepError is a failed step with the output it printed.
type stepError struct {
	step   string
	output []byte
	err    error
}

// Error names the step, its error and what it printed.
func (e *stepError) Error() string {
	return fmt.Sprintf("%s: %v\n%s", e.step, e.err, bytes.TrimRight(e.output, "\n"))
}

func goCmd(args ...string) func(context.Context, string, io.Writer) error {
	return func(ctx context.Context, root string, w io.Writer) error {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			return &stepError{"go " + strings.Join(args, " "), out, err}
		}
		_, err = w.Write(out)
		return err
	}
}

// checkGenerated checks, on the generated source, what package pagecall is
// written against: a type User, and DeleteUserResponse.JSON200 of type
// *struct{ User User ... } (a value, so the overlay's `required: [user]`
// took effect). It also checks that no "#DEPRECATED#" placeholder made it
// into internal/wire.
func checkGenerated(_ context.Context, root string, _ io.Writer) error {
	fail := func(format string, args ...any) error {
		return &stepError{"generated code contract", nil, fmt.Errorf(format, args...)}
	}
	files, err := filepath.Glob(filepath.Join(root, wireDir, "*.go"))
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(deprecatedPlaceholder)) {
			return fail("%s contains %q: the overlay's example removal did not apply", f, deprecatedPlaceholder)
		}
	}
	src := filepath.Join(root, genFile)
	file, err := parser.ParseFile(token.NewFileSet(), src, nil, parser.SkipObjectResolution)
	if err != nil {
		return fail("parse %s: %v", src, err)
	}
	types := map[string]ast.Expr{}
	for _, d := range file.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
			for _, s := range g.Specs {
				ts := s.(*ast.TypeSpec)
				types[ts.Name.Name] = ts.Type
			}
		}
	}
	if _, ok := types["User"].(*ast.StructType); !ok {
		return fail("%s: no struct type User", src)
	}
	resp, ok := types["DeleteUserResponse"].(*ast.StructType)
	if !ok {
		return fail("%s: no struct type DeleteUserResponse", src)
	}
	json200 := field(resp, "JSON200")
	if json200 == nil {
		return fail("%s: DeleteUserResponse has no field JSON200", src)
	}
	star, ok := json200.(*ast.StarExpr)
	body, ok2 := ast.Unparen(starX(star, ok)).(*ast.StructType)
	if !ok || !ok2 {
		return fail("%s: DeleteUserResponse.JSON200 is not *struct{...}", src)
	}
	if id, ok := field(body, "User").(*ast.Ident); !ok || id.Name != "User" {
		return fail("%s: DeleteUserResponse.JSON200 has no field `User User` (a *User means `user` is not required: the overlay did not apply)", src)
	}
	return nil
}

func starX(s *ast.StarExpr, ok bool) ast.Expr {
	if !ok {
		return nil
	}
	return s.X
}

// field returns the type of the named field of s, or nil.
func field(s *ast.StructType, name string) ast.Expr {
	for _, f := range s.Fields.List {
		for _, n := range f.Names {
			if n.Name == name {
				return f.Type
			}
		}
	}
	return nil
}
