package config

import (
	"sort"
	"strings"
)

// Markdown renders the settings table of docs/CONFIG.md (kept in sync by a
// test: run `go test ./internal/config -update` after changing settings).
func Markdown() string {
	rows := append([]*setting(nil), settings...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].group < rows[j].group })
	var b strings.Builder
	group := ""
	for _, s := range rows {
		if s.group != group {
			group = s.group
			title := group[strings.IndexByte(group, ' ')+1:]
			b.WriteString("\n### " + strings.ToUpper(title[:1]) + title[1:] + "\n\n")
			b.WriteString("| Flag | Environment | Default | Allowed | Meaning |\n|---|---|---|---|---|\n")
		}
		var flags, envs []string
		for _, f := range s.flags {
			flags = append(flags, "`--"+f+"`")
		}
		for _, e := range s.envs {
			envs = append(envs, "`"+e+"`")
		}
		def := s.def
		if def == "" {
			def = "–"
		} else {
			def = "`" + def + "`"
		}
		cell := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
		b.WriteString("| " + orDash(strings.Join(flags, ", ")) + " | " + orDash(strings.Join(envs, ", ")) + " | " + def +
			" | " + cell(s.allowed) + " | " + cell(s.help) + " |\n")
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
