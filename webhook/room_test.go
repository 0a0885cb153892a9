package webhook_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	pagecall "github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/api"
	"github.com/pplink/pagecall-go/webhook"
	"gopkg.in/yaml.v3"
)

// specHasRoomWebhook reads the embedded OpenAPI document: does its
// CreateRoomRequest have a webhook? The answer comes from the document, not
// from the generated code SetRoomWebhook inspects.
func specHasRoomWebhook(t *testing.T) bool {
	t.Helper()
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	s, ok := doc.Components.Schemas["CreateRoomRequest"]
	if !ok {
		t.Fatal("the document has no CreateRoomRequest schema")
	}
	_, ok = s.Properties["webhook"]
	return ok
}

// TestSetRoomWebhookAnySpec runs on every published API version: where the
// document has a room webhook, the request sends it with the URL and the
// secret header; where it has none, SetRoomWebhook says so and leaves the
// request alone.
func TestSetRoomWebhookAnySpec(t *testing.T) {
	t.Parallel()
	req := pagecall.CreateRoomRequest{Name: "standup"}
	before, _ := json.Marshal(req)
	err := webhook.SetRoomWebhook(&req, "http://127.0.0.1:8080/hook", webhook.DefaultSecretHeader, testSecret)
	after, _ := json.Marshal(req)

	if !specHasRoomWebhook(t) {
		if !errors.Is(err, webhook.ErrNoRoomWebhook) {
			t.Fatalf("err = %v, want ErrNoRoomWebhook: this version has no room webhook", err)
		}
		if string(before) != string(after) {
			t.Errorf("request changed from %s to %s", before, after)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var sent struct {
		Name    string `json:"name"`
		Webhook struct {
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
		} `json:"webhook"`
	}
	if err := json.Unmarshal(after, &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Name != "standup" || sent.Webhook.URL != "http://127.0.0.1:8080/hook" ||
		!reflect.DeepEqual(sent.Webhook.Headers, map[string]string{webhook.DefaultSecretHeader: testSecret}) {
		t.Errorf("the request sends %s", after)
	}
}

// TestSetRoomWebhookRefusals: bad input is refused before the request is
// touched, and no error shows the secret.
func TestSetRoomWebhookRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, header, secret string
		want                      error
	}{
		{"relative URL", "/hook", testHeader, testSecret, webhook.ErrInvalidURL},
		{"no host", "http:///hook", testHeader, testSecret, webhook.ErrInvalidURL},
		{"another scheme", "ftp://127.0.0.1/hook", testHeader, testSecret, webhook.ErrInvalidURL},
		{"unparsable URL", "http://[::1", testHeader, testSecret, webhook.ErrInvalidURL},
		{"empty secret", "http://127.0.0.1/hook", testHeader, "", webhook.ErrInvalidSecretHeader},
		{"secret with a line break", "http://127.0.0.1/hook", testHeader, testSecret + "\r\nX-Injected: 1", webhook.ErrInvalidSecretHeader},
		{"bad header name", "http://127.0.0.1/hook", "X Secret", testSecret, webhook.ErrInvalidSecretHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := pagecall.CreateRoomRequest{Name: "x"}
			before, _ := json.Marshal(req)
			err := webhook.SetRoomWebhook(&req, tt.url, tt.header, tt.secret)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if after, _ := json.Marshal(req); string(after) != string(before) {
				t.Errorf("request changed to %s", after)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	if err := webhook.SetRoomWebhook(nil, "http://127.0.0.1/", testHeader, testSecret); err == nil {
		t.Error("a nil request was accepted")
	}
}
