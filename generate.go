package pagecall

// The generator is pinned with go.mod's `tool` directive (Go 1.24+) rather than
// a separate tools module: one go.mod and one go.sum to keep current, and
// `go tool oapi-codegen` runs exactly the version recorded there. Tool
// dependencies are not linked into the library, so importers of this module do
// not build them (check with `go list -deps .`).

//go:generate go tool oapi-codegen -config gen/config.yaml api/openapi.yaml
