package download

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// crc64NVME is the reflected NVMe polynomial, as S3 and the SDK use it.
const crc64NVME = 0x9a6c9329ac4bc9b5

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// verifier is the integrity check chosen for a download. Exactly one of
// two shapes is set:
//   - part/final: every worker hashes its part inline as the bytes arrive
//     and final derives the object's value from the part digests (CRC
//     combine, composite checksums, multipart ETags): parallel, no read-back;
//   - whole/encode: one hash over the object in order, fed by reading
//     completed parts back (full-object SHA-256/SHA-1, single-part MD5 ETag:
//     these cannot be split).
type verifier struct {
	// Name says which check ran: "crc32c", "crc32", "crc64nvme", "sha256",
	// "sha1", "<algo>-composite", "md5-etag", "md5-multipart-etag", or ""
	// (none).
	Name     string
	Expected string // as S3 reports it
	// Note explains what could not be verified (logged).
	Note string

	part  func() hash.Hash
	final func(spans []span, sums [][]byte) string

	whole  func() hash.Hash
	encode func([]byte) string

	// byParts: the download's parts must be the upload's parts (parts is
	// their number); each part is first requested with ?partNumber=.
	byParts bool
	parts   int
	// partSize is the upload's part size when known (part 1's, from the
	// server, or the record's): a file on disk is checked in uniform parts
	// of it.
	partSize int64
	// partSum, if set, reads a part's own checksum from the response to
	// GET ?partNumber= (S3 sends it with ChecksumMode ENABLED), so a bad
	// part is caught, and re-fetched, as soon as it completes.
	partSum func(*s3.GetObjectOutput) *string
}

// algo is one of S3's checksum algorithms.
type algo struct {
	name string
	new  func() hash.Hash
	crc  *crcKind // combinable: full-object values are verified per part
	head func(*s3.HeadObjectOutput) *string
	get  func(*s3.GetObjectOutput) *string
}

// algos, cheapest first: CRC32C and CRC32 run at several GB/s with the
// CPU's CRC instructions (amd64 and arm64), CRC64NVME is table-driven
// (~0.8 GB/s per core), SHA-256/SHA-1 use the ARMv8 crypto extensions.
var algos = []algo{
	{"crc32c", kindCRC32C.new, kindCRC32C,
		func(h *s3.HeadObjectOutput) *string { return h.ChecksumCRC32C },
		func(g *s3.GetObjectOutput) *string { return g.ChecksumCRC32C }},
	{"crc32", kindCRC32.new, kindCRC32,
		func(h *s3.HeadObjectOutput) *string { return h.ChecksumCRC32 },
		func(g *s3.GetObjectOutput) *string { return g.ChecksumCRC32 }},
	{"crc64nvme", kindCRC64NVME.new, kindCRC64NVME,
		func(h *s3.HeadObjectOutput) *string { return h.ChecksumCRC64NVME },
		func(g *s3.GetObjectOutput) *string { return g.ChecksumCRC64NVME }},
	{"sha256", sha256.New, nil,
		func(h *s3.HeadObjectOutput) *string { return h.ChecksumSHA256 },
		func(g *s3.GetObjectOutput) *string { return g.ChecksumSHA256 }},
	{"sha1", sha1.New, nil,
		func(h *s3.HeadObjectOutput) *string { return h.ChecksumSHA1 },
		func(g *s3.GetObjectOutput) *string { return g.ChecksumSHA1 }},
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// compositeParts returns N for a composite checksum "<base64>-N" (0 if the
// value is not one).
func compositeParts(v string) int {
	_, n, ok := strings.Cut(v, "-")
	if !ok {
		return 0
	}
	parts, err := strconv.Atoi(n)
	if err != nil || parts < 1 || parts > 10000 {
		return 0
	}
	return parts
}

// candidates lists the sound whole-object checks a HEAD response (made
// with ChecksumMode ENABLED) allows, cheapest first:
//  1. a full-object CRC (inline per part, combined);
//  2. a composite checksum of any algorithm (inline per part, each part
//     checked against its own checksum when the server sends it, then the
//     checksum of the part checksums);
//  3. a full-object SHA-256/SHA-1 (read back in order);
//  4. the ETag when it is the MD5 of the content (read back in order);
//  5. a multipart ETag (inline MD5 per part, then the MD5 of the MD5s).
//
// 2 and 5 need the upload's part layout (see chooseVerifier). With no
// candidate, the one verifier returned carries a note saying why.
func candidates(h *s3.HeadObjectOutput) []verifier {
	var out []verifier
	typ := h.ChecksumType
	for _, a := range algos {
		if v := deref(a.head(h)); a.crc != nil && v != "" && compositeParts(v) == 0 && typ != types.ChecksumTypeComposite {
			out = append(out, crcVerifier(a, v))
		}
	}
	for _, a := range algos {
		if v := deref(a.head(h)); v != "" && compositeParts(v) > 0 {
			out = append(out, compositeVerifier(a, v))
		}
	}
	for _, a := range algos {
		if v := deref(a.head(h)); a.crc == nil && v != "" && compositeParts(v) == 0 && typ != types.ChecksumTypeComposite {
			out = append(out, verifier{Name: a.name, Expected: v, whole: a.new, encode: b64})
		}
	}
	etag := strings.Trim(deref(h.ETag), `"`)
	switch {
	case etag == "" || encrypted(h): // no ETag, or not an MD5 of the content
	case isHexMD5(etag):
		out = append(out, verifier{Name: "md5-etag", Expected: etag, whole: md5.New, encode: hex.EncodeToString})
	case multipartParts(etag) > 0:
		out = append(out, multipartETagVerifier(etag))
	}
	if len(out) > 0 {
		return out
	}
	switch {
	case etag == "":
		return []verifier{{Note: "no ETag and no checksum: content could not be verified (length only)"}}
	case encrypted(h):
		return []verifier{{Note: "ETag of an SSE-KMS/SSE-C object is not an MD5 and there is no usable checksum: content could not be verified (length only)"}}
	}
	return []verifier{{Note: "ETag " + etag + " is not an MD5 and there is no usable checksum: content could not be verified (length only)"}}
}

// chooseVerifier returns the first candidate that can run: one that needs
// the upload's part layout only if the server reports it (learnParts, one
// HEAD, asked at most once). If none can, the verifier says why in Note.
func chooseVerifier(ctx context.Context, api API, bucket, key, etag string, size int64, h *s3.HeadObjectOutput) verifier {
	var why []string
	layoutErr := ""
	for _, v := range candidates(h) {
		if v.Name == "" {
			why = append(why, v.Note)
			break
		}
		if !v.byParts {
			return v
		}
		if layoutErr == "" {
			layoutErr, v.partSize = learnParts(ctx, api, bucket, key, etag, size, v.parts)
			if layoutErr == "" {
				return v
			}
		}
		why = append(why, fmt.Sprintf("%s %s needs the upload's part layout, but %s", v.Name, v.Expected, layoutErr))
	}
	if len(why) == 1 && !strings.Contains(why[0], "needs the upload's part layout") {
		return verifier{Note: why[0]}
	}
	return verifier{Note: strings.Join(why, "; ") + ": content could not be verified (length only; all parts pinned with If-Match)"}
}

// recorded is the verifier of a delivery record's checksum
// ("<check>:<value>", as written at delivery): what the delivered file
// held. The zero verifier (no Name) when there is none or it cannot run
// without the server (per-part checks without the part size).
func recorded(checksum string, partSize int64) verifier {
	name, want, ok := strings.Cut(checksum, ":")
	if !ok || want == "" {
		return verifier{}
	}
	var v verifier
	switch base, composite := strings.CutSuffix(name, "-composite"); {
	case name == "md5-etag":
		v = verifier{Name: name, Expected: want, whole: md5.New, encode: hex.EncodeToString}
	case name == "md5-multipart-etag":
		v = multipartETagVerifier(want)
	case composite:
		if a, ok := algoNamed(base); ok {
			v = compositeVerifier(a, want)
		}
	default:
		if a, ok := algoNamed(name); ok && a.crc != nil {
			v = crcVerifier(a, want)
		} else if ok {
			v = verifier{Name: a.name, Expected: want, whole: a.new, encode: b64}
		}
	}
	if v.byParts && (v.parts == 0 || partSize <= 0) {
		return verifier{}
	}
	v.partSize = partSize
	return v
}

func algoNamed(name string) (algo, bool) {
	for _, a := range algos {
		if a.name == name {
			return a, true
		}
	}
	return algo{}, false
}

// crcVerifier checks a full-object CRC: each part's CRC is computed inline
// and the part CRCs are combined (crc.go), so any part layout works.
func crcVerifier(a algo, want string) verifier {
	k := a.crc
	return verifier{Name: a.name, Expected: want, part: k.new, final: func(spans []span, sums [][]byte) string {
		var crc uint64
		c := combiner{k: k}
		for i, s := range sums {
			if i == 0 {
				crc = k.decode(s)
			} else {
				crc = c.combine(crc, k.decode(s), spans[i].n)
			}
		}
		if len(sums) == 0 {
			crc = k.sum(k.new())
		}
		return k.encode(crc)
	}}
}

// compositeVerifier checks a COMPOSITE checksum "<base64>-N": the checksum
// (same algorithm) of the concatenated binary part checksums, base64, "-N".
func compositeVerifier(a algo, want string) verifier {
	return verifier{
		Name: a.name + "-composite", Expected: want, byParts: true, parts: compositeParts(want),
		part: a.new, partSum: a.get,
		final: func(_ []span, sums [][]byte) string {
			h := a.new()
			for _, s := range sums {
				h.Write(s)
			}
			return fmt.Sprintf("%s-%d", b64(h.Sum(nil)), len(sums))
		},
	}
}

// multipartETagVerifier checks an "<md5 of the part md5s>-N" ETag.
func multipartETagVerifier(etag string) verifier {
	return verifier{
		Name: "md5-multipart-etag", Expected: etag, byParts: true, parts: multipartParts(etag),
		part: md5.New,
		final: func(_ []span, sums [][]byte) string {
			h := md5.New()
			for _, s := range sums {
				h.Write(s)
			}
			return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(sums))
		},
	}
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
