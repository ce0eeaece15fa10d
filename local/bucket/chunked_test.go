package bucket

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func awsChunked(chunks []string, trailer string) string {
	var b strings.Builder
	for _, c := range chunks {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(c), c)
	}
	fmt.Fprintf(&b, "0\r\n%s\r\n", trailer)
	return b.String()
}

// chunkedPut sends an aws-chunked PUT signed with mode as its payload
// hash; body gets the request's (seed) signature and its time.
func chunkedPut(t *testing.T, url, mode string, decoded int, body func(seed string, at time.Time) string) (status int, code, etag string) {
	t.Helper()
	at := time.Now().UTC().Truncate(time.Second)
	// The body's length is signed (Content-Length) before the body exists:
	// frame it once with a dummy seed to learn it.
	size := len(body(strings.Repeat("0", 64), at))
	req, err := http.NewRequest(http.MethodPut, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(size)
	req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(decoded))
	req.Header.Set("Content-Encoding", "aws-chunked")
	if strings.HasSuffix(mode, "-TRAILER") {
		req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	}
	seed := signRequest(t, req, mode, testKeys, at)
	b := body(seed, at)
	req.Body = http.NoBody
	if len(b) > 0 {
		req.Body = readCloser(strings.NewReader(b))
	}
	status, code, resp := send(t, req)
	return status, code, resp.Header.Get("ETag")
}

func getBody(t *testing.T, c *s3.Client, key string) string {
	t.Helper()
	g, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Body.Close()
	b, _ := io.ReadAll(g.Body)
	return string(b)
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

func readCloser(r *strings.Reader) nopCloser { return nopCloser{r} }

// aws-chunked bodies (trailing checksums, streaming SigV4) are stored as
// their payload, for PutObject and UploadPart alike; a signed one only if
// every chunk's signature holds.
func TestAWSChunkedBodies(t *testing.T) {
	s := start(t, Options{Dir: t.TempDir()})
	c := client(t, s)
	payload := []string{"hello ", "chunked ", "world"}
	want := strings.Join(payload, "")
	plain := func(trailer string) func(string, time.Time) string {
		return func(string, time.Time) string { return awsChunked(payload, trailer) }
	}
	signed := func(chunks []string, trailer string) func(string, time.Time) string {
		return func(seed string, at time.Time) string { return signedChunks(t, seed, at, chunks, trailer) }
	}

	for _, tc := range []struct {
		key, mode string
		body      func(string, time.Time) string
	}{
		{"trailer.txt", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", plain("x-amz-checksum-crc32:AAAAAA==\r\n")},
		{"signed.txt", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", signed(payload, "")},
		{"signed-trailer.txt", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", signed(payload, "x-amz-checksum-crc32:AAAAAA==")},
	} {
		if status, code, _ := chunkedPut(t, s.URL()+"/uploads/"+tc.key, tc.mode, len(want), tc.body); status != 200 {
			t.Fatalf("%s: status %d %s", tc.mode, status, code)
		}
		if got := getBody(t, c, tc.key); got != want {
			t.Fatalf("%s: stored %q", tc.mode, got)
		}
		if ev := next(t, s); ev.Key != tc.key || ev.Size != int64(len(want)) || ev.ETag != md5hex([]byte(want)) {
			t.Fatalf("%s: event %+v", tc.mode, ev)
		}
	}

	// Signed chunks that do not hold: refused, nothing stored, the object
	// that was there untouched.
	changed := []string{"hello ", "chunkeD ", "world"}
	for name, tc := range map[string]struct {
		mode   string
		body   func(string, time.Time) string
		status int
		code   string
	}{
		"bogus chunk signatures": {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", func(string, time.Time) string {
			var b strings.Builder
			for _, c := range append(payload, "") {
				fmt.Fprintf(&b, "%x;chunk-signature=0123abcd\r\n%s\r\n", len(c), c)
			}
			return b.String()
		}, 403, "SignatureDoesNotMatch"},
		"a chunk changed after signing": {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", func(seed string, at time.Time) string {
			return strings.Replace(signedChunks(t, seed, at, payload, ""), "chunked", "chunkeD", 1)
		}, 403, "SignatureDoesNotMatch"},
		"chunks signed for another body": {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", func(string, time.Time) string {
			return signedChunks(t, strings.Repeat("ab", 32), time.Now(), changed, "")
		}, 403, "SignatureDoesNotMatch"},
		"a chunk without its signature": {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", plain(""), 400, "AuthorizationHeaderMalformed"},
		"a trailer changed after signing": {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", func(seed string, at time.Time) string {
			return strings.Replace(signedChunks(t, seed, at, payload, "x-amz-checksum-crc32:AAAAAA=="), "AAAAAA==", "BBBBBB==", 1)
		}, 403, "SignatureDoesNotMatch"},
		"a trailer without its signature": {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", func(seed string, at time.Time) string {
			b := signedChunks(t, seed, at, payload, "x-amz-checksum-crc32:AAAAAA==")
			return b[:strings.Index(b, "x-amz-trailer-signature")] + "\r\n"
		}, 400, "AuthorizationHeaderMalformed"},
	} {
		t.Run(name, func(t *testing.T) {
			status, code, _ := chunkedPut(t, s.URL()+"/uploads/signed.txt", tc.mode, len(want), tc.body)
			if status != tc.status || code != tc.code {
				t.Errorf("status %d %s, want %d %s", status, code, tc.status, tc.code)
			}
			if got := getBody(t, c, "signed.txt"); got != want {
				t.Errorf("the stored object became %q", got)
			}
		})
	}
	expectNone(t, s)

	// Wrong declared length or garbage: rejected, no notification.
	if status, _, _ := chunkedPut(t, s.URL()+"/uploads/bad.txt", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", len(want)+1, plain("")); status < 400 {
		t.Fatalf("length mismatch accepted: %d", status)
	}
	if status, _, _ := chunkedPut(t, s.URL()+"/uploads/bad.txt", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", 2,
		func(string, time.Time) string { return "zz\r\nxx" }); status < 400 {
		t.Fatalf("garbage accepted: %d", status)
	}
	expectNone(t, s)

	// UploadPart with a chunked body, signed chunk by chunk.
	ctx := context.Background()
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("uploads"), Key: aws.String("mp.txt")})
	if err != nil {
		t.Fatal(err)
	}
	partURL := fmt.Sprintf("%s/uploads/mp.txt?partNumber=1&uploadId=%s", s.URL(), aws.ToString(cr.UploadId))
	tampered := func(seed string, at time.Time) string {
		return strings.Replace(signedChunks(t, seed, at, payload, ""), "world", "World", 1)
	}
	if status, _, _ := chunkedPut(t, partURL, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", len(want), tampered); status != 403 {
		t.Fatalf("a part with bad signatures: %d", status)
	}
	status, code, etag := chunkedPut(t, partURL, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", len(want), signed(payload, ""))
	if status != 200 {
		t.Fatalf("upload part: %d %s", status, code)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("uploads"), Key: aws.String("mp.txt"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: aws.String(etag), PartNumber: aws.Int32(1)}}},
	}); err != nil {
		t.Fatal(err)
	}
	if got := getBody(t, c, "mp.txt"); got != want {
		t.Fatalf("multipart stored %q", got)
	}
	if ev := next(t, s); ev.Reason != ReasonCompleteMultipartUpload || ev.Size != int64(len(want)) {
		t.Fatalf("event %+v", ev)
	}
}
