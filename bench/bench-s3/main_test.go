package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/edge-drop/edge-drop/s3fake"
)

// -big-mib under 10 was a slice-bounds panic (mid.bin is its first 10 MiB).
func TestFlagsAreChecked(t *testing.T) {
	ok := options{bigMiB: 10, syncBigMiB: 100}
	if err := ok.check(); err != nil {
		t.Errorf("-big-mib 10: %v", err)
	}
	small := ok
	small.bigMiB = 1
	if err := small.check(); err == nil || !strings.Contains(err.Error(), "at least 10") {
		t.Errorf("-big-mib 1: %v, want a one-line error", err)
	}
	neg := ok
	neg.syncMany = -1
	if err := neg.check(); err == nil {
		t.Error("-sync-many -1 accepted")
	}
}

// The smallest server starts with every object, the multipart ones
// presented in 8 MiB parts.
func TestObjectsLoad(t *testing.T) {
	objs := append(downloadObjects(midMiB), syncObjects(options{syncSmall: 2, syncMany: 3})...)
	backend := s3mem.New()
	fx := s3fake.New(backend, gofakes3.New(backend).Server())
	lines, err := load(backend, fx, objs)
	if err != nil || len(lines) != 9+5 {
		t.Fatalf("load: %d lines, %v", len(lines), err)
	}
	srv := httptest.NewServer(fx)
	defer srv.Close()
	resp, err := http.Head(srv.URL + "/bench/big-composite.bin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if etag := resp.Header.Get("ETag"); !strings.HasSuffix(etag, `-2"`) || resp.Header.Get("x-amz-checksum-type") != "COMPOSITE" {
		t.Errorf("big-composite.bin (10 MiB): ETag %s, %v; want 2 parts, COMPOSITE", etag, resp.Header)
	}
}
