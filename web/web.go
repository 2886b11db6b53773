// Package web holds Luma's browser front ends, embedded into the binary so
// they work offline: the dashboard (static/index.html and static/assets/,
// plain HTML, CSS and JavaScript modules, no build step) and the API
// reference page (static/docs.html, which the server fills with the
// OpenAPI document). internal/httpapi serves them (ui.go); e2e/ holds the
// browser tests.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Files returns the front-end files: index.html, docs.html and assets/*.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}
