package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"

	pagecall "github.com/pplink/pagecall-go"
)

// roomWebhook is the webhook of CreateRoomRequest as the API documents it.
type roomWebhook struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
}

// SetRoomWebhook sets req's webhook to deliver to webhookURL with the
// header name set to secret, keeping any other headers req's webhook
// already has. Give NewHandler's WithSecretHeader the same name and secret:
// the room then sends exactly what the handler checks.
//
// webhookURL must be an absolute http or https URL (ErrInvalidURL), and
// the name and secret valid (ErrInvalidSecretHeader). The module is
// generated from one version of Pagecall's API, and versions before May
// 2023 have no room webhook: there SetRoomWebhook returns ErrNoRoomWebhook
// and leaves req as it was. Errors never contain the secret.
func SetRoomWebhook(req *pagecall.CreateRoomRequest, webhookURL, name, secret string) error {
	if req == nil {
		return errors.New("webhook: SetRoomWebhook: nil request")
	}
	if u, err := url.Parse(webhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %q: want an absolute http or https URL", ErrInvalidURL, webhookURL)
	}
	if err := checkSecretHeader(name, secret); err != nil {
		return err
	}
	// The field is found by its JSON name rather than named in the code:
	// this package must compile against every API version, including
	// those whose CreateRoomRequest has no Webhook field.
	field, ok := jsonField(reflect.ValueOf(req).Elem(), "webhook")
	if !ok {
		return ErrNoRoomWebhook
	}
	var hook roomWebhook
	if field.Kind() != reflect.Pointer || !field.IsNil() {
		b, err := json.Marshal(field.Interface())
		if err != nil {
			return fmt.Errorf("webhook: reading the request's webhook: %w", err)
		}
		if err := json.Unmarshal(b, &hook); err != nil {
			return fmt.Errorf("webhook: reading the request's webhook: %w", err)
		}
	}
	hook.URL = webhookURL
	for k := range hook.Headers {
		if strings.EqualFold(k, name) {
			delete(hook.Headers, k)
		}
	}
	if hook.Headers == nil {
		hook.Headers = map[string]string{}
	}
	hook.Headers[name] = secret

	// Fill a new value of the generated type through its JSON names.
	typ := field.Type()
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	val := reflect.New(typ)
	b, err := json.Marshal(hook)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	if err := json.Unmarshal(b, val.Interface()); err != nil {
		return fmt.Errorf("%w: %w", ErrNoRoomWebhook, err)
	}
	// A type that dropped the URL or the header is no room webhook.
	var back roomWebhook
	if b, err := json.Marshal(val.Interface()); err != nil || json.Unmarshal(b, &back) != nil ||
		back.URL != webhookURL || back.Headers[name] != secret {
		return fmt.Errorf("%w: its webhook has no url or headers", ErrNoRoomWebhook)
	}
	if field.Kind() == reflect.Pointer {
		field.Set(val)
	} else {
		field.Set(val.Elem())
	}
	return nil
}

// jsonField returns the field of the struct v whose JSON name is name.
func jsonField(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.IsExported() && tag == name {
			k := f.Type.Kind()
			if k == reflect.Pointer {
				k = f.Type.Elem().Kind()
			}
			if k != reflect.Struct {
				return reflect.Value{}, false
			}
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}
