package main

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/spf13/cobra"
)

// annotationOperation is the cobra annotation that names the operation a
// command calls ("GET /rooms"); the test that every operation has a
// command looks for it.
const annotationOperation = "pagecall/operation"

// commonFlagNames are the flags an operation command may have besides those
// of the spec. A spec property whose flag name is one of these gets the
// prefix "query-" or "body-" instead (a body property "format" would be
// --body-format).
func commonFlagNames() map[string]bool {
	return map[string]bool{
		"data": true, "all": true, "format": true, "help": true,
		"api-key-file": true, "base-url": true, "timeout": true, "max-retries": true, "verbose": true,
	}
}

// opCommand is the command of one operation: its flags and what it was
// given.
type opCommand struct {
	op     *apiOp
	flags  []*specFlag
	client clientFlags
	data   string   // --data
	all    bool     // --all
	format string   // --format
	raw    rawFlags // --set, --query (rawflags.go)
}

// newResourceCmds returns one command per resource, with one subcommand
// per operation. A hand-written command in overrides replaces the derived
// one of the same "resource verb" (users delete keeps its bulk powers) and
// is annotated with its operation; extras are added to their resource.
func newResourceCmds(e *env, ops []*apiOp, overrides map[string]func() *cobra.Command, extras map[string][]*cobra.Command) []*cobra.Command {
	byResource := map[string]*cobra.Command{}
	formers := formerVerbs()
	resource := func(name string) *cobra.Command {
		if c := byResource[name]; c != nil {
			return c
		}
		c := &cobra.Command{
			Use:   name,
			Short: "Pagecall " + name,
			Args:  cobra.NoArgs,
			RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		}
		byResource[name] = c
		return c
	}
	for _, o := range ops {
		build := func() *cobra.Command { return newOpCmd(e, o) }
		if mk := overrides[o.resource+" "+o.verb]; mk != nil {
			build = mk
		}
		cmd := build()
		if cmd.Annotations == nil {
			cmd.Annotations = map[string]string{}
		}
		cmd.Annotations[annotationOperation] = o.method + " " + o.path
		resource(o.resource).AddCommand(cmd)
		for _, old := range formers[o.resource+" "+o.verb] {
			resource(o.resource).AddCommand(formerAlias(build(), o.resource, old))
		}
	}
	for name, cmds := range extras {
		resource(name).AddCommand(cmds...)
	}
	var out []*cobra.Command
	for _, name := range slices.Sorted(maps.Keys(byResource)) {
		c := byResource[name]
		var verbs []string
		for _, sub := range c.Commands() {
			if !sub.Hidden {
				verbs = append(verbs, sub.Name())
			}
		}
		c.Short = fmt.Sprintf("Pagecall %s: %s", name, strings.Join(verbs, ", "))
		out = append(out, c)
	}
	return out
}

// formerAlias turns cmd, a second build of an operation's command, into
// its hidden alias under the former verb old (formerVerbs): it says on
// stderr what the command is called now, then does what the command does.
// It is a command of its own rather than a cobra alias because an alias
// shows in the command's help, and cobra's Deprecated notice goes to the
// command's output, stdout here, where it would corrupt JSON.
func formerAlias(cmd *cobra.Command, resource, old string) *cobra.Command {
	now := resource + " " + cmd.Name()
	cmd.Use = old + strings.TrimPrefix(cmd.Use, cmd.Name())
	cmd.Hidden = true
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		fmt.Fprintf(c.ErrOrStderr(), "pagecall: %q is now %q; the old name goes in the next minor version\n",
			resource+" "+old, now)
		return run(c, args)
	}
	return cmd
}

// newOpCmd derives the command of one operation from the spec.
func newOpCmd(e *env, o *apiOp) *cobra.Command {
	oc := &opCommand{op: o}
	var argNames []string
	for _, p := range o.pathParams {
		argNames = append(argNames, argName(p.Name, o.resource))
	}
	cmd := &cobra.Command{
		Use:     strings.Join(append([]string{o.verb}, argNames...), " ") + " [flags]",
		Short:   summary(o.op),
		Long:    longHelp(o, argNames),
		Example: examples(o),
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != len(argNames) {
				return fmt.Errorf("%s %s takes %d argument(s), %s; got %d", o.resource, o.verb,
					len(argNames), orNone(strings.Join(argNames, " ")), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return oc.run(cmd.Context(), e, cmd.Flags(), args)
		},
	}
	taken := commonFlagNames()
	for _, n := range rawFlagNames {
		taken[n] = true
	}
	add := func(name, prop, in string, s *openapi3.Schema, required bool) {
		if taken[name] {
			name = in + "-" + name
		}
		taken[name] = true
		f := newSpecFlag(name, prop, in, s)
		f.register(cmd, required)
		oc.flags = append(oc.flags, f)
	}
	for _, p := range o.queryParams {
		s := schemaOf(p.Schema)
		if s != nil && p.Description != "" { // the parameter's own words first
			s = withDescription(s, p.Description)
		}
		add(commandWord(p.Name), p.Name, inQuery, s, p.Required)
	}
	if isObject(o.body) {
		for _, prop := range orderedProperties(o.body) {
			add(commandWord(prop), prop, inBody, schemaOf(o.body.Properties[prop]), slices.Contains(o.body.Required, prop))
		}
	}
	fs := cmd.Flags()
	if o.body != nil {
		fs.StringVarP(&oc.data, "data", "d", "", "the request body as JSON, @FILE or - (stdin); flags override its fields")
	}
	if o.hasSeq {
		fs.BoolVar(&oc.all, "all", false, "every item of every page, streamed as the pages arrive (default: one page)")
	}
	fs.StringVarP(&oc.format, "format", "o", "", "output: json, jsonl or table (default: table on a terminal, else json for one resource, jsonl for lists)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(outputFormats(), cobra.ShellCompDirectiveNoFileComp))
	oc.client.register(fs)
	oc.raw.register(fs)
	return cmd
}

// schemaOf returns the schema a reference resolves to, nil for none.
func schemaOf(ref *openapi3.SchemaRef) *openapi3.Schema {
	if ref == nil {
		return nil
	}
	return ref.Value
}

// withDescription returns a copy of s with the description d, for the help
// of a parameter that describes itself beside its schema.
func withDescription(s *openapi3.Schema, d string) *openapi3.Schema {
	c := *s
	c.Description = d
	return &c
}

// isObject reports whether s describes a JSON object with properties.
func isObject(s *openapi3.Schema) bool {
	return s != nil && (s.Type.Is(openapi3.TypeObject) || s.Type == nil) && len(s.Properties) > 0
}

// summary is an operation's one-line help: its summary, else the first
// line of its description.
func summary(op *openapi3.Operation) string {
	if s := firstLine(op.Summary); s != "" {
		return s
	}
	return firstLine(op.Description)
}

// longHelp is an operation's help text, from the spec.
func longHelp(o *apiOp, argNames []string) string {
	var b strings.Builder
	b.WriteString(summary(o.op))
	if d := strings.TrimSpace(o.op.Description); d != "" && d != summary(o.op) {
		b.WriteString(".\n\n" + d)
	}
	fmt.Fprintf(&b, "\n\nCalls %s %s (%s)\nthrough the SDK's %s.", o.method, o.path, o.op.OperationID, o.operationID)
	if len(argNames) > 0 {
		b.WriteString("\n\nArguments:")
		for i, p := range o.pathParams {
			fmt.Fprintf(&b, "\n  %-12s %s", argNames[i], orNone(firstLine(paramDescription(p))))
		}
	}
	if o.body != nil {
		b.WriteString("\n\nThe request body is JSON: --data gives all of it")
		if isObject(o.body) {
			b.WriteString(", and the flags named after\nits properties set or override them")
			if len(o.body.Required) > 0 {
				fmt.Fprintf(&b, ". Required: %s", strings.Join(flagNames(o.body.Required), ", "))
			}
		} else {
			b.WriteString(" (it is not an object, so --data is required)")
		}
		b.WriteString(".")
	}
	b.WriteString("\n\nThe request is checked against the spec before it is sent: a missing or bad\nvalue exits 2 and sends nothing.")
	switch {
	case o.hasSeq:
		b.WriteString(" Output: one JSON line per item. Without --all, one page, and the\npaging on stderr; --all streams every page.")
	case o.items != nil || o.result == nil:
	default:
		b.WriteString(" Output: the resource as one JSON object.")
	}
	return b.String()
}

// paramDescription is a parameter's description, or its schema's.
func paramDescription(p *openapi3.Parameter) string {
	if p.Description != "" {
		return p.Description
	}
	return describe(schemaOf(p.Schema))
}

// flagNames returns --flag for each property name.
func flagNames(props []string) []string {
	var out []string
	for _, p := range props {
		out = append(out, "--"+commandWord(p))
	}
	return out
}

// orNone returns s, or "none" when s is empty.
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// examples writes an operation's examples from the spec's examples: the
// smallest complete call, then --all for lists, an optional flag, and
// --data with a sample body.
func examples(o *apiOp) string {
	base := "  pagecall " + o.resource + " " + o.verb
	for _, p := range o.pathParams {
		v := p.Example
		if v == nil {
			v = sampleValue("", schemaOf(p.Schema), 0)
		}
		if s, ok := v.(string); !ok || s == "" {
			v = argName(p.Name, o.resource)
		}
		base += " " + shellQuote(fmt.Sprint(v))
	}
	minimal := base
	var optional []string
	for _, p := range o.queryParams {
		optional = append(optional, flagExample(commandWord(p.Name), schemaOf(p.Schema)))
	}
	if isObject(o.body) {
		for _, prop := range orderedProperties(o.body) {
			ex := flagExample(commandWord(prop), schemaOf(o.body.Properties[prop]))
			if slices.Contains(o.body.Required, prop) {
				minimal += " " + ex
			} else {
				optional = append(optional, ex)
			}
		}
	}
	var lines []string
	// Without flags, a body that is no object cannot be sent, and one with
	// no required property is not worth sending.
	if o.body == nil || isObject(o.body) && (len(o.body.Required) > 0 || len(optional) == 0) {
		lines = append(lines, minimal)
	}
	if o.hasSeq {
		lines = append(lines, base+" --all --format jsonl")
	}
	if len(optional) > 0 {
		// A boolean if there is one: its explicit false is sent.
		ex := optional[0]
		if i := slices.IndexFunc(optional, func(f string) bool { return strings.HasSuffix(f, "=false") }); i >= 0 {
			ex = optional[i]
		}
		lines = append(lines, minimal+" "+ex)
	}
	if o.body != nil {
		sample, _ := marshal(sampleValue("", o.body, 0), "", "")
		lines = append(lines, base+" --data "+shellQuote(strings.TrimSpace(string(sample))), base+" --data @body.json")
	}
	return strings.Join(lines, "\n")
}

// flagExample returns "--name value" with the schema's example value; a
// boolean shows its explicit false, which is sent.
func flagExample(name string, s *openapi3.Schema) string {
	if s != nil && s.Type.Is(openapi3.TypeBoolean) {
		// The opposite of the server's default (false without one):
		// --record=false, --is-terminated=false.
		def, _ := s.Default.(bool)
		return fmt.Sprintf("--%s=%t", name, !def && s.Default != nil)
	}
	v := sampleValue(strings.ReplaceAll(name, "-", "_"), s, 0)
	switch v := v.(type) {
	case string:
		return "--" + name + " " + shellQuote(v)
	}
	b, _ := marshal(v, "", "")
	return "--" + name + " " + shellQuote(strings.TrimSpace(string(b)))
}

// sampleValue is a value for s, the schema of the property name: its
// example, default or first enum value, else a plain value of its type (a
// string is the name in capitals); objects get their required properties
// (all of them when none is required), arrays one item.
func sampleValue(name string, s *openapi3.Schema, depth int) any {
	if s == nil {
		return "VALUE"
	}
	switch {
	case s.Example != nil:
		return s.Example
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[0]
	}
	switch {
	case s.Type.Is(openapi3.TypeBoolean):
		return true
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber):
		return 1
	case s.Type.Is(openapi3.TypeArray):
		if s.Items == nil || depth > 3 {
			return []any{}
		}
		return []any{sampleValue(strings.TrimSuffix(name, "s"), s.Items.Value, depth+1)}
	case isObject(s):
		obj := map[string]any{}
		if depth > 3 {
			return obj
		}
		props := s.Required
		if len(props) == 0 {
			props = orderedProperties(s)
		}
		for _, p := range props {
			obj[p] = sampleValue(p, schemaOf(s.Properties[p]), depth+1)
		}
		return obj
	case s.Type.Is(openapi3.TypeObject):
		return map[string]any{}
	}
	if name == "" {
		return "VALUE"
	}
	return strings.ToUpper(name)
}

// shellSafe matches the words a POSIX shell takes as they are.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell where it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
