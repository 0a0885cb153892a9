package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pplink/pagecall-go"
	"github.com/spf13/pflag"
)

// rawFlags are an operation command's --set and --query: they send what the
// spec does not declare, through the SDK's WithJSONSet and WithQuery.
type rawFlags struct {
	set   []string // FIELD=JSON
	query []string // NAME=VALUE
}

// rawFlagNames are the names rawFlags takes, which a spec flag must not.
var rawFlagNames = []string{"set", "query"}

// register adds --set and --query to fs.
func (r *rawFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&r.set, "set", nil, "FIELD=JSON: set a field of the request body, one the spec may not declare; dotted for nesting (--set 'webhook.url=\"https://…\"'), null clears it; repeatable")
	fs.StringArrayVar(&r.query, "query", nil, "NAME=VALUE: send a query parameter, one the spec may not declare; repeatable")
}

// options returns the CallOptions of the flags, or a usage error: a --set without "=", a value that is not JSON,
// or a --set for an operation that has no JSON body (hasBody false).
func (r *rawFlags) options(hasBody bool) ([]pagecall.CallOption, error) {
	var opts []pagecall.CallOption
	for _, s := range r.set {
		field, value, ok := strings.Cut(s, "=")
		switch {
		case !hasBody:
			return nil, fmt.Errorf("--set %s: the operation has no JSON body (nothing was sent)", s)
		case !ok || field == "":
			return nil, fmt.Errorf("--set %q: want FIELD=JSON", s)
		case !json.Valid([]byte(value)):
			return nil, fmt.Errorf("--set %s: %q is not JSON (quote a string: %s='\"%s\"')", field, value, field, value)
		}
		opts = append(opts, pagecall.WithJSONSet(field, json.RawMessage(value)))
	}
	for _, q := range r.query {
		name, value, ok := strings.Cut(q, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--query %q: want NAME=VALUE", q)
		}
		opts = append(opts, pagecall.WithQuery(name, value))
	}
	return opts, nil
}
