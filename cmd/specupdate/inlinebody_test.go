package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInlineBodyGenerates: an operation whose JSON request body is an
// unnamed inline schema (none in the published versions; the overlay names
// them) generates code that builds. oapi-codegen then declares
// <Op>JSONRequestBody as a type of its own rather than an alias of a model,
// internal/wirenames renames it <Op>RequestBody, and the root's and the
// CLI's templates must name that, not the generator's name. A scratch copy
// of the module, UpdateUser's body inlined, is regenerated and built.
func TestInlineBodyGenerates(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates and builds a scratch copy of the module: make test-long runs it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	files, err := moduleFiles(ctx, moduleRoot)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := copyFiles(moduleRoot, dir, files); err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(dir, specFile)
	spec, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	const ref = `$ref: "#/components/schemas/UpdateUserRequest"`
	if strings.Count(string(spec), ref) != 1 {
		t.Fatalf("the spec has %d %s, want 1 (UpdateUser's body)", strings.Count(string(spec), ref), ref)
	}
	indent := strings.Repeat(" ", 14)
	inline := "type: object\n" + indent + "properties:\n" + indent + "  name:\n" + indent + "    type: string"
	if err := os.WriteFile(specPath, []byte(strings.Replace(string(spec), ref, inline, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"generate", "./..."}, {"build", "./..."}} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for file, want := range map[string]string{
		"internal/wire/wire.gen.go":      "type UpdateUserRequestBody UpdateUserJSONBody",
		"operations.gen.go":              "type UpdateUserRequestBody = wire.UpdateUserRequestBody",
		"cmd/pagecall/operations.gen.go": "var body pagecall.UpdateUserRequestBody",
	} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %q", file, want)
		}
		if strings.Contains(string(data), "JSONRequestBody") {
			t.Errorf("%s still names a JSONRequestBody", file)
		}
	}
}
