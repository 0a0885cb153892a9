// These tests are written against the checked-in spec's own operations
// (their names, paths and answers), which older published versions lack or
// name otherwise, so `make spec-history` leaves them out (-tags anyspec).

//go:build !anyspec

package main

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOverlayRenameIsARename takes the inventory of the checked-in spec
// twice: with api/overlay.yaml less its renames (a scratch module root
// holding gen/config.yaml and that overlay), and with the overlay as it
// is. The three operations it renames are paired by method and path and
// reported as renamed methods, not as removals plus additions.
func TestOverlayRenameIsARename(t *testing.T) {
	overlay, err := os.ReadFile(filepath.Join(moduleRoot, overlayFile))
	if err != nil {
		t.Fatal(err)
	}
	const marker = "  # --- Names a Go reader expects"
	start := strings.Index(string(overlay), marker)
	if start < 0 {
		t.Fatalf("%s has no section %q", overlayFile, marker)
	}
	rest := string(overlay[start+len(marker):])
	end := len(rest)
	if i := strings.Index(rest, "\n  # --- "); i >= 0 {
		end = i + 1
	}
	withoutRenames := string(overlay[:start]) + rest[end:]
	config, err := os.ReadFile(filepath.Join(moduleRoot, genConfig))
	if err != nil {
		t.Fatal(err)
	}
	oldRoot := t.TempDir()
	writeFile(t, oldRoot, genConfig, string(config))
	writeFile(t, oldRoot, overlayFile, withoutRenames)
	spec := filepath.Join(moduleRoot, specFile)
	before, _, err := inventory(oldRoot, spec)
	if err != nil {
		t.Fatal(err)
	}
	after, _, err := inventory(moduleRoot, spec)
	if err != nil {
		t.Fatal(err)
	}
	d := diffOperations(before, after)
	if len(d.Added)+len(d.Removed) != 0 {
		t.Errorf("added %v, removed %v; want none: a rename pairs by method and path", d.Added, d.Removed)
	}
	renames := map[string]string{}
	for _, p := range d.Paired {
		if p.Renamed() {
			renames[p.Old.GoName] = p.New.GoName
		}
	}
	want := map[string]string{"RoomsSendMessage": "SendRoomMessage", "CreateRoomsPage": "CreateRoomPages", "GetRoomSessions": "ListRoomSessions"}
	if !maps.Equal(renames, want) {
		t.Errorf("renames %v, want %v", renames, want)
	}
	var report bytes.Buffer
	d.write(&report)
	for _, line := range []string{
		"0 added, 0 removed, 3 renamed or moved",
		"- `POST /rooms/{room_id}/message` method `SendRoomMessage`: method renamed from `RoomsSendMessage` (breaking)",
		"- `GET /rooms/{room_id}/sessions` method `ListRoomSessions`: method renamed from `GetRoomSessions` (breaking)",
	} {
		if !strings.Contains(report.String(), line) {
			t.Errorf("report lacks %q:\n%s", line, report.String())
		}
	}
	if got := d.GoBreaking(); len(got) != 3 || !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "CreateRoomsPage renamed to CreateRoomPages") }) {
		t.Errorf("GoBreaking = %q, want the three renames", got)
	}
}
