// Package overlay applies api/overlay.yaml to an OpenAPI document the way
// oapi-codegen does when it generates the SDK (speakeasy's overlay library
// on a yaml.Node, in non-strict mode, so an erratum Pagecall fixed upstream
// simply stops matching), for the programs that load the document at run
// time: the mock (pagecalltest) and the CLI (cmd/pagecall).
package overlay

import (
	"bytes"
	"fmt"

	"github.com/speakeasy-api/openapi/overlay/loader"
	"gopkg.in/yaml.v3"
)

// Apply returns openapiDoc with overlayDoc applied, as YAML. An empty
// overlayDoc returns openapiDoc unchanged.
func Apply(openapiDoc, overlayDoc []byte) ([]byte, error) {
	if len(bytes.TrimSpace(overlayDoc)) == 0 {
		return openapiDoc, nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(openapiDoc, &root); err != nil {
		return nil, fmt.Errorf("parse OpenAPI document: %w", err)
	}
	ov, err := loader.LoadOverlayFromReader(bytes.NewReader(overlayDoc))
	if err != nil {
		return nil, err
	}
	if err := ov.Validate(); err != nil {
		return nil, fmt.Errorf("invalid overlay: %w", err)
	}
	if err := ov.ApplyTo(&root); err != nil {
		return nil, fmt.Errorf("apply overlay: %w", err)
	}
	merged, err := yaml.Marshal(&root)
	if err != nil {
		return nil, fmt.Errorf("serialize overlaid document: %w", err)
	}
	return merged, nil
}
