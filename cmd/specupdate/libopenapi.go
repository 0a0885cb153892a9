package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel"
)

// secondOpinion validates an OpenAPI document with a second validator,
// independent of kin-openapi: pb33f's libopenapi-validator, which checks
// the document against the official OpenAPI JSON Schema for its version.
// kin-openapi checks what it needs to load and route a document and lets
// some of the schema's rules pass (it accepted the overlay's `required: []`,
// which the OAS 3.0 schema forbids); a second implementation of the rules
// finds what the first does not. Problems are returned one a line, each
// with its location in the document; nil means valid.
//
// The document is parsed without file or remote references, as kin-openapi
// loads it here: validation must not reach the disk or the network.
func secondOpinion(data []byte) []string {
	doc, err := libopenapi.NewDocumentWithConfiguration(data, &datamodel.DocumentConfiguration{
		AllowFileReferences:   false,
		AllowRemoteReferences: false,
	})
	if err != nil {
		return []string{"libopenapi cannot parse the document: " + firstLine(err.Error())}
	}
	valid, errs := schema_validation.ValidateOpenAPIDocument(doc)
	if valid {
		return nil
	}
	var out []string
	add := func(p string) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, e := range errs {
		if len(e.SchemaValidationErrors) == 0 {
			add(fmt.Sprintf("%s: %s", firstLine(e.Message), firstLine(e.Reason)))
			continue
		}
		for _, f := range e.SchemaValidationErrors {
			where := f.FieldPath
			if where == "" {
				where = "/" + strings.Join(f.InstancePath, "/")
			}
			if f.Line > 0 {
				where = fmt.Sprintf("%s (line %d)", where, f.Line)
			}
			add(fmt.Sprintf("%s: %s", where, firstLine(f.Reason)))
		}
	}
	if len(out) == 0 { // invalid, but nothing said why
		add("libopenapi-validator: the document is not valid OpenAPI")
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}
