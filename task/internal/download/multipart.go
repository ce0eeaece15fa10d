package download

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/edge-drop/edge-drop/task/internal/exitcode"
)

// multipartParts returns N for a multipart ETag "<md5 of md5s>-N".
func multipartParts(etag string) int {
	hexPart, n, ok := strings.Cut(strings.Trim(etag, `"`), "-")
	if !ok || !isHexMD5(hexPart) {
		return 0
	}
	parts, err := strconv.Atoi(n)
	if err != nil || parts < 1 || parts > 10000 {
		return 0
	}
	return parts
}

// learnParts checks that the server can serve the upload's parts, for a
// verifier that needs them (composite checksum, multipart ETag), and
// returns "" or why not, and the size of part 1 (a check of a file on disk
// assumes uniform parts of that size, as every SDK uploads them). One extra request, whatever the part sizes: HEAD
// ?partNumber=1 must report the part count the checksum/ETag names
// (x-amz-mp-parts-count) and a first part that fits the object. The parts'
// exact offsets then come from the Content-Range of each part's GET
// ?partNumber=, so uploads with mixed part sizes need no further requests.
func learnParts(ctx context.Context, api API, bucket, key, etag string, size int64, parts int) (string, int64) {
	if size == 0 {
		if parts != 1 {
			return fmt.Sprintf("an empty object cannot have %d parts", parts), 0
		}
		return "", 0
	}
	in := &s3.HeadObjectInput{Bucket: &bucket, Key: &key, PartNumber: aws.Int32(1), ChecksumMode: types.ChecksumModeEnabled}
	if etag != "" {
		in.IfMatch = &etag
	}
	first, err := api.HeadObject(ctx, in)
	if err != nil {
		return "HEAD ?partNumber=1 failed: " + err.Error(), 0
	}
	p := aws.ToInt64(first.ContentLength)
	switch {
	case parts > 1 && first.PartsCount == nil:
		return "the server reports no parts count", 0
	case first.PartsCount != nil && int(*first.PartsCount) != parts:
		return fmt.Sprintf("the server reports %d parts", *first.PartsCount), 0
	case p <= 0 || p > size || (parts == 1) != (p == size):
		return fmt.Sprintf("its part 1 has %d bytes of %d", p, size), 0
	}
	return "", p
}

// partSpan reads where part partNumber lies in the object from the
// response to GET ?partNumber= (Content-Range "bytes first-last/size").
func partSpan(out *s3.GetObjectOutput, size int64, partNumber, parts int) (span, error) {
	bad := func(what string) (span, error) {
		return span{}, exitcode.Errorf(exitcode.Integrity, "%w: GET ?partNumber=%d of a %d-byte object in %d parts: %s", ErrIntegrity, partNumber, size, parts, what)
	}
	if out.PartsCount != nil && int(*out.PartsCount) != parts {
		return bad(fmt.Sprintf("server reports %d parts", *out.PartsCount))
	}
	n := aws.ToInt64(out.ContentLength)
	cr := aws.ToString(out.ContentRange)
	if cr == "" {
		if parts == 1 && n == size { // the whole object, as a 200
			return span{0, size}, nil
		}
		return bad("no Content-Range (does the server support ?partNumber= on GET?)")
	}
	var first, last, total int64
	if _, err := fmt.Sscanf(cr, "bytes %d-%d/%d", &first, &last, &total); err != nil {
		return bad(fmt.Sprintf("Content-Range %q", cr))
	}
	if total != size || first < 0 || last < first || last >= size || (out.ContentLength != nil && n != last-first+1) {
		return bad(fmt.Sprintf("Content-Range %q with Content-Length %d", cr, n))
	}
	return span{first, last - first + 1}, nil
}
