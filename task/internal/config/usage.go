package config

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/edge-drop/edge-drop/contract"
)

// Usage writes -h: the modes, then every flag with its doc, environment
// variable and default.
func Usage(w io.Writer) {
	fmt.Fprintf(w, "usage: edge-drop-task [download|sync|delete] [flags]\n\n"+
		"  download  (default) deliver s3://BUCKET/KEY to DIR/KEY\n"+
		"  sync      deliver every object under -prefix whose key matches -pattern that DIR lacks or holds in another version\n"+
		"  delete    remove DIR/KEY if KEY is gone from the bucket and this task delivered the file\n\n"+
		"The mode can also be set with %s. Flags override the %s* environment variables.\n\n", contract.EnvMode, contract.EnvPrefix)
	for _, s := range Settings {
		if s.Flag == "" || s.set == nil {
			continue
		}
		arg := " value"
		if s.Bool {
			arg = ""
		}
		fmt.Fprintf(w, "  -%s%s\n    \t%s\n", s.Flag, arg, s.help())
	}
}

// help is the setting's -h text: its doc in plain words, then where else
// it can be set and its default.
func (s Setting) help() string {
	h := plain(s.Doc)
	var more []string
	if s.Env != "" {
		more = append(more, "env "+s.Env)
	}
	if s.Default != "" {
		more = append(more, "default "+s.Default)
	}
	if len(more) > 0 {
		h += " (" + strings.Join(more, ", ") + ")"
	}
	return h
}

var mdLink = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)

// plain drops Markdown: links keep their text, code and emphasis marks go.
func plain(md string) string {
	md = mdLink.ReplaceAllString(md, "$1")
	return strings.NewReplacer("`", "", "**", "").Replace(md)
}

// Markdown is task/README.md's settings table, one row per setting.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| env | flag | default | meaning |\n|---|---|---|---|\n")
	for _, s := range Settings {
		env, flag, def := "", "", ""
		if s.Env != "" {
			env = "`" + s.Env + "`"
		}
		switch {
		case s.Arg:
			flag = "first argument"
		case s.Flag != "" && s.set != nil:
			flag = "`-" + s.Flag + "`"
		}
		switch {
		case s.Required:
			def = "(required)"
		case s.Default != "":
			def = "`" + s.Default + "`"
		}
		line := "| " + strings.Join([]string{env, flag, def, s.Doc}, " | ") + " |"
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(line, "|  |", "| |"), "|  |", "| |") + "\n")
	}
	return b.String()
}
