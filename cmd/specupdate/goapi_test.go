package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClassifyAPIDiff(t *testing.T) {
	for _, tt := range []struct{ name, report, want string }{
		{"nothing", "", apiNone},
		{"only internal packages noted", "Ignoring internal package x/internal/y\n", apiNone},
		{"additions", "Compatible changes:\n- WithUserAgent: added\n", apiCompatible},
		{"a removal", "Incompatible changes:\n- (*Client).GetRoomSessions: removed\n", apiIncompatible},
		{"both", "Incompatible changes:\n- X: removed\n\nCompatible changes:\n- Y: added\n", apiIncompatible},
	} {
		if got := classifyAPIDiff(tt.report); got != tt.want {
			t.Errorf("%s: classifyAPIDiff = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestAPIDiffPinsAgree: make api-diff and the update's report run the same
// apidiff.
func TestAPIDiffPinsAgree(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join(moduleRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mk), apidiffModule) {
		t.Errorf("the Makefile does not pin %s", apidiffModule)
	}
}
