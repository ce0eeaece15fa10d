package download

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// crc64NVME is the reflected NVMe polynomial, as S3 and the SDK use it.
const crc64NVME = 0x9a6c9329ac4bc9b5

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	nvmeTable  = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(crc64NVME) })
)

// verifier is the whole-object integrity check chosen for a download.
type verifier struct {
	Name     string // "crc32c", "crc32", "sha256", "sha1", "crc64nvme", "md5-etag", or "" (none)
	Expected string // as S3 reports it (base64 for checksums, hex for the ETag)
	New      func() hash.Hash
	Encode   func([]byte) string
	// Note explains what could not be verified (logged).
	Note string
	// crc is set for combinable CRCs: parts are hashed inline.
	crc *crcKind
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// isFullObject reports whether a checksum value covers the whole object
// (composite multipart checksums end in "-N").
func isFullObject(v *string, typ types.ChecksumType) bool {
	return v != nil && *v != "" && !strings.Contains(*v, "-") && typ != types.ChecksumTypeComposite
}

// chooseVerifier picks the cheapest sound whole-object check from a HEAD
// response (made with ChecksumMode ENABLED). Cheapest first: CRC32C and
// CRC32 run at >9 GB/s with the CPU's CRC instructions (amd64 and arm64),
// SHA-256/SHA-1 use the ARMv8 crypto extensions, CRC64NVME is table-driven
// (~0.8 GB/s), MD5 is the slowest (~0.45 GB/s) and only usable when the ETag
// is the plain MD5 of the content (single-part upload, no SSE-KMS/SSE-C).
// CRCs are computed per part inside the workers and combined; the others
// are fed in order by reading completed parts back from the temp file.
func chooseVerifier(h *s3.HeadObjectOutput) verifier {
	typ := h.ChecksumType
	switch {
	case isFullObject(h.ChecksumCRC32C, typ):
		return verifier{Name: "crc32c", Expected: *h.ChecksumCRC32C, New: kindCRC32C.new, Encode: b64, crc: kindCRC32C}
	case isFullObject(h.ChecksumCRC32, typ):
		return verifier{Name: "crc32", Expected: *h.ChecksumCRC32, New: kindCRC32.new, Encode: b64, crc: kindCRC32}
	case isFullObject(h.ChecksumSHA256, typ):
		return verifier{Name: "sha256", Expected: *h.ChecksumSHA256, New: sha256.New, Encode: b64}
	case isFullObject(h.ChecksumSHA1, typ):
		return verifier{Name: "sha1", Expected: *h.ChecksumSHA1, New: sha1.New, Encode: b64}
	case isFullObject(h.ChecksumCRC64NVME, typ):
		return verifier{Name: "crc64nvme", Expected: *h.ChecksumCRC64NVME, New: kindCRC64NVME.new, Encode: b64, crc: kindCRC64NVME}
	}
	etag := strings.Trim(deref(h.ETag), `"`)
	switch {
	case etag == "":
		return verifier{Note: "no ETag and no full-object checksum: content could not be verified (length only)"}
	case strings.Contains(etag, "-"):
		return verifier{Note: "multipart ETag " + etag + " and no full-object checksum: content could not be verified (length only; all parts pinned with If-Match)"}
	case encrypted(h):
		return verifier{Note: "ETag of an SSE-KMS/SSE-C object is not an MD5 and there is no full-object checksum: content could not be verified (length only)"}
	case isHexMD5(etag):
		return verifier{Name: "md5-etag", Expected: etag, New: md5.New, Encode: hex.EncodeToString}
	}
	return verifier{Note: "ETag " + etag + " is not an MD5: content could not be verified (length only)"}
}

// encrypted reports SSE-KMS/SSE-C, whose ETags are not MD5s of the content.
func encrypted(h *s3.HeadObjectOutput) bool {
	return h.SSECustomerAlgorithm != nil || h.ServerSideEncryption == types.ServerSideEncryptionAwsKms || h.ServerSideEncryption == types.ServerSideEncryptionAwsKmsDsse
}

func isHexMD5(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
