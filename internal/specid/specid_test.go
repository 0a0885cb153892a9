package specid

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestOf(t *testing.T) {
	// Known answers: sha256sum and git hash-object of "hello\n".
	got := Of([]byte("hello\n"))
	if want := "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"; got.SHA256 != want {
		t.Errorf("SHA256 = %s, want %s", got.SHA256, want)
	}
	if want := "ce013625030ba8dba906f756967f9e9ca394464a"; got.GitBlob != want {
		t.Errorf("GitBlob = %s, want %s", got.GitBlob, want)
	}
}

func TestOfMatchesGit(t *testing.T) {
	spec := filepath.Join("..", "..", "api", "openapi.yaml")
	out, err := exec.Command("git", "hash-object", "--no-filters", spec).Output()
	if err != nil {
		t.Skipf("git hash-object: %v", err)
	}
	data, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Of(data).GitBlob, strings.TrimSpace(string(out)); got != want {
		t.Errorf("GitBlob(api/openapi.yaml) = %s, git hash-object says %s", got, want)
	}
}
