package bucket

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	if opts.Buckets == nil {
		opts.Buckets = []string{"uploads"}
	}
	if !opts.Credentials.Valid() {
		opts.Credentials, opts.Region = testKeys, testRegion
	}
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func client(t *testing.T, s *Server) *s3.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(testRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testKeys.AccessKeyID, testKeys.SecretAccessKey, "")),
	)
	if err != nil {
		t.Fatal(err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.URL())
		o.UsePathStyle = true
	})
}

func next(t *testing.T, s *Server) Notification {
	t.Helper()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			t.Fatal("events channel closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no notification within 5s")
	}
	return Notification{}
}

func expectNone(t *testing.T, s *Server) {
	t.Helper()
	select {
	case ev := <-s.Events():
		t.Fatalf("unexpected notification: %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
}

func md5hex(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

func put(t *testing.T, c *s3.Client, bucket, key string, body []byte) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return out
}

func TestPutNotifyGetRangeHeadListDelete(t *testing.T) {
	s := start(t, Options{})
	c := client(t, s)
	ctx := context.Background()
	body := []byte("hello, edge-drop: 0123456789")

	out := put(t, c, "uploads", "demo/hello.txt", body)
	ev := next(t, s)
	if ev.Bucket != "uploads" || ev.Key != "demo/hello.txt" || ev.Reason != ReasonPutObject {
		t.Fatalf("event = %+v", ev)
	}
	if ev.Size != int64(len(body)) || ev.ETag != md5hex(body) || ev.ETag != strings.Trim(aws.ToString(out.ETag), `"`) {
		t.Fatalf("size/etag = %d/%q, want %d/%q", ev.Size, ev.ETag, len(body), md5hex(body))
	}
	if ev.RequestID == "" || ev.SourceIP != "127.0.0.1" || ev.Time.IsZero() || len(ev.Sequencer) != 18 {
		t.Fatalf("metadata = %+v", ev)
	}

	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("demo/hello.txt"), Range: aws.String("bytes=7-14")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(g.Body)
	g.Body.Close()
	if string(got) != "edge-dro" || aws.ToString(g.ContentRange) != fmt.Sprintf("bytes 7-14/%d", len(body)) {
		t.Fatalf("range get = %q (%s)", got, aws.ToString(g.ContentRange))
	}

	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("uploads"), Key: aws.String("demo/hello.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(h.ContentLength) != int64(len(body)) || strings.Trim(aws.ToString(h.ETag), `"`) != ev.ETag {
		t.Fatalf("head = %d %s", aws.ToInt64(h.ContentLength), aws.ToString(h.ETag))
	}

	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("uploads"), Prefix: aws.String("demo/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Contents) != 1 || aws.ToString(l.Contents[0].Key) != "demo/hello.txt" {
		t.Fatalf("list = %+v", l.Contents)
	}

	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("uploads"), Key: aws.String("demo/hello.txt")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("uploads"), Key: aws.String("demo/hello.txt")}); err == nil {
		t.Fatal("object still there after delete")
	}
	if del := next(t, s); !del.Deleted || del.Key != "demo/hello.txt" || del.Reason != ReasonDeleteObject || del.Sequencer <= ev.Sequencer {
		t.Fatalf("delete event = %+v", del)
	}
	expectNone(t, s) // GET, HEAD, LIST notify nothing
}

func TestDeleteNotifications(t *testing.T) {
	for name, dir := range map[string]string{"memory": "", "disk": t.TempDir()} {
		t.Run(name, func(t *testing.T) {
			s := start(t, Options{Dir: dir})
			c := client(t, s)
			ctx := context.Background()
			for _, k := range []string{"a.txt", "d/b c.txt", "keep.txt"} {
				put(t, c, "uploads", k, []byte("body of "+k))
				if ev := next(t, s); ev.Deleted {
					t.Fatalf("upload reported as deletion: %+v", ev)
				}
			}

			// One key: reported with the removed object's size and ETag.
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("uploads"), Key: aws.String("a.txt")}); err != nil {
				t.Fatal(err)
			}
			ev := next(t, s)
			want := []byte("body of a.txt")
			if !ev.Deleted || ev.Bucket != "uploads" || ev.Key != "a.txt" || ev.Reason != ReasonDeleteObject ||
				ev.ETag != md5hex(want) || ev.Size != int64(len(want)) || ev.RequestID == "" || ev.SourceIP != "127.0.0.1" || len(ev.Sequencer) != 18 {
				t.Fatalf("DeleteObject event = %+v", ev)
			}

			// A key that is not there changes nothing: nothing to report.
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("uploads"), Key: aws.String("a.txt")}); err != nil {
				t.Fatal(err)
			}
			// Removing an object's tags must not remove the object (gofakes3
			// alone would): the local server declines it.
			if _, err := c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("uploads"), Key: aws.String("keep.txt")}); err == nil || !strings.Contains(err.Error(), "NotImplemented") {
				t.Fatalf("DeleteObjectTagging = %v, want NotImplemented", err)
			}
			expectNone(t, s)

			// DeleteObjects: each existing key once, in request order.
			out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("uploads"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
				{Key: aws.String("d/b c.txt")}, {Key: aws.String("missing.txt")}, {Key: aws.String("keep.txt")},
			}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Errors) != 0 {
				t.Fatalf("DeleteObjects errors: %+v", out.Errors)
			}
			first, second := next(t, s), next(t, s)
			if !first.Deleted || first.Key != "d/b c.txt" || first.Reason != ReasonDeleteObject || !second.Deleted || second.Key != "keep.txt" || second.Sequencer <= first.Sequencer {
				t.Fatalf("DeleteObjects events = %+v, %+v", first, second)
			}
			expectNone(t, s)
		})
	}
}

func TestRawKeys(t *testing.T) {
	s := start(t, Options{Dir: t.TempDir()})
	c := client(t, s)
	for _, key := range []string{"red flower.jpg", "a+b=c&d.txt", "dir/sub/ünïcødé 100%.bin", "x?y#z.txt"} {
		put(t, c, "uploads", key, []byte(key))
		if ev := next(t, s); ev.Key != key || ev.Size != int64(len(key)) {
			t.Fatalf("key %q: event %+v", key, ev)
		}
	}
}

func TestKeysThatCannotBeFiles(t *testing.T) {
	disk := start(t, Options{Dir: t.TempDir()})
	mem := start(t, Options{})
	for _, key := range []string{"a/../x", "./x", "a//b", "dir/"} {
		_, err := client(t, disk).PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String("uploads"), Key: aws.String(key), Body: strings.NewReader("x"),
		})
		if err == nil || !strings.Contains(err.Error(), "InvalidArgument") {
			t.Errorf("disk PUT %q: %v", key, err)
		}
		put(t, client(t, mem), "uploads", key, []byte("x")) // in memory any key works
		if ev := next(t, mem); ev.Key != key {
			t.Errorf("mem event %+v", ev)
		}
	}
	expectNone(t, disk)
}

// DeleteObjects names its keys in the body, not the path: on disk such a
// key must not reach another bucket or alias another key either.
func TestDeleteObjectsWithKeysThatCannotBeFiles(t *testing.T) {
	disk := start(t, Options{Dir: t.TempDir(), Buckets: []string{"uploads", "other"}})
	c := client(t, disk)
	put(t, c, "other", "x", []byte("another bucket's object"))
	put(t, c, "uploads", "b", []byte("this bucket's object"))
	next(t, disk)
	next(t, disk)
	for _, key := range []string{"../other/x", "a/../b"} {
		_, err := c.DeleteObjects(context.Background(), &s3.DeleteObjectsInput{Bucket: aws.String("uploads"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String(key)}}}})
		if err == nil || !strings.Contains(err.Error(), "InvalidArgument") {
			t.Errorf("DeleteObjects %q: %v, want InvalidArgument", key, err)
		}
	}
	for bucket, key := range map[string]string{"other": "x", "uploads": "b"} {
		if _, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
			t.Errorf("%s/%s is gone: %v", bucket, key, err)
		}
	}
	expectNone(t, disk)
}

func TestMultipartUpload(t *testing.T) {
	s := start(t, Options{Dir: t.TempDir()})
	c := client(t, s)
	ctx := context.Background()
	part1 := bytes.Repeat([]byte("a"), 5<<20)
	part2 := []byte("tail")
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("uploads"), Key: aws.String("big/file.bin")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, p := range [][]byte{part1, part2} {
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String("uploads"), Key: aws.String("big/file.bin"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p),
		})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	expectNone(t, s) // parts are not objects
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("uploads"), Key: aws.String("big/file.bin"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		t.Fatal(err)
	}
	ev := next(t, s)
	whole := append(append([]byte{}, part1...), part2...)
	if ev.Reason != ReasonCompleteMultipartUpload || ev.Key != "big/file.bin" || ev.Size != int64(len(whole)) {
		t.Fatalf("event = %+v", ev)
	}
	// The ETag is the one HEAD/GET report, so If-Match with it works.
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("uploads"), Key: aws.String("big/file.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Trim(aws.ToString(h.ETag), `"`) != ev.ETag {
		t.Fatalf("etag %q, head says %s", ev.ETag, aws.ToString(h.ETag))
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("big/file.bin"), Range: aws.String("bytes=5242878-")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(g.Body)
	g.Body.Close()
	if string(got) != "aatail" {
		t.Fatalf("range across parts = %q", got)
	}
}

func TestCopyObject(t *testing.T) {
	s := start(t, Options{})
	c := client(t, s)
	body := []byte("copy me")
	put(t, c, "uploads", "src/a b.txt", body)
	next(t, s)
	if _, err := c.CopyObject(context.Background(), &s3.CopyObjectInput{
		Bucket: aws.String("uploads"), Key: aws.String("dst/a b.txt"),
		CopySource: aws.String("uploads/" + url.PathEscape("src/a b.txt")),
	}); err != nil {
		t.Fatal(err)
	}
	ev := next(t, s)
	if ev.Reason != ReasonCopyObject || ev.Key != "dst/a b.txt" || ev.Size != int64(len(body)) || ev.ETag != md5hex(body) {
		t.Fatalf("event = %+v", ev)
	}
}

func TestFailedUploadsDoNotNotify(t *testing.T) {
	s := start(t, Options{})
	c := client(t, s)
	ctx := context.Background()
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("missing"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if err == nil {
		t.Fatal("PUT to a missing bucket succeeded")
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("uploads"), Key: aws.String("k"), CopySource: aws.String("uploads/nope")})
	if err == nil {
		t.Fatal("copy of a missing source succeeded")
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("uploads"), Key: aws.String("k"), UploadId: aws.String("bogus"),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: aws.String(`"x"`), PartNumber: aws.Int32(1)}}},
	})
	if err == nil {
		t.Fatal("completing a bogus upload succeeded")
	}
	// The first notification is the first successful upload.
	put(t, c, "uploads", "ok", []byte("ok"))
	if ev := next(t, s); ev.Key != "ok" {
		t.Fatalf("event = %+v", ev)
	}
	expectNone(t, s)
}

func TestBurstOf200(t *testing.T) {
	s := start(t, Options{Dir: t.TempDir()})
	c := client(t, s)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			body := []byte(fmt.Sprintf("object %d", i))
			_, err := c.PutObject(context.Background(), &s3.PutObjectInput{
				Bucket: aws.String("uploads"), Key: aws.String(fmt.Sprintf("burst/%03d.txt", i)), Body: bytes.NewReader(body),
			})
			errs <- err
		}()
	}
	// Read nothing until every upload has returned: the S3 path must not
	// wait on the reader.
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	last := ""
	for range n {
		ev := next(t, s)
		if seen[ev.Key] {
			t.Fatalf("duplicate notification for %s", ev.Key)
		}
		seen[ev.Key] = true
		var i int
		fmt.Sscanf(ev.Key, "burst/%03d.txt", &i)
		if body := fmt.Sprintf("object %d", i); ev.ETag != md5hex([]byte(body)) || ev.Size != int64(len(body)) {
			t.Fatalf("event %+v", ev)
		}
		if ev.Sequencer <= last {
			t.Fatalf("sequencer not increasing: %s after %s", ev.Sequencer, last)
		}
		last = ev.Sequencer
	}
	if len(seen) != n {
		t.Fatalf("got %d distinct notifications, want %d", len(seen), n)
	}
	expectNone(t, s)
}

func TestPersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s1 := start(t, Options{Dir: dir, Buckets: []string{"uploads", "other"}})
	put(t, client(t, s1), "uploads", "keep/me.txt", []byte("persisted"))
	first := next(t, s1)
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-s1.Events(); ok {
		t.Fatal("events channel not closed after Close")
	}
	if _, err := os.Stat(filepath.Join(dir, "buckets", "uploads", "keep", "me.txt")); err != nil {
		t.Fatalf("object is not a file under Dir: %v", err)
	}

	s2 := start(t, Options{Dir: dir, Buckets: []string{"uploads"}}) // existing bucket is kept
	c := client(t, s2)
	g, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("keep/me.txt")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(g.Body)
	g.Body.Close()
	if string(got) != "persisted" || strings.Trim(aws.ToString(g.ETag), `"`) != first.ETag {
		t.Fatalf("after restart: %q %s", got, aws.ToString(g.ETag))
	}
	if _, err := c.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String("other")}); err != nil {
		t.Fatalf("bucket created in the first run is gone: %v", err)
	}
	put(t, c, "uploads", "after.txt", []byte("x"))
	if ev := next(t, s2); ev.Sequencer <= first.Sequencer {
		t.Fatalf("sequencer went back across restart: %s <= %s", ev.Sequencer, first.Sequencer)
	}
}

func TestCloseWithUnreadEvents(t *testing.T) {
	s := start(t, Options{})
	c := client(t, s)
	for i := range 3 {
		put(t, c, "uploads", fmt.Sprint(i), []byte("x"))
	}
	done := make(chan error)
	go func() { done <- s.Close() }()
	var keys []string
	for ev := range s.Events() { // queued notifications are still delivered, then closed
		keys = append(keys, ev.Key)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, ",") != "0,1,2" {
		t.Fatalf("delivered %v", keys)
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := Start(context.Background(), Options{Buckets: []string{"Bad_Name"}, Logger: quietLogger(), Credentials: testKeys, Region: testRegion}); err == nil {
		t.Fatal("invalid bucket name accepted")
	}
	if _, err := Start(context.Background(), Options{Logger: quietLogger()}); err == nil || !strings.Contains(err.Error(), "Credentials and Region are required") {
		t.Fatalf("a server without credentials: %v", err)
	}
	if _, err := Start(context.Background(), Options{Logger: quietLogger(), Credentials: testKeys, Region: testRegion, CORSOrigin: "*"}); err == nil || !strings.Contains(err.Error(), "want one origin") {
		t.Fatalf("a wildcard CORS origin: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, Options{Logger: quietLogger(), Credentials: testKeys, Region: testRegion})
	if err != nil {
		t.Fatal(err)
	}
	cancel() // cancelling the context closes the server
	select {
	case _, ok := <-s.Events():
		if ok {
			t.Fatal("unexpected event")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("context cancel did not close the server")
	}
	_, err = Start(context.Background(), Options{Addr: "127.0.0.1:-1", Logger: quietLogger(), Credentials: testKeys, Region: testRegion})
	if err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("bad address: %v", err)
	}
}

// TestIfMatch: GET and HEAD honour If-Match as S3 does (412 when the object
// was replaced), so the task's pinned ranged GETs see a replacement at once.
func TestIfMatch(t *testing.T) {
	s := start(t, Options{Buckets: []string{"bkt"}})
	c := client(t, s)
	ctx := context.Background()
	first := put(t, c, "bkt", "k.txt", []byte("version A"))
	next(t, s)
	put(t, c, "bkt", "k.txt", []byte("version B"))
	next(t, s)

	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k.txt"), IfMatch: first.ETag, Range: aws.String("bytes=0-3")})
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusPreconditionFailed {
		t.Fatalf("GET If-Match old ETag: want 412, got %v", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k.txt"), IfMatch: first.ETag}); !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusPreconditionFailed {
		t.Fatalf("HEAD If-Match old ETag: want 412, got %v", err)
	}
	cur, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k.txt")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k.txt"), IfMatch: cur.ETag})
	if err != nil {
		t.Fatalf("GET If-Match current ETag: %v", err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(body) != "version B" {
		t.Fatalf("body %q", body)
	}
	// A missing key stays a 404, whatever If-Match says.
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("nope"), IfMatch: first.ETag}); !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusNotFound {
		t.Fatalf("HEAD missing key: want 404, got %v", err)
	}
}
