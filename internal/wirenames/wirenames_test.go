package wirenames

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRename pins what the pass renames (declarations, uses and comments)
// and what it refuses.
func TestRename(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // substrings of the output
		notWant   []string
		err       string // substring of the error; "" for none
	}{
		{
			name: "an alias body, its uses and its doc",
			src: `package wire

// CreateRoomJSONRequestBody defines body for CreateRoom.
type CreateRoomJSONRequestBody = CreateRoomRequest

type CreateRoomRequest struct{ Name string }

func NewCreateRoomRequest(server string, body CreateRoomJSONRequestBody) error { return nil }
`,
			want:    []string{"// CreateRoomRequestBody defines body for CreateRoom.", "type CreateRoomRequestBody = CreateRoomRequest", "body CreateRoomRequestBody)"},
			notWant: []string{"JSONRequestBody"},
		},
		{
			name: "a defined body over an inline struct keeps the struct's name",
			src: `package wire

type CreateUserJSONBody struct{ UserID string }

type CreateUserJSONRequestBody CreateUserJSONBody
`,
			want:    []string{"type CreateUserRequestBody CreateUserJSONBody", "type CreateUserJSONBody struct"},
			notWant: []string{"JSONRequestBody"},
		},
		{
			name: "the doer, in a field, a parameter and its doc",
			src: `package wire

import "net/http"

// HttpRequestDoer performs HTTP requests.
type HttpRequestDoer interface {
	Do(req *http.Request) (*http.Response, error)
}

type Client struct {
	// Client is the HttpRequestDoer that sends requests.
	Client HttpRequestDoer
}

func WithHTTPClient(doer HttpRequestDoer) {}
`,
			want:    []string{"// Doer performs HTTP requests.", "type Doer interface", "Client Doer", "is the Doer that", "(doer Doer)"},
			notWant: []string{"HttpRequestDoer"},
		},
		{
			name: "a longer name that contains an old one is not a use of it",
			src: `package wire

type AJSONRequestBody = int

type AJSONRequestBodyExtra = int
`,
			err: "still says JSONRequestBody",
		},
		{
			name: "a new name the file declares already",
			src: `package wire

type CreateRoomJSONRequestBody = int

type CreateRoomRequestBody = string
`,
			err: "already declares CreateRoomRequestBody",
		},
		{
			name: "a generator name nobody declares",
			src: `package wire

var x = "HttpRequestDoer"
`,
			err: "wire.gen.go:3 still says HttpRequestDoer",
		},
		{
			name: "a bare JSONRequestBody names no operation",
			src:  "package wire\n\ntype JSONRequestBody = int\n",
			err:  "still says JSONRequestBody",
		},
		{
			name: "a longer word that ends in the doer's name is not a use of it",
			src:  "package wire\n\ntype HttpRequestDoer interface{}\n\nvar x = \"MyHttpRequestDoer\"\n",
			err:  "still says HttpRequestDoer",
		},
		{
			name: "a type named Doer already",
			src:  "package wire\n\ntype HttpRequestDoer interface{}\n\ntype Doer int\n",
			err:  "already declares Doer",
		},
		{
			name: "a function named Doer already",
			src:  "package wire\n\ntype HttpRequestDoer interface{}\n\nfunc Doer() {}\n",
			err:  "already declares Doer",
		},
		{
			name: "a variable named Doer already",
			src:  "package wire\n\ntype HttpRequestDoer interface{}\n\nvar Doer = 1\n",
			err:  "already declares Doer",
		},
		{
			name:    "a function and a variable named like bodies",
			src:     "package wire\n\nfunc XJSONRequestBody() {}\n\nvar YJSONRequestBody = 1\n\nconst ZJSONRequestBody = 2\n",
			want:    []string{"func XRequestBody()", "var YRequestBody = 1", "const ZRequestBody = 2"},
			notWant: []string{"JSONRequestBody"},
		},
		{
			name: "a leftover in a comment only",
			src:  "package wire\n\n// See FooJSONRequestBody.\ntype Room int\n",
			err:  "wire.gen.go:3 still says JSONRequestBody",
		},
		{
			name:    "nothing to rename",
			src:     "package wire\n\ntype Room struct{ ID string }\n",
			want:    []string{"type Room struct{ ID string }"},
			notWant: []string{"RequestBody", "Doer"},
		},
		{
			name: "a method named like a body is not a declaration to rename",
			src: `package wire

type T struct{}

func (T) XJSONRequestBody() {}
`,
			err: "still says JSONRequestBody",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Rename("wire.gen.go", []byte(tc.src))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q; output:\n%s", err, tc.err, out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(string(out), w) {
					t.Errorf("output still has %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestRenameFileLeavesACleanFileAlone checks that a file with nothing to
// rename is not rewritten (go generate keeps its modification time), and
// that a file with something to rename is rewritten formatted.
func TestRenameFileLeavesACleanFileAlone(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.go")
	// Not gofmt-formatted: a rewrite would format it.
	src := "package wire\n\ntype Room struct {  ID string }\n"
	if err := os.WriteFile(clean, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := RenameFile(clean); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(clean); string(got) != src {
		t.Errorf("a file with nothing to rename was rewritten:\n%s", got)
	}

	dirty := filepath.Join(dir, "dirty.go")
	if err := os.WriteFile(dirty, []byte("package wire\n\ntype HttpRequestDoer interface{  }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := RenameFile(dirty); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dirty); string(got) != "package wire\n\ntype Doer interface{}\n" {
		t.Errorf("renamed file = %q", got)
	}
	if err := RenameFile(filepath.Join(dir, "missing.go")); err == nil {
		t.Error("a missing file gave no error")
	}
}

// TestRenameTwiceChangesNothing: go generate may run the pass on a file it
// has already renamed (oapi-codegen's output is rewritten each time, but a
// maintainer may run the command by hand), and a name that already ends in
// RequestBody or Doer is not the generator's.
func TestRenameTwiceChangesNothing(t *testing.T) {
	src := []byte(`package wire

type HttpRequestDoer interface{}

type CreateRoomJSONRequestBody = CreateRoomRequest

type CreateRoomRequest struct{}

type PlainRequestBody = int

type FooDoer int
`)
	once, err := Rename("wire.gen.go", src)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"type Doer interface{}", "type CreateRoomRequestBody = CreateRoomRequest", "type PlainRequestBody = int", "type FooDoer int"} {
		if !bytes.Contains(once, []byte(w)) {
			t.Errorf("first pass lacks %q:\n%s", w, once)
		}
	}
	twice, err := Rename("wire.gen.go", once)
	if err != nil {
		t.Fatalf("second pass: %v", err)
	}
	if !bytes.Equal(once, twice) {
		t.Errorf("second pass changed the file:\n%s\nto:\n%s", once, twice)
	}
}

// TestRenameFileKeepsModTime: a file with nothing to rename is not written,
// so go generate leaves its modification time (and build caches keyed on
// it) alone.
func TestRenameFileKeepsModTime(t *testing.T) {
	f := filepath.Join(t.TempDir(), "clean.go")
	if err := os.WriteFile(f, []byte("package wire\n\ntype Room struct{ ID string }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(f, old, old); err != nil {
		t.Fatal(err)
	}
	if err := RenameFile(f); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	if !st.ModTime().Equal(old) {
		t.Errorf("mod time %v, want %v: the file was written", st.ModTime(), old)
	}
}

// TestRenameFileRefusalWritesNothing: a file the pass cannot rename cleanly
// is an error and is left as it was, not written half renamed.
func TestRenameFileRefusalWritesNothing(t *testing.T) {
	for _, src := range []string{
		"package wire\n\ntype HttpRequestDoer interface{}\n\nvar x = \"MyHttpRequestDoerX\"\n",
		"package wire\n\nvar x = \"HttpRequestDoer\"\n",
		"package wire\n\ntype HttpRequestDoer interface{}\n\ntype Doer int\n",
	} {
		f := filepath.Join(t.TempDir(), "wire.gen.go")
		if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := RenameFile(f); err == nil {
			t.Errorf("RenameFile gave no error on:\n%s", src)
		}
		if got, _ := os.ReadFile(f); string(got) != src {
			t.Errorf("a refused file was written:\n%s\nwas:\n%s", got, src)
		}
	}
}
