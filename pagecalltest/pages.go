package pagecalltest

import (
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// isCreatePages reports whether op is CreateRoomPages (CreateRoomsPage in
// a document served without the overlay, which renames it), which adds
// pages to a room's board: its request is an array of pages and its answer
// lists the pages created.
func isCreatePages(op *openapi3.Operation) bool {
	return strings.EqualFold(op.OperationID, "createroompages") || strings.EqualFold(op.OperationID, "createroomspage")
}

// createPages answers CreateRoomPages from its request: one created page
// per requested page, in the order sent, each with a new ID and the fields
// of the requested page that the created page's schema declares (entities,
// say). A requested page without entities gets none: nothing is made up.
// obj is the answer sampled from the document, whose `pages` is replaced.
// The mock keeps no pages: no operation reads them back.
func (st *store) createPages(schema *openapi3.SchemaRef, obj map[string]any, requested []any, now time.Time) map[string]any {
	var item *openapi3.SchemaRef
	if schema != nil && schema.Value != nil {
		if p := schema.Value.Properties["pages"]; p != nil && p.Value != nil {
			item = p.Value.Items
		}
	}
	if item == nil || item.Value == nil {
		return obj // the document says nothing of the created pages
	}
	tmpl, _ := sample(item).(map[string]any)
	pages := make([]any, 0, len(requested))
	for _, r := range requested {
		fields, _ := r.(map[string]any)
		page := map[string]any{}
		for _, req := range item.Value.Required {
			if v, ok := tmpl[req]; ok {
				page[req] = v // only what the schema demands
			}
		}
		for k, v := range fields {
			if p := item.Value.Properties[k]; p != nil && p.Value != nil && !p.Value.ReadOnly && validFor(p.Value, v) {
				page[k] = v
			}
		}
		if item.Value.Properties["id"] != nil {
			page["id"] = st.newID(now)
		}
		pages = append(pages, page)
	}
	obj["pages"] = pages
	return obj
}
