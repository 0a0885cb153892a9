package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/getkin/kin-openapi/openapi3"
)

// Output formats of --format.
const (
	formatJSON  = "json"  // one indented object; a list is an array
	formatJSONL = "jsonl" // one compact JSON value per line
	formatTable = "table" // aligned columns for people
)

// outputFormats returns the values of --format, for help and completion.
func outputFormats() []string { return []string{formatJSON, formatJSONL, formatTable} }

const (
	// maxColumns bounds the default columns of a list's table.
	maxColumns = 8
	// tableBlock is how many rows of a table are aligned together: a
	// table is flushed every tableBlock rows so that --all holds no more
	// than that, at the cost of columns realigning between blocks.
	tableBlock = 100
)

// checkFormat refuses a --format that is not one of outputFormats.
func checkFormat(f string) error {
	if f == "" || slices.Contains(outputFormats(), f) {
		return nil
	}
	return fmt.Errorf("--format %q: want one of %s", f, strings.Join(outputFormats(), ", "))
}

// printer writes what operations return in one of the formats. A list is
// written item by item as it arrives, then ended with end.
type printer struct {
	w        io.Writer
	format   string // "" chooses by shape and terminal
	terminal bool
	op       *apiOp
	n        int               // list items written
	table    *tabwriter.Writer // a list's table, once started
	columns  []string          // its columns
}

func newPrinter(w io.Writer, format string, terminal bool, op *apiOp) *printer {
	return &printer{w: w, format: format, terminal: terminal, op: op}
}

// formatFor returns the format for a list or a single resource: --format,
// else a table on a terminal, else JSON Lines for lists and JSON for one.
func (p *printer) formatFor(list bool) string {
	switch {
	case p.format != "":
		return p.format
	case p.terminal:
		return formatTable
	case list:
		return formatJSONL
	}
	return formatJSON
}

// one writes a single resource.
func (p *printer) one(v any) error {
	doc, err := plain(v)
	if err != nil {
		return err
	}
	switch p.formatFor(false) {
	case formatJSONL:
		return writeJSON(p.w, doc, "")
	case formatTable:
		return p.fields(doc)
	}
	return writeJSON(p.w, doc, "  ")
}

// item writes one item of a list.
func (p *printer) item(v any) error {
	doc, err := plain(v)
	if err != nil {
		return err
	}
	defer func() { p.n++ }()
	switch p.formatFor(true) {
	case formatJSON:
		sep := ",\n  "
		if p.n == 0 {
			sep = "[\n  "
		}
		if _, err := io.WriteString(p.w, sep); err != nil {
			return err
		}
		b, err := marshal(doc, "  ", "  ")
		if err != nil {
			return err
		}
		_, err = p.w.Write(bytes.TrimSuffix(b, []byte("\n")))
		return err
	case formatTable:
		return p.row(doc)
	}
	return writeJSON(p.w, doc, "")
}

// end finishes a list: closes the JSON array, flushes the table.
func (p *printer) end() error {
	switch p.formatFor(true) {
	case formatJSON:
		end := "\n]\n"
		if p.n == 0 {
			end = "[]\n"
		}
		_, err := io.WriteString(p.w, end)
		return err
	case formatTable:
		if p.table == nil {
			if p.columns = p.defaultColumns(nil); len(p.columns) == 0 {
				return nil
			}
			p.startTable()
		}
		return p.table.Flush()
	}
	return nil
}

// row writes one item as a table row, starting the table with its header
// at the first.
func (p *printer) row(doc any) error {
	if p.table == nil {
		p.columns = p.defaultColumns(doc)
		p.startTable()
	} else if p.n%tableBlock == 0 {
		if err := p.table.Flush(); err != nil {
			return err
		}
	}
	obj, _ := doc.(map[string]any)
	cells := make([]string, len(p.columns))
	for i, c := range p.columns {
		cells[i] = cell(obj[c])
	}
	if obj == nil {
		cells = []string{cell(doc)}
	}
	_, err := fmt.Fprintln(p.table, strings.Join(cells, "\t"))
	return err
}

func (p *printer) startTable() {
	p.table = tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	head := make([]string, len(p.columns))
	for i, c := range p.columns {
		head[i] = strings.ToUpper(c)
	}
	fmt.Fprintln(p.table, strings.Join(head, "\t"))
}

// defaultColumns are the main columns of the list's items: from the
// spec's schema of the items, else the first item's fields.
func (p *printer) defaultColumns(first any) []string {
	if p.op.items != nil && len(p.op.items.Properties) > 0 {
		return mainColumns(p.op.items)
	}
	if obj, ok := first.(map[string]any); ok {
		keys := slices.Sorted(maps.Keys(obj))
		return keys[:min(len(keys), maxColumns)]
	}
	if first != nil {
		return []string{"value"}
	}
	return nil
}

// fields writes a single resource as a two-column table, one field a
// line, in the spec's order.
func (p *printer) fields(doc any) error {
	obj, ok := doc.(map[string]any)
	if !ok {
		_, err := fmt.Fprintln(p.w, cell(doc))
		return err
	}
	var order []string
	if s := p.op.result; s != nil {
		order = orderedProperties(s)
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	for _, k := range order {
		if v, ok := obj[k]; ok {
			fmt.Fprintf(tw, "%s\t%s\n", strings.ToUpper(k), cell(v))
		}
	}
	return tw.Flush()
}

// mainColumns picks a list's columns from the items' schema: the required
// properties, then the other scalar ones in document order, leaving out
// deprecated ones, links (*_url), secrets (*token*) and the IDs of other
// objects (*_id but the first property); at most maxColumns.
func mainColumns(s *openapi3.Schema) []string {
	props := orderedProperties(s)
	var cols []string
	for _, name := range props {
		if slices.Contains(s.Required, name) {
			cols = append(cols, name)
		}
	}
	for i, name := range props {
		ps := schemaOf(s.Properties[name])
		switch {
		case slices.Contains(s.Required, name), !isScalar(ps), isDeprecated(ps),
			strings.HasSuffix(name, "_url"), strings.Contains(name, "token"),
			i > 0 && strings.HasSuffix(name, "_id"):
			continue
		}
		cols = append(cols, name)
	}
	return cols[:min(len(cols), maxColumns)]
}

// isScalar reports whether s is a string, number, integer or boolean.
func isScalar(s *openapi3.Schema) bool {
	if s == nil {
		return false
	}
	for _, t := range []string{openapi3.TypeString, openapi3.TypeNumber, openapi3.TypeInteger, openapi3.TypeBoolean} {
		if s.Type.Is(t) {
			return true
		}
	}
	return false
}

// isDeprecated reports whether s is marked deprecated, or says so the way
// Pagecall does: "*[Deprecated]*" in its description.
func isDeprecated(s *openapi3.Schema) bool {
	return s.Deprecated || strings.Contains(strings.ToLower(s.Description), "[deprecated]")
}

// cell is a value as table text: strings as they are, objects and arrays
// as compact JSON, nothing for null; on one line.
func cell(v any) string {
	var s string
	switch v := v.(type) {
	case nil:
	case string:
		s = v
	case json.Number:
		s = v.String()
	case bool:
		s = fmt.Sprint(v)
	default:
		b, _ := json.Marshal(v)
		s = string(b)
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// plain returns v as generic JSON (objects as maps, numbers exact).
func plain(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// marshal encodes v without escaping HTML, with a final newline; indent
// "" is compact, else nested lines start with prefix and indent per level.
func marshal(v any, prefix, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent(prefix, indent)
	}
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// writeJSON writes v as JSON and a newline.
func writeJSON(w io.Writer, v any, indent string) error {
	b, err := marshal(v, "", indent)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
