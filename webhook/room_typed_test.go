//go:build !anyspec

package webhook_test

import (
	"reflect"
	"testing"

	pagecall "github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/webhook"
)

// TestSetRoomWebhookKeepsOtherHeaders: the typed webhook of the checked-in
// spec gets the URL and the secret; headers already there stay, and a header
// of the same name in another case is replaced, not doubled.
func TestSetRoomWebhookKeepsOtherHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		start *pagecall.Webhook
		want  pagecall.Webhook
	}{
		{"no webhook yet", nil,
			pagecall.Webhook{URL: "https://example.com/new", Headers: map[string]string{testHeader: testSecret}}},
		{"other headers kept, URL replaced",
			&pagecall.Webhook{URL: "https://example.com/old", Headers: map[string]string{"X-Tenant": "acme"}},
			pagecall.Webhook{URL: "https://example.com/new", Headers: map[string]string{"X-Tenant": "acme", testHeader: testSecret}}},
		{"old secret replaced whatever its case",
			&pagecall.Webhook{URL: "https://example.com/old", Headers: map[string]string{"x-hook-secret": "old"}},
			pagecall.Webhook{URL: "https://example.com/new", Headers: map[string]string{testHeader: testSecret}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := pagecall.CreateRoomRequest{Name: "x", Type: pagecall.RoomTypeOpen, Webhook: tt.start}
			if err := webhook.SetRoomWebhook(&req, "https://example.com/new", testHeader, testSecret); err != nil {
				t.Fatal(err)
			}
			if req.Webhook == nil || !reflect.DeepEqual(*req.Webhook, tt.want) {
				t.Errorf("webhook = %+v, want %+v", req.Webhook, tt.want)
			}
			if req.Name != "x" || req.Type != pagecall.RoomTypeOpen {
				t.Errorf("other fields changed: %+v", req)
			}
		})
	}
}
