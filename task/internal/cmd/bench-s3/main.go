// Command bench-s3 serves an in-process S3 (gofakes3, in-memory, If-Match
// enforced) on a fixed address for bench/run.sh, with the benchmark objects
// preloaded, and writes their SHA-256 sums for verification. It runs as its
// own process so its memory is not counted in the measured downloaders.
//
//	bench-s3 -addr 127.0.0.1:9123 -sums bench/out/objects.sha256
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/edge-drop/edge-drop/task/internal/s3test"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9123", "listen address (loopback)")
	sums := flag.String("sums", "", "write \"sha256  key\" lines here")
	bigMiB := flag.Int("big-mib", 1024, "size of the big objects in MiB")
	syncSmall := flag.Int("sync-small", 0, "sync benchmark: this many 4 KiB objects under sync-small/")
	syncBig := flag.Int("sync-big", 0, "sync benchmark: this many objects of -sync-big-mib MiB under sync-big/")
	syncBigMiB := flag.Int("sync-big-mib", 100, "size of the sync-big objects in MiB")
	syncMany := flag.Int("sync-many", 0, "sync benchmark (memory): this many 64-byte objects under sync-many/")
	flag.Parse()

	backend := s3mem.New()
	big := make([]byte, *bigMiB<<20)
	rand.NewChaCha8([32]byte{1}).Read(big)
	mid := big[:10<<20]
	small := []byte("hello\n")

	crc32Of := func(b []byte) string {
		var out [4]byte
		binary.BigEndian.PutUint32(out[:], crc32.ChecksumIEEE(b))
		return base64.StdEncoding.EncodeToString(out[:])
	}
	crc64Of := func(b []byte) string {
		var out [8]byte
		binary.BigEndian.PutUint64(out[:], crc64.Checksum(b, crc64.MakeTable(0x9a6c9329ac4bc9b5)))
		return base64.StdEncoding.EncodeToString(out[:])
	}
	full := func(k, v string) map[string]string {
		return map[string]string{k: v, "x-amz-checksum-type": "FULL_OBJECT"}
	}
	// Presented as multipart uploads in 8 MiB parts (after the Puts).
	sizes := func(b []byte) []int64 {
		var out []int64
		for off := 0; off < len(b) || len(out) == 0; off += 8 << 20 {
			out = append(out, int64(min(8<<20, len(b)-off)))
		}
		return out
	}
	objs := []struct {
		key   string
		data  []byte
		meta  map[string]string
		parts string // "": single part; "-": multipart ETag only; else composite algorithm
	}{
		// Current `aws s3 cp`: multipart, CRC32 per part, COMPOSITE "-N".
		{"big-composite.bin", big, nil, "CRC32"},
		// Full-object checksum (what S3 stores when the uploader sent none).
		{"big-crc64nvme.bin", big, full("x-amz-checksum-crc64nvme", crc64Of(big)), ""},
		// Single-part upload, only an MD5 ETag.
		{"big-md5.bin", big, nil, ""},
		// Multipart upload with no checksum at all: only the multipart ETag.
		{"big-mpetag.bin", big, nil, "-"},
		{"mid.bin", mid, full("x-amz-checksum-crc32", crc32Of(mid)), ""},
		{"small-composite.txt", small, nil, "CRC32"},
		{"small.txt", small, full("x-amz-checksum-crc64nvme", crc64Of(small)), ""},
		{"small-md5.txt", small, nil, ""},
		{"small-mpetag.txt", small, nil, "-"},
	}
	// The sync sets: distinct content per object, each with the full-object
	// CRC32 current AWS SDKs/CLI upload.
	rnd := rand.NewChaCha8([32]byte{2})
	for _, set := range []struct {
		n    int
		size int
		name string
	}{{*syncSmall, 4 << 10, "sync-small/f-%05d.txt"}, {*syncBig, *syncBigMiB << 20, "sync-big/b-%02d.bin"}, {*syncMany, 64, "sync-many/m-%05d.txt"}} {
		for i := range set.n {
			b := make([]byte, set.size)
			rnd.Read(b)
			objs = append(objs, struct {
				key   string
				data  []byte
				meta  map[string]string
				parts string
			}{fmt.Sprintf(set.name, i), b, full("x-amz-checksum-crc32", crc32Of(b)), ""})
		}
	}
	fake := gofakes3.New(backend, gofakes3.WithTimeSkewLimit(0))
	fx := s3test.IfMatch(backend, fake.Server())
	var lines []string
	for i, o := range objs {
		if err := s3test.Put(backend, "bench", o.key, o.data, o.meta); err != nil {
			log.Fatal(err)
		}
		switch o.parts {
		case "":
		case "-":
			fx.SetParts("bench", o.key, o.data, sizes(o.data), "")
		default:
			fx.SetParts("bench", o.key, o.data, sizes(o.data), o.parts)
		}
		sum := sha256.Sum256(o.data)
		lines = append(lines, hex.EncodeToString(sum[:])+"  "+o.key)
		objs[i].data = nil // the backend holds its own copy
	}
	big, mid = nil, nil
	if *sums != "" {
		if err := os.WriteFile(*sums, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("bench-s3 ready on http://%s\n", ln.Addr())
	log.Fatal(http.Serve(ln, fx))
}
