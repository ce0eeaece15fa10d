// Command bench-s3 serves an in-process S3 (gofakes3, in-memory, behind
// s3fake: If-Match enforced, objects presented as multipart uploads) on a
// fixed address for bench/run.sh, with the benchmark objects preloaded, and
// writes their SHA-256 sums for verification. It runs as its own process so
// its memory is not counted in the measured downloaders.
// GET /__bytes answers the response body bytes served so far (the count
// the resume benchmark reads at the server); POST /__bytes resets it, and
// with ?pause=N the server stops sending once N bytes are served.
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
	"slices"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/edge-drop/edge-drop/s3fake"
)

// options are the command's flags.
type options struct {
	addr, sums                     string
	bigMiB                         int
	syncSmall, syncBig, syncBigMiB int
	syncMany, syncStrace           int
	resumeMiB, budgetMiB           int
}

// midMiB is the size of mid.bin, the first MiB of the big objects.
const midMiB = 10

func (o options) check() error {
	if o.bigMiB < midMiB {
		return fmt.Errorf("-big-mib %d: at least %d (mid.bin is the first %d MiB of the big objects)", o.bigMiB, midMiB, midMiB)
	}
	for _, n := range []int{o.syncSmall, o.syncBig, o.syncBigMiB, o.syncMany, o.syncStrace, o.resumeMiB, o.budgetMiB} {
		if n < 0 {
			return fmt.Errorf("-sync-small, -sync-big, -sync-big-mib, -sync-many, -sync-strace, -resume-mib and -budget-mib cannot be negative")
		}
	}
	return nil
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:9123", "listen address (loopback)")
	flag.StringVar(&o.sums, "sums", "", "write \"sha256  key\" lines here")
	flag.IntVar(&o.bigMiB, "big-mib", 1024, "size of the big objects in MiB (at least 10)")
	flag.IntVar(&o.syncSmall, "sync-small", 0, "sync benchmark: this many 4 KiB objects under sync-small/")
	flag.IntVar(&o.syncBig, "sync-big", 0, "sync benchmark: this many objects of -sync-big-mib MiB under sync-big/")
	flag.IntVar(&o.syncBigMiB, "sync-big-mib", 100, "size of the sync-big objects in MiB")
	flag.IntVar(&o.syncMany, "sync-many", 0, "sync benchmark (memory): this many 64-byte objects under sync-many/")
	flag.IntVar(&o.syncStrace, "sync-strace", 0, "system call count: this many 4 KiB objects under sync-strace/")
	flag.IntVar(&o.resumeMiB, "resume-mib", 0, "resume benchmark: resume.bin of this many MiB (composite CRC32, 8 MiB parts, as aws s3 cp uploads)")
	flag.IntVar(&o.budgetMiB, "budget-mib", 0, "bandwidth benchmark: budget.bin of this many MiB (full-object CRC64NVME)")
	flag.Parse()
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-s3:", err)
		os.Exit(2)
	}

	backend := s3mem.New()
	fx := s3fake.New(backend, gofakes3.New(backend, gofakes3.WithTimeSkewLimit(0)).Server())
	lines, err := load(backend, fx, slices.Concat(downloadObjects(o.bigMiB), extraObjects(o), syncObjects(o)))
	if err != nil {
		log.Fatal(err)
	}
	if o.sums != "" {
		if err := os.WriteFile(o.sums, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("bench-s3 ready on http://%s\n", ln.Addr())
	log.Fatal(http.Serve(ln, &counter{next: fx}))
}

// object is one benchmark object.
type object struct {
	key   string
	data  []byte
	meta  map[string]string
	parts string // "": single part; "-": multipart ETag only; else composite algorithm
}

// downloadObjects are the objects of the download benchmark: every
// checksum kind at bigMiB, 10 MiB and 6 bytes.
func downloadObjects(bigMiB int) []object {
	big := make([]byte, bigMiB<<20)
	rand.NewChaCha8([32]byte{1}).Read(big)
	mid := big[:midMiB<<20]
	small := []byte("hello\n")
	return []object{
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
}

// extraObjects are the resume and bandwidth benchmarks' objects, when asked
// for: resume.bin as aws s3 cp uploads it (composite CRC32 in 8 MiB parts),
// budget.bin with a full-object CRC64NVME.
func extraObjects(o options) []object {
	var objs []object
	for _, extra := range []struct {
		mib       int
		key, algo string
	}{{o.resumeMiB, "resume.bin", "CRC32"}, {o.budgetMiB, "budget.bin", ""}} {
		if extra.mib == 0 {
			continue
		}
		b := make([]byte, extra.mib<<20)
		rand.NewChaCha8([32]byte{3}).Read(b)
		obj := object{extra.key, b, nil, extra.algo}
		if extra.algo == "" {
			obj.meta = full("x-amz-checksum-crc64nvme", crc64Of(b))
		}
		objs = append(objs, obj)
	}
	return objs
}

// syncObjects are the sync benchmark's sets: distinct content per object,
// each with the full-object CRC32 current AWS SDKs/CLI upload.
func syncObjects(o options) []object {
	var objs []object
	rnd := rand.NewChaCha8([32]byte{2})
	for _, set := range []struct {
		n    int
		size int
		name string
	}{{o.syncSmall, 4 << 10, "sync-small/f-%05d.txt"}, {o.syncBig, o.syncBigMiB << 20, "sync-big/b-%02d.bin"}, {o.syncMany, 64, "sync-many/m-%05d.txt"},
		{o.syncStrace, 4 << 10, "sync-strace/s-%05d.txt"}} {
		for i := range set.n {
			b := make([]byte, set.size)
			rnd.Read(b)
			objs = append(objs, object{fmt.Sprintf(set.name, i), b, full("x-amz-checksum-crc32", crc32Of(b)), ""})
		}
	}
	return objs
}

// load stores the objects in bucket "bench", presents the multipart ones
// as uploaded in 8 MiB parts, and returns "sha256  key" lines.
func load(backend *s3mem.Backend, fx *s3fake.Handler, objs []object) ([]string, error) {
	var lines []string
	for i, o := range objs {
		if err := s3fake.Put(backend, "bench", o.key, o.data, o.meta); err != nil {
			return nil, err
		}
		switch o.parts {
		case "":
		case "-":
			fx.SetParts("bench", o.key, o.data, partSizes(o.data), "")
		default:
			fx.SetParts("bench", o.key, o.data, partSizes(o.data), o.parts)
		}
		sum := sha256.Sum256(o.data)
		lines = append(lines, hex.EncodeToString(sum[:])+"  "+o.key)
		objs[i].data = nil // the backend holds its own copy
	}
	return lines, nil
}

// partSizes cuts b in 8 MiB parts, the last one shorter.
func partSizes(b []byte) []int64 {
	var out []int64
	for off := 0; off < len(b) || len(out) == 0; off += 8 << 20 {
		out = append(out, int64(min(8<<20, len(b)-off)))
	}
	return out
}

func crc32Of(b []byte) string {
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], crc32.ChecksumIEEE(b))
	return base64.StdEncoding.EncodeToString(out[:])
}

func crc64Of(b []byte) string {
	var out [8]byte
	binary.BigEndian.PutUint64(out[:], crc64.Checksum(b, crc64.MakeTable(0x9a6c9329ac4bc9b5)))
	return base64.StdEncoding.EncodeToString(out[:])
}

func full(k, v string) map[string]string {
	return map[string]string{k: v, "x-amz-checksum-type": "FULL_OBJECT"}
}
