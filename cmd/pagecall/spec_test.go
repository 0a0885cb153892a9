// These tests are written against the checked-in spec's own operations
// (their names, paths and answers), which older published versions lack or
// name otherwise, so `make spec-history` leaves them out (-tags anyspec).

//go:build !anyspec

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pplink/pagecall-go/api"
	"github.com/pplink/pagecall-go/internal/overlay"
	"github.com/pplink/pagecall-go/pagecalltest"
)

// TestSpecOverlaidWritesTheGeneratorsDocument: `pagecall spec --overlaid`
// writes the embedded spec with the embedded overlay applied, the same
// bytes on every run and to stdout or --output, and it loads as OpenAPI;
// without --overlaid it writes the published document as embedded.
func TestSpecOverlaidWritesTheGeneratorsDocument(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	want, err := overlay.Apply(api.OpenAPI, api.Overlay)
	if err != nil {
		t.Fatal(err)
	}
	code, first, stderr := runInProcess(t, srv, false, "spec", "--overlaid")
	if code != exitOK || first != string(want) {
		t.Fatalf("exit %d, stderr %q; stdout is not the overlaid spec (%d bytes, want %d)", code, stderr, len(first), len(want))
	}
	if _, second, _ := runInProcess(t, srv, false, "spec", "--overlaid"); second != first {
		t.Error("two runs wrote different bytes")
	}
	file := filepath.Join(t.TempDir(), "openapi.yaml")
	if code, _, stderr := runInProcess(t, srv, false, "spec", "--overlaid", "--output", file); code != exitOK {
		t.Fatalf("--output: exit %d, %s", code, stderr)
	}
	if b, err := os.ReadFile(file); err != nil || !bytes.Equal(b, want) {
		t.Errorf("--output wrote other bytes (%v)", err)
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(first))
	if err != nil {
		t.Fatalf("the overlaid spec does not load: %v", err)
	}
	if doc.Paths.Value("/rooms/{room_id}/message").Post.OperationID != "SendRoomMessage" {
		t.Error("the output lacks the overlay's operation names")
	}
	if _, published, _ := runInProcess(t, srv, false, "spec"); published != string(api.OpenAPI) {
		t.Error("without --overlaid, the output is not the published spec")
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("spec sent %d requests", n)
	}
}
