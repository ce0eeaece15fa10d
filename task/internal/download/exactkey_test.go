package download_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/edge-drop/edge-drop/task/internal/download"
)

// A sync passes keys as S3 lists them: "a+b.txt" is that key, never the
// event spelling of "a b.txt" (which exists too and must not be fetched).
// The record names the bucket, so deletes can tell deliveries apart.
func TestExactKeyIsNotDecoded(t *testing.T) {
	e := newEnv(t)
	e.srv.Put(t, bucket, "a b.txt", []byte("the spaced one"), nil)
	want := []byte("the plus one")
	e.srv.Put(t, bucket, "a+b.txt", want, nil)
	e.srv.SetRule(nil)
	res, err := e.runWith(context.Background(), "a+b.txt", func(o *download.Options) { o.ExactKey = true })
	if err != nil {
		t.Fatal(err)
	}
	if res.Key != "a+b.txt" || !bytes.Equal(e.content("a+b.txt"), want) {
		t.Fatalf("delivered %q", res.Key)
	}
	if n := e.srv.Count(http.MethodHead); n != 1 {
		t.Errorf("%d HEADs, want 1 (no decoded-key attempt)", n)
	}
	if r := e.record("a+b.txt"); r.Bucket != bucket {
		t.Errorf("record bucket %q, want %q", r.Bucket, bucket)
	}
}
