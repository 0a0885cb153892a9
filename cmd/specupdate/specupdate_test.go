package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoOverlay is the module's api/overlay.yaml, from this package's directory.
var repoOverlay = filepath.Join("..", "..", overlayFile)

// minimalSpec is a valid document with the DeleteUser operation as Pagecall
// publishes it, including its `required: [users]` erratum. Tests patch it.
const minimalSpec = `openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /users/{user_id}:
    parameters:
      - {in: path, name: user_id, required: true, schema: {type: string}}
    delete:
      operationId: DeleteUser
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [users]
                properties:
                  user: {$ref: "#/components/schemas/User"}
components:
  schemas:
    User:
      type: object
      properties:
        user_id: {type: string}
        tags: {type: array, items: {type: string}}
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckSpecErrorsNameFileAndProblem(t *testing.T) {
	t.Parallel()
	staleOverlay := writeFile(t, t.TempDir(), "overlay.yaml", `overlay: 1.1.0
info: {title: stale, version: "1"}
actions:
  - target: $.paths['/users/{id}'].delete.responses['200'].content['application/json'].schema.required
    description: a target written for the old path name
    remove: true
`)
	tests := []struct {
		name    string
		spec    string // "" means the file does not exist
		overlay string
		want    []string // substrings of the error; nil means no error
	}{
		{"valid with errata fixed by the overlay", minimalSpec, repoOverlay, nil},
		{"missing file", "", repoOverlay, []string{"cannot load as OpenAPI", "no such file"}},
		{"not YAML", "openapi: [3.0\n  broken", repoOverlay, []string{"cannot load as OpenAPI"}},
		{"external reference refused", strings.Replace(minimalSpec, `"#/components/schemas/User"`, `"https://example.com/user.yaml"`, 1), repoOverlay, []string{"cannot load as OpenAPI"}},
		{"structurally invalid", strings.Replace(minimalSpec, "tags: {type: array, items: {type: string}}", "tags: {type: array, items: {type: text}}", 1), repoOverlay,
			[]string{"invalid OpenAPI (after applying api/overlay.yaml)", "text"}},
		{"no DeleteUser", strings.Replace(minimalSpec, "operationId: DeleteUser", "operationId: RemoveUser", 1), repoOverlay, []string{"no operation has operationId DeleteUser"}},
		{"no User schema", strings.Replace(strings.Replace(minimalSpec, "    User:\n", "    Person:\n", 1), "schemas/User", "schemas/Person", 1), repoOverlay, []string{"components.schemas.User is missing"}},
		{"overlay action that does not match", minimalSpec, staleOverlay, []string{
			`erratum left after applying api/overlay.yaml (matched nothing: action 1 "a target written for the old path name")`, `required lists "users"`,
			"does not require `user`"}},
		{"bad overlay", minimalSpec, writeFile(t, t.TempDir(), "bad.yaml", "actions: 3\n"), []string{"bad.yaml", "overlay"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "new.yaml")
			if tt.spec != "" {
				writeFile(t, filepath.Dir(path), "new.yaml", tt.spec)
			}
			c, err := checkSpec(context.Background(), path, tt.overlay)
			if err == nil {
				err = c.err(path)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.want)
			}
			if msg := err.Error(); !strings.Contains(msg, path) && !strings.Contains(msg, tt.overlay) {
				t.Errorf("error does not name the file: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestCheckSpecNotesRawErrataTheOverlayFixes(t *testing.T) {
	t.Parallel()
	spec := strings.Replace(minimalSpec, "user_id: {type: string}", "user_id: {type: string}\n        active: {type: boolean, example: '#DEPRECATED#'}", 1)
	c, err := checkSpec(context.Background(), writeFile(t, t.TempDir(), "s.yaml", spec), repoOverlay)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.err("s.yaml"); err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(c.Notes, "\n")
	for _, want := range []string{`required lists "users"`, `active.example is "#DEPRECATED#"`, "raw document problem the overlay fixes"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if bytes.Contains(c.Overlaid, []byte(deprecatedPlaceholder)) || bytes.Contains(c.Overlaid, []byte("- users")) {
		t.Errorf("overlaid document still has an erratum:\n%s", c.Overlaid)
	}
	// The four errata actions come first in api/overlay.yaml.
	if got := matchCounts(c.Actions); !strings.HasPrefix(got, "1/1/0/1/") {
		t.Errorf("overlay matches = %s, want 1/1/0/1/…", got)
	}
}

// TestOverlayFixesEveryPublishedVersion checks every version in
// ../shared/specs: after api/overlay.yaml no erratum of its scope is left and
// DeleteUser still has the shape package pagecall needs.
func TestOverlayFixesEveryPublishedVersion(t *testing.T) {
	t.Parallel()
	versions, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "specs", "pagecall-history", "*.yaml"))
	if len(versions) == 0 {
		t.Skip("../shared/specs/pagecall-history not present")
	}
	for _, v := range versions {
		t.Run(filepath.Base(v), func(t *testing.T) {
			t.Parallel()
			c, err := checkSpec(context.Background(), v, repoOverlay)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Contract) > 0 {
				t.Errorf("%s", strings.Join(c.Contract, "\n"))
			}
			// The users/user erratum is in every published version, so its
			// two actions must match; the others fix errata that come and go.
			for _, a := range c.Actions {
				if a.Matches == 0 && a.Index <= 2 {
					t.Errorf("action %d (%s) matches nothing", a.Index, a.Description)
				}
			}
		})
	}
}

func TestCheckGenerated(t *testing.T) {
	t.Parallel()
	const good = "package wire\ntype User struct{ Name string }\ntype DeleteUserResponse struct {\n\tBody []byte\n\tJSON200 *struct {\n\t\tUser User `json:\"user\"`\n\t}\n}\n"
	tests := []struct {
		name, src, want string
	}{
		{"as generated", good, ""},
		{"pointer user", strings.Replace(good, "User User", "User *User", 1), "no field `User User`"},
		{"no JSON200", strings.Replace(good, "JSON200", "JSON201", 1), "no field JSON200"},
		{"no User", strings.Replace(good, "type User struct{ Name string }", "", 1), "no struct type User"},
		{"placeholder", good + "// example: #DEPRECATED#\n", "#DEPRECATED#"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, root, genFile, tt.src)
			err := checkGenerated(context.Background(), root, io.Discard)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("checkGenerated = %v, want error containing %q", err, tt.want)
			}
		})
	}
	if err := checkGenerated(context.Background(), filepath.Join("..", ".."), io.Discard); err != nil {
		t.Errorf("the committed %s: %v", genFile, err)
	}
}

// tree reads every file under root into path -> mode and content.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, _ := d.Info()
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		m[rel] = info.Mode().String() + " " + string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestApplySpecRestoresOnFailure(t *testing.T) {
	t.Parallel()
	failing := step{"failing check", func(context.Context, string, io.Writer) error { return errors.New("boom") }}
	generateGarbage := step{"generate", func(_ context.Context, root string, _ io.Writer) error {
		writeFile(t, root, genFile, "package wire // regenerated")
		writeFile(t, root, "gen/extra.go", "package gen")
		writeFile(t, root, "internal/wire/extra.go", "package wire")
		writeFile(t, root, "operations.gen.go", "package pagecall // regenerated")
		writeFile(t, root, "cmd/pagecall/operations.gen.go", "package main // regenerated")
		return os.Remove(filepath.Join(root, "gen", "doc.go"))
	}}
	tests := []struct {
		name    string
		checks  []step
		wantErr bool
	}{
		{"first check fails", []step{failing}, true},
		{"fails after generation changed gen/", []step{generateGarbage, failing}, true},
		{"a real go command fails (no go.mod)", checkSteps(true), true},
		{"all pass: the new spec stays", []step{generateGarbage}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, root, specFile, "old spec")
			writeFile(t, root, genFile, "package wire // old")
			writeFile(t, root, "gen/doc.go", "package gen")
			writeFile(t, root, "gen/config.yaml", "package: gen")
			if err := os.Chmod(filepath.Join(root, "gen", "config.yaml"), 0o600); err != nil {
				t.Fatal(err)
			}
			writeFile(t, root, "other.go", "package other")
			writeFile(t, root, "operations.gen.go", "package pagecall // old")
			writeFile(t, root, "cmd/pagecall/operations.gen.go", "package main // old")
			before := tree(t, root)

			var out bytes.Buffer
			err := applySpec(context.Background(), root, []byte("new spec"), tt.checks, &out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("applySpec error = %v, want error %v", err, tt.wantErr)
			}
			after := tree(t, root)
			if !tt.wantErr {
				if got := after[specFile]; !strings.HasSuffix(got, " new spec") {
					t.Errorf("%s = %q, want the new spec", specFile, got)
				}
				return
			}
			if len(after) != len(before) {
				t.Errorf("files after restore: %v, want %v", keysOf(after), keysOf(before))
			}
			for p, want := range before {
				if after[p] != want {
					t.Errorf("%s after restore = %q, want %q", p, after[p], want)
				}
			}
			if !strings.Contains(out.String(), "restored") {
				t.Errorf("output does not say it restored:\n%s", out.String())
			}
		})
	}
}

func keysOf(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestHistorySkipsWhenSpecsAbsent(t *testing.T) {
	var out bytes.Buffer
	dir := filepath.Join(t.TempDir(), "no", "specs")
	if err := history(context.Background(), t.TempDir(), dir, 2, &out); err != nil {
		t.Fatalf("history = %v, want a skip", err)
	}
	if !strings.Contains(out.String(), "skipped") || !strings.Contains(out.String(), dir) {
		t.Errorf("output = %q, want a skip message naming %s", out.String(), dir)
	}
	if code := run(context.Background(), []string{"history", "-dir", dir}, &out, &out); code != 0 {
		t.Errorf("exit code = %d, want 0", code)
	}
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"update"}, {"validate", "a", "b"}, {"history", "-nope"}} {
		var out bytes.Buffer
		if code := run(context.Background(), args, &out, &out); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"validate", filepath.Join(t.TempDir(), "missing.yaml")}, &out, &out); code != 1 || !strings.Contains(out.String(), "missing.yaml") {
		t.Errorf("validate missing file: code %d, output %q", code, out.String())
	}
}

// TestSecondValidatorCatchesEmptyRequired proves why the second validator is
// there: an overlay that empties a required list (as api/overlay.yaml once
// left UpdateRoomRequest's `required: []`) makes a document that the OAS
// 3.0 schema forbids (minItems 1). kin-openapi lets it pass; secondOpinion
// reports it, and checkSpec's error then stops an update.
func TestSecondValidatorCatchesEmptyRequired(t *testing.T) {
	spec := strings.Replace(minimalSpec, "    User:\n      type: object\n", "    User:\n      type: object\n      required: [application_id]\n", 1)
	emptying := writeFile(t, t.TempDir(), "overlay.yaml", `overlay: 1.1.0
info: {title: empties a required list, version: "1"}
actions:
  - target: $.components.schemas.User.required[?@ == 'application_id']
    description: drop the undeclared application_id, leaving required empty
    remove: true
  - target: $.paths[*][*].responses['200'].content['application/json'].schema.required
    description: require user, not users
    update: [user]
`)
	path := writeFile(t, t.TempDir(), "s.yaml", spec)

	t.Run("the fault", func(t *testing.T) {
		c, err := checkSpec(context.Background(), path, emptying)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(c.Overlaid, []byte("required: []")) {
			t.Fatalf("the overlay did not leave an empty required list:\n%s", c.Overlaid)
		}
		if len(c.Invalid) != 0 {
			t.Logf("kin-openapi now reports it too: %v", c.Invalid)
		}
		found := strings.Join(c.Independent, "\n")
		if !strings.Contains(found, "libopenapi-validator") || !strings.Contains(found, "schemas.User.required") || !strings.Contains(found, "minItems") {
			t.Errorf("second validator found %q, want the empty required list of User (minItems)", found)
		}
		if err := c.err(path); err == nil || !strings.Contains(err.Error(), "minItems") {
			t.Errorf("err = %v, want the update stopped on minItems", err)
		}
	})
	t.Run("the fix: api/overlay.yaml drops an emptied list", func(t *testing.T) {
		c, err := checkSpec(context.Background(), path, repoOverlay)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Independent) != 0 || c.err(path) != nil {
			t.Errorf("with the repository's overlay: %v, %v", c.Independent, c.err(path))
		}
		if bytes.Contains(c.Overlaid, []byte("required: []")) {
			t.Errorf("the repository's overlay left an empty required list:\n%s", c.Overlaid)
		}
	})
	t.Run("directly", func(t *testing.T) {
		if p := secondOpinion([]byte(spec)); p != nil {
			t.Errorf("a valid document: %v", p)
		}
		bad := strings.Replace(spec, "required: [application_id]", "required: []", 1)
		if p := strings.Join(secondOpinion([]byte(bad)), "\n"); !strings.Contains(p, "minItems") {
			t.Errorf("required: [] reported as %q, want minItems", p)
		}
	})
}
