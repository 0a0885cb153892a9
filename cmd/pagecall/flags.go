package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Where a specFlag's value goes.
const (
	inQuery = "query"
	inBody  = "body"
)

// specFlag is the flag of one query parameter or top-level body property.
// It parses its text as the property's schema says (a boolean, an integer,
// a number, a string, or JSON for arrays and objects) and keeps the JSON
// value; only flags given on the command line are sent, so an explicit
// --record=false is sent and an unset --record is not.
type specFlag struct {
	name   string // the flag, e.g. "max-meeting-seconds"
	prop   string // the parameter or property, e.g. "max_meeting_seconds"
	in     string // inQuery or inBody
	schema *openapi3.Schema
	kind   string // the pflag type: "bool", "int", "float", "string" or "json"
	value  any    // the parsed value; nil until set
	text   string
}

// newSpecFlag returns the flag for a property of schema s.
func newSpecFlag(name, prop, in string, s *openapi3.Schema) *specFlag {
	f := &specFlag{name: name, prop: prop, in: in, schema: s, kind: "json"}
	switch {
	case s == nil || s.Type == nil:
	case s.Type.Is(openapi3.TypeBoolean):
		f.kind = "bool"
	case s.Type.Is(openapi3.TypeInteger):
		f.kind = "int"
	case s.Type.Is(openapi3.TypeNumber):
		f.kind = "float"
	case s.Type.Is(openapi3.TypeString):
		f.kind = "string"
	}
	return f
}

// Set parses one value of the flag.
func (f *specFlag) Set(text string) error {
	var v any
	var err error
	switch f.kind {
	case "bool":
		v, err = strconv.ParseBool(text)
	case "int":
		v, err = strconv.ParseInt(text, 10, 64)
	case "float":
		v, err = strconv.ParseFloat(text, 64)
	case "string":
		v = text
	default:
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		if err = dec.Decode(&v); err == nil && dec.More() {
			err = fmt.Errorf("more than one JSON value")
		}
		if err != nil {
			err = fmt.Errorf("not valid JSON: %w", err)
		}
	}
	if err != nil {
		return err
	}
	f.value, f.text = v, text
	return nil
}

// String returns the flag's text as given.
func (f *specFlag) String() string { return f.text }

// Type names the value's type in help ("bool" shows none).
func (f *specFlag) Type() string { return f.kind }

// usage is the flag's help line: the description's first line, the
// allowed values, the server's default.
func (f *specFlag) usage(required bool) string {
	var b strings.Builder
	// pflag takes a `quoted` word in a usage line for the value's name.
	b.WriteString(strings.ReplaceAll(firstSentence(describe(f.schema)), "`", "'"))
	if f.kind == "json" {
		b.WriteString(" (JSON)")
	}
	if vals := enumValues(f.schema); len(vals) > 0 {
		fmt.Fprintf(&b, "; one of: %s", strings.Join(vals, ", "))
	}
	if f.schema != nil && f.schema.Default != nil {
		def, _ := json.Marshal(f.schema.Default)
		fmt.Fprintf(&b, "; server default %s", bytes.Trim(def, `"`))
	}
	if required {
		b.WriteString(" (required)")
	}
	return strings.TrimPrefix(strings.TrimSpace(b.String()), "; ")
}

// register adds the flag to cmd, with shell completion of enum values.
func (f *specFlag) register(cmd *cobra.Command, required bool) {
	fl := cmd.Flags().VarPF(f, f.name, "", f.usage(required))
	if f.kind == "bool" {
		fl.NoOptDefVal = "true" // --record alone means --record=true
	}
	if vals := enumValues(f.schema); len(vals) > 0 {
		_ = cmd.RegisterFlagCompletionFunc(f.name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
	}
}

// enumValues returns the allowed values of s as text, nil if it has none.
func enumValues(s *openapi3.Schema) []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, v := range s.Enum {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// describe returns the description of s, "" for none.
func describe(s *openapi3.Schema) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(s.Description)
}

// firstLine returns the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}

// firstSentence returns the first sentence of the first line of s.
func firstSentence(s string) string {
	line := firstLine(s)
	if i := strings.Index(line, ". "); i >= 0 {
		return line[:i+1]
	}
	return line
}

// changedValues returns the values of the flags given on the command line
// whose destination is in, by property name.
func changedValues(fs *pflag.FlagSet, flags []*specFlag, in string) map[string]any {
	out := map[string]any{}
	for _, f := range flags {
		if f.in == in && fs.Changed(f.name) {
			out[f.prop] = f.value
		}
	}
	return out
}
