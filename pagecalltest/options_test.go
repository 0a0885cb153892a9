package pagecalltest_test

import (
	"net/http"
	"testing"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// TestWithLoggerNilKeepsTheDefault: WithLogger(nil) keeps the default,
// which logs nothing, rather than leaving the server without a logger.
func TestWithLoggerNilKeepsTheDefault(t *testing.T) {
	s := pagecalltest.NewTestServer(t, pagecalltest.WithLogger(nil))
	if r := getUser(s); r.status != http.StatusOK || r.err != nil {
		t.Fatalf("with WithLogger(nil): status %d, err %v; want 200", r.status, r.err)
	}
}
