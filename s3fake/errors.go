package s3fake

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
)

// WriteError answers r with S3's XML error document (none for a HEAD,
// which has no body).
func WriteError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>")
	_ = xml.EscapeText(&b, []byte(code))
	b.WriteString("</Code><Message>")
	_ = xml.EscapeText(&b, []byte(msg))
	b.WriteString("</Message><Resource>")
	_ = xml.EscapeText(&b, []byte(r.URL.Path))
	b.WriteString("</Resource></Error>")
	_, _ = io.WriteString(w, b.String())
}
