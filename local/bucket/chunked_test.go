package bucket

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func awsChunked(chunks []string, ext, trailer string) string {
	var b strings.Builder
	for _, c := range chunks {
		fmt.Fprintf(&b, "%x%s\r\n%s\r\n", len(c), ext, c)
	}
	fmt.Fprintf(&b, "0%s\r\n%s\r\n", ext, trailer)
	return b.String()
}

func rawPut(t *testing.T, url, mode, body string, decoded int) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", mode)
	req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(decoded))
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
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

// aws-chunked bodies (trailing checksums, streaming SigV4) are stored as
// their payload, for PutObject and UploadPart alike.
func TestAWSChunkedBodies(t *testing.T) {
	s := start(t, Options{})
	c := client(t, s)
	payload := []string{"hello ", "chunked ", "world"}
	want := strings.Join(payload, "")

	resp := rawPut(t, s.URL()+"/uploads/trailer.txt", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
		awsChunked(payload, "", "x-amz-checksum-crc32:AAAAAA==\r\n"), len(want))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := getBody(t, c, "trailer.txt"); got != want {
		t.Fatalf("stored %q", got)
	}
	if ev := next(t, s); ev.Size != int64(len(want)) || ev.ETag != md5hex([]byte(want)) {
		t.Fatalf("event %+v", ev)
	}

	resp = rawPut(t, s.URL()+"/uploads/signed.txt", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
		awsChunked(payload, ";chunk-signature=0123abcd", ""), len(want))
	if resp.StatusCode != 200 || getBody(t, c, "signed.txt") != want {
		t.Fatalf("signed chunks: status %d", resp.StatusCode)
	}
	next(t, s)

	// Wrong declared length: rejected, no notification.
	resp = rawPut(t, s.URL()+"/uploads/bad.txt", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", awsChunked(payload, "", ""), len(want)+1)
	if resp.StatusCode < 400 {
		t.Fatalf("length mismatch accepted: %d", resp.StatusCode)
	}
	resp = rawPut(t, s.URL()+"/uploads/bad.txt", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "zz\r\nxx", 2)
	if resp.StatusCode < 400 {
		t.Fatalf("garbage accepted: %d", resp.StatusCode)
	}
	expectNone(t, s)

	// UploadPart with a chunked body.
	ctx := context.Background()
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("uploads"), Key: aws.String("mp.txt")})
	if err != nil {
		t.Fatal(err)
	}
	resp = rawPut(t, fmt.Sprintf("%s/uploads/mp.txt?partNumber=1&uploadId=%s", s.URL(), aws.ToString(cr.UploadId)),
		"STREAMING-UNSIGNED-PAYLOAD-TRAILER", awsChunked(payload, "", "x-amz-checksum-crc32:AAAAAA==\r\n"), len(want))
	if resp.StatusCode != 200 {
		t.Fatalf("upload part: %d", resp.StatusCode)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("uploads"), Key: aws.String("mp.txt"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: aws.String(resp.Header.Get("ETag")), PartNumber: aws.Int32(1)}}},
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
