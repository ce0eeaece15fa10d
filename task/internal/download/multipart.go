package download

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
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

// multipartVerifier makes a multipart ETag verifiable by learning the
// upload's part size: HEAD with partNumber=1 gives the first part's length,
// and HEAD partNumber=N checks that the last part fits a uniform part size
// (what every common uploader uses). On any doubt it returns ok=false and
// the caller keeps the "not verifiable" note.
func multipartVerifier(ctx context.Context, api API, bucket, key, etag string, size int64) (verifier, string, bool) {
	parts := multipartParts(etag)
	if parts == 0 {
		return verifier{}, "not a multipart ETag", false
	}
	head := func(n int32) (*s3.HeadObjectOutput, error) {
		return api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key, PartNumber: aws.Int32(n), IfMatch: &etag})
	}
	first, err := head(1)
	if err != nil {
		return verifier{}, "HEAD partNumber=1 failed: " + err.Error(), false
	}
	p := aws.ToInt64(first.ContentLength)
	if first.PartsCount != nil && int(*first.PartsCount) != parts {
		return verifier{}, fmt.Sprintf("parts count %d does not match ETag's %d", *first.PartsCount, parts), false
	}
	if p <= 0 || int64(parts-1)*p >= size || int64(parts)*p < size {
		return verifier{}, fmt.Sprintf("part size %d does not fit %d parts of a %d-byte object", p, parts, size), false
	}
	if parts > 1 {
		last, err := head(int32(parts))
		if err != nil {
			return verifier{}, "HEAD of the last part failed: " + err.Error(), false
		}
		if aws.ToInt64(last.ContentLength) != size-int64(parts-1)*p {
			return verifier{}, "parts are not of uniform size", false
		}
	}
	return verifier{
		Name:     "md5-multipart-etag",
		Expected: strings.Trim(etag, `"`),
		New:      func() hash.Hash { return newMultipartMD5(p) },
		Encode:   func(b []byte) string { return string(b) },
	}, "", true
}

// multipartMD5 computes an S3 multipart ETag for a given part size; Sum
// appends "<hex md5 of the parts' md5s>-<parts>".
type multipartMD5 struct {
	partSize int64
	cur      hash.Hash
	n        int64
	sums     []byte
	parts    int
}

func newMultipartMD5(partSize int64) *multipartMD5 {
	return &multipartMD5{partSize: partSize, cur: md5.New()}
}

func (m *multipartMD5) Write(b []byte) (int, error) {
	total := len(b)
	for len(b) > 0 {
		take := min(int64(len(b)), m.partSize-m.n)
		m.cur.Write(b[:take])
		m.n += take
		b = b[take:]
		if m.n == m.partSize {
			m.sums = m.cur.Sum(m.sums)
			m.cur.Reset()
			m.n = 0
			m.parts++
		}
	}
	return total, nil
}

func (m *multipartMD5) Sum(b []byte) []byte {
	sums, parts := m.sums, m.parts
	if m.n > 0 || parts == 0 {
		sums = m.cur.Sum(append([]byte(nil), sums...))
		parts++
	}
	d := md5.Sum(sums)
	return append(b, hex.EncodeToString(d[:])+"-"+strconv.Itoa(parts)...)
}

func (m *multipartMD5) Reset()         { *m = multipartMD5{partSize: m.partSize, cur: md5.New()} }
func (m *multipartMD5) Size() int      { return 0 }
func (m *multipartMD5) BlockSize() int { return md5.BlockSize }
