package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The resume benchmark reads the bytes served at /__bytes, and with a
// pause the server stops sending at that byte until the count is reset.
func TestCounterCountsAndPauses(t *testing.T) {
	body := strings.Repeat("x", 1000)
	c := &counter{next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	})}
	srv := httptest.NewServer(c)
	defer srv.Close()
	get := func(path string) string {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post := func(path string) {
		resp, err := http.Post(srv.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got := get("/obj"); got != body {
		t.Fatalf("body: %d bytes", len(got))
	}
	if got := get("/__bytes"); got != "1000\n" {
		t.Fatalf("/__bytes = %q, want 1000", got)
	}
	post("/__bytes?pause=300")
	resp, err := http.Get(srv.URL + "/obj")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 300)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // nothing more comes while paused
	if got := get("/__bytes"); got != "300\n" {
		t.Fatalf("/__bytes while paused = %q, want 300", got)
	}
	post("/__bytes") // lifts the pause
	rest, _ := io.ReadAll(resp.Body)
	if len(rest) != 700 {
		t.Fatalf("after the pause: %d more bytes, want 700", len(rest))
	}
}
