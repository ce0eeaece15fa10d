package download

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// reference computes, the plain way, what S3 reports for data uploaded in
// parts of the given sizes: the full-object checksum, the composite
// checksum (checksum of the concatenated part checksums, "-N") and the
// multipart ETag (MD5 of the part MD5s, "-N").
func reference(newHash func() hash.Hash, data []byte, sizes []int) (full, composite, etag string) {
	h := newHash()
	h.Write(data)
	full = b64(h.Sum(nil))
	comp, md5s := newHash(), md5.New()
	off := 0
	for _, n := range sizes {
		p := newHash()
		p.Write(data[off : off+n])
		comp.Write(p.Sum(nil))
		m := md5.Sum(data[off : off+n])
		md5s.Write(m[:])
		off += n
	}
	return full, fmt.Sprintf("%s-%d", b64(comp.Sum(nil)), len(sizes)), fmt.Sprintf("%s-%d", hex.EncodeToString(md5s.Sum(nil)), len(sizes))
}

// runParts feeds data to a verifier the way the workers do: one inline
// hash per part, then final.
func runParts(v verifier, data []byte, sizes []int) string {
	var spans []span
	var sums [][]byte
	off := 0
	for _, n := range sizes {
		h := v.part()
		// in several writes, as the 64 KiB buffer does
		for o := off; o < off+n; o += 1000 {
			h.Write(data[o:min(o+1000, off+n)])
		}
		spans = append(spans, span{int64(off), int64(n)})
		sums = append(sums, h.Sum(nil))
		off += n
	}
	return v.final(spans, sums)
}

func TestVerifierKinds(t *testing.T) {
	data := make([]byte, 300_001)
	rand.NewChaCha8([32]byte{5}).Read(data)
	layouts := map[string][]int{
		"one part":     {len(data)},
		"uniform+last": {100_000, 100_000, 100_000, 1},
		"mixed":        {70_000, 130_000, 50_001, 50_000},
		"1-byte first": {1, 300_000},
	}
	kinds := []struct {
		name string
		new  func() hash.Hash
		set  func(h *s3.HeadObjectOutput, v string)
	}{
		{"crc32", func() hash.Hash { return crc32.NewIEEE() }, func(h *s3.HeadObjectOutput, v string) { h.ChecksumCRC32 = &v }},
		{"crc32c", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }, func(h *s3.HeadObjectOutput, v string) { h.ChecksumCRC32C = &v }},
		{"crc64nvme", func() hash.Hash { return crc64.New(crc64.MakeTable(crc64NVME)) }, func(h *s3.HeadObjectOutput, v string) { h.ChecksumCRC64NVME = &v }},
		{"sha1", sha1.New, func(h *s3.HeadObjectOutput, v string) { h.ChecksumSHA1 = &v }},
		{"sha256", sha256.New, func(h *s3.HeadObjectOutput, v string) { h.ChecksumSHA256 = &v }},
	}
	for _, k := range kinds {
		for lname, sizes := range layouts {
			full, composite, etag := reference(k.new, data, sizes)
			// COMPOSITE: chosen over the multipart ETag, parts from the upload.
			h := &s3.HeadObjectOutput{ETag: aws.String(`"` + etag + `"`), ChecksumType: types.ChecksumTypeComposite}
			k.set(h, composite)
			v := candidates(h)[0]
			if v.Name != k.name+"-composite" || !v.byParts || v.parts != len(sizes) || v.partSum == nil {
				t.Fatalf("%s %s: composite chose %+v", k.name, lname, v)
			}
			if got := runParts(v, data, sizes); got != composite {
				t.Errorf("%s %s composite: %s, want %s", k.name, lname, got, composite)
			}
			// FULL_OBJECT: CRCs combine over any part layout; SHAs read back.
			h = &s3.HeadObjectOutput{ETag: aws.String(`"` + etag + `"`), ChecksumType: types.ChecksumTypeFullObject}
			k.set(h, full)
			v = candidates(h)[0]
			if v.Name != k.name || v.byParts {
				t.Fatalf("%s %s: full object chose %+v", k.name, lname, v)
			}
			if v.part != nil {
				if got := runParts(v, data, sizes); got != full {
					t.Errorf("%s %s full object: %s, want %s", k.name, lname, got, full)
				}
			} else {
				w := v.whole()
				w.Write(data)
				if got := v.encode(w.Sum(nil)); got != full {
					t.Errorf("%s %s full object: %s, want %s", k.name, lname, got, full)
				}
			}
			// No checksum: the multipart ETag, MD5 per part.
			v = candidates(&s3.HeadObjectOutput{ETag: aws.String(`"` + etag + `"`)})[0]
			if v.Name != "md5-multipart-etag" || !v.byParts || v.parts != len(sizes) {
				t.Fatalf("%s: etag chose %+v", lname, v)
			}
			if got := runParts(v, data, sizes); got != etag {
				t.Errorf("%s multipart etag: %s, want %s", lname, got, etag)
			}
		}
	}
}

func TestChooseVerifierNotes(t *testing.T) {
	kms := &s3.HeadObjectOutput{ETag: aws.String(`"d41d8cd98f00b204e9800998ecf8427e-3"`), ServerSideEncryption: types.ServerSideEncryptionAwsKms}
	for name, h := range map[string]*s3.HeadObjectOutput{
		"no etag":              {},
		"kms":                  kms,
		"not md5":              {ETag: aws.String(`"abc"`)},
		"bad -N":               {ETag: aws.String(`"d41d8cd98f00b204e9800998ecf8427e-0"`)},
		"composite without -N": {ChecksumCRC32: aws.String("AAAAAA=="), ChecksumType: types.ChecksumTypeComposite, ETag: aws.String(`"x"`)},
	} {
		if v := candidates(h)[0]; v.Name != "" || v.Note == "" {
			t.Errorf("%s: %+v, want a note and no check", name, v)
		}
	}
	if v := candidates(&s3.HeadObjectOutput{ETag: aws.String(`"d41d8cd98f00b204e9800998ecf8427e"`)})[0]; v.Name != "md5-etag" {
		t.Errorf("single-part etag: %+v", v)
	}
}

func TestPartsCount(t *testing.T) {
	for etag, want := range map[string]int{`"d41d8cd98f00b204e9800998ecf8427e-3"`: 3, `"d41d8cd98f00b204e9800998ecf8427e"`: 0, `"abc-2"`: 0, `"d41d8cd98f00b204e9800998ecf8427e-0"`: 0, `"d41d8cd98f00b204e9800998ecf8427e-10001"`: 0} {
		if got := multipartParts(etag); got != want {
			t.Errorf("multipartParts(%s) = %d, want %d", etag, got, want)
		}
	}
	for v, want := range map[string]int{"AAAAAA==-128": 128, "AAAAAA==": 0, "AAAAAA==-x": 0, "AAAAAA==-0": 0} {
		if got := compositeParts(v); got != want {
			t.Errorf("compositeParts(%s) = %d, want %d", v, got, want)
		}
	}
}

func TestPartSpan(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	i32 := func(v int32) *int32 { return &v }
	cases := []struct {
		name  string
		out   s3.GetObjectOutput
		parts int
		want  span
		ok    bool
	}{
		{"middle", s3.GetObjectOutput{ContentRange: aws.String("bytes 100-199/1000"), ContentLength: i64(100), PartsCount: i32(5)}, 5, span{100, 100}, true},
		{"single part as 200", s3.GetObjectOutput{ContentLength: i64(1000)}, 1, span{0, 1000}, true},
		{"no range, many parts", s3.GetObjectOutput{ContentLength: i64(1000)}, 5, span{}, false},
		{"other size", s3.GetObjectOutput{ContentRange: aws.String("bytes 0-99/999"), ContentLength: i64(100)}, 5, span{}, false},
		{"length disagrees", s3.GetObjectOutput{ContentRange: aws.String("bytes 0-99/1000"), ContentLength: i64(99)}, 5, span{}, false},
		{"past the end", s3.GetObjectOutput{ContentRange: aws.String("bytes 900-1000/1000")}, 5, span{}, false},
		{"parts count", s3.GetObjectOutput{ContentRange: aws.String("bytes 0-99/1000"), PartsCount: i32(4)}, 5, span{}, false},
		{"garbage", s3.GetObjectOutput{ContentRange: aws.String("bytes */1000")}, 5, span{}, false},
	}
	for _, c := range cases {
		got, err := partSpan(&c.out, 1000, 2, c.parts)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%s: %+v, %v", c.name, got, err)
		}
	}
}
