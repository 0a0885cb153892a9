package pagecall

// The generator is pinned with go.mod's `tool` directive (Go 1.24+) rather than
// a separate tools module: one go.mod and one go.sum to keep current, and
// `go tool oapi-codegen` runs exactly the version recorded there. Tool
// dependencies are not linked into the library, so importers of this module do
// not build them (check with `go list -deps .`).
//
// Five runs of the same generator on the same spec and overlay:
//   - gen/config.yaml writes internal/wire/wire.gen.go, package wire: the
//     wire-level models and the HTTP client, internal so that callers reach
//     the models only through this package's documented aliases; then
//     internal/wirenames renames the two names oapi-codegen's client
//     templates give it that say how it was made (<Op>JSONRequestBody
//     becomes <Op>RequestBody, HttpRequestDoer becomes Doer);
//   - gen/methods.yaml writes operations.gen.go in this package: one method
//     per operation on *Client, an iterator per list operation, and aliases
//     of wire's models, with the templates in gen/templates;
//   - gen/conformance.yaml writes operations.gen_test.go: the table of every
//     operation's method that TestConformance runs against the mock;
//   - gen/doc.yaml writes pagecall_doc.gen.go: the package documentation's
//     list of those methods, grouped by the spec's tags.
//   - gen/cli.yaml writes cmd/pagecall/operations.gen.go: the table of every
//     operation's method (and list iterator) that the pagecall CLI derives
//     its commands around.

//go:generate go tool oapi-codegen -config gen/config.yaml api/openapi.yaml
//go:generate go run ./internal/wirenames/cmd internal/wire/wire.gen.go
//go:generate go tool oapi-codegen -config gen/methods.yaml api/openapi.yaml
//go:generate go tool oapi-codegen -config gen/conformance.yaml api/openapi.yaml
//go:generate go tool oapi-codegen -config gen/doc.yaml api/openapi.yaml
//go:generate go tool oapi-codegen -config gen/cli.yaml api/openapi.yaml
