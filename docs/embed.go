// Package docs embeds the canonical OpenAPI description of the HTTP API,
// which the server serves at /openapi.yaml and tests check against the
// registered routes.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
