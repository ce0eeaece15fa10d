package s3fake

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"
)

// multipart is how SetParts presents an object.
type multipart struct {
	hash   string  // gofakes3's ETag of the stored content, to detect replacement
	etag   string  // "<md5 of part md5s>-N"
	ends   []int64 // end offset of each part
	header string  // "x-amz-checksum-<algo>" of a composite checksum, or ""
	sums   []string
	whole  string // the composite checksum "<base64>-N"
}

// start returns where part n (from 1) begins.
func (m multipart) start(n int) int64 {
	if n == 1 {
		return 0
	}
	return m.ends[n-2]
}

// ChecksumAlgos are the algorithms SetParts knows, by S3 name.
var ChecksumAlgos = map[string]func() hash.Hash{
	"CRC32":     func() hash.Hash { return crc32.NewIEEE() },
	"CRC32C":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"CRC64NVME": func() hash.Hash { return crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)) },
	"SHA1":      sha1.New,
	"SHA256":    sha256.New,
}

// SetMultipart makes bucket/key look like an object uploaded in parts of
// partSize (the last one shorter); see SetParts.
func (h *Handler) SetMultipart(bucket, key string, data []byte, partSize int64) string {
	var sizes []int64
	for off := int64(0); off < int64(len(data)) || len(sizes) == 0; off += partSize {
		sizes = append(sizes, min(partSize, int64(len(data))-off))
	}
	etag, _ := h.SetParts(bucket, key, data, sizes, "")
	return etag
}

// SetParts makes bucket/key look like an object uploaded in parts of the
// given sizes, as S3 presents one: multipart ETag on GET/HEAD (and for
// If-Match); GET and HEAD with ?partNumber= answered with that part's
// bytes/length, Content-Range and x-amz-mp-parts-count. With algo (a key of
// ChecksumAlgos) it also carries a COMPOSITE checksum: the checksum of the
// concatenated part checksums, "<base64>-N", on whole-object responses and
// each part's own checksum on ?partNumber= responses with checksum mode.
// It lasts until the object's content changes. It returns the quoted ETag
// and the composite checksum ("" without algo).
func (h *Handler) SetParts(bucket, key string, data []byte, sizes []int64, algo string) (string, string) {
	m := presentParts(data, sizes, algo)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.mp == nil {
		h.mp = map[string]multipart{}
	}
	h.mp[bucket+"/"+key] = m
	return m.etag, m.whole
}

func presentParts(data []byte, sizes []int64, algo string) multipart {
	var md5s []byte
	m := multipart{}
	var comp hash.Hash
	if algo != "" {
		m.header = "x-amz-checksum-" + strings.ToLower(algo)
		comp = ChecksumAlgos[algo]()
	}
	off := int64(0)
	for _, n := range sizes {
		part := data[off : off+n]
		s := md5.Sum(part)
		md5s = append(md5s, s[:]...)
		if comp != nil {
			h := ChecksumAlgos[algo]()
			h.Write(part)
			sum := h.Sum(nil)
			comp.Write(sum)
			m.sums = append(m.sums, base64.StdEncoding.EncodeToString(sum))
		}
		off += n
		m.ends = append(m.ends, off)
	}
	if off != int64(len(data)) {
		panic(fmt.Sprintf("s3fake.SetParts: sizes add up to %d, data has %d bytes", off, len(data)))
	}
	d := md5.Sum(md5s)
	whole := md5.Sum(data)
	m.etag = fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(d[:]), len(sizes))
	m.hash = `"` + hex.EncodeToString(whole[:]) + `"`
	if comp != nil {
		m.whole = fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(comp.Sum(nil)), len(sizes))
	}
	return m
}
