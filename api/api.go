// Package api holds Pagecall's OpenAPI document and the overlay that fixes its
// errata, embedded so that tools (the mock server, the CLI's demo) work from
// any directory without reading files at run time.
//
// It embeds bytes only. It does not parse them, so it links no OpenAPI
// library.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml: Pagecall's published document, byte for byte.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Overlay is api/overlay.yaml: the OpenAPI Overlay that oapi-codegen applies
// at generation time and that anything loading OpenAPI must apply as well.
//
//go:embed overlay.yaml
var Overlay []byte
