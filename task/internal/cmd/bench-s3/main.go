// Command bench-s3 serves an in-process S3 (gofakes3, in-memory, If-Match
// enforced) on a fixed address for bench/run.sh, with the benchmark objects
// preloaded, and writes their SHA-256 sums for verification. It runs as its
// own process so its memory is not counted in the measured downloaders.
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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/edge-drop/edge-drop/task/internal/s3test"
)

// object is one benchmark object; parts is "" (a single part), "-" (a
// multipart ETag only) or a composite checksum's algorithm.
type object struct {
	key   string
	data  []byte
	meta  map[string]string
	parts string
}

// sizes are the benchmark's object counts and sizes (the flags).
type sizes struct {
	bigMiB, syncSmall, syncBig, syncBigMiB, syncMany, syncStrace, resumeMiB, budgetMiB int
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9123", "listen address (loopback)")
	sums := flag.String("sums", "", "write \"sha256  key\" lines here")
	var z sizes
	flag.IntVar(&z.bigMiB, "big-mib", 1024, "size of the big objects in MiB")
	flag.IntVar(&z.syncSmall, "sync-small", 0, "sync benchmark: this many 4 KiB objects under sync-small/")
	flag.IntVar(&z.syncBig, "sync-big", 0, "sync benchmark: this many objects of -sync-big-mib MiB under sync-big/")
	flag.IntVar(&z.syncBigMiB, "sync-big-mib", 100, "size of the sync-big objects in MiB")
	flag.IntVar(&z.syncMany, "sync-many", 0, "sync benchmark (memory): this many 64-byte objects under sync-many/")
	flag.IntVar(&z.syncStrace, "sync-strace", 0, "system call count: this many 4 KiB objects under sync-strace/")
	flag.IntVar(&z.resumeMiB, "resume-mib", 0, "resume benchmark: resume.bin of this many MiB (composite CRC32, 8 MiB parts, as aws s3 cp uploads)")
	flag.IntVar(&z.budgetMiB, "budget-mib", 0, "bandwidth benchmark: budget.bin of this many MiB (full-object CRC64NVME)")
	flag.Parse()

	backend := s3mem.New()
	fx := s3test.IfMatch(backend, gofakes3.New(backend, gofakes3.WithTimeSkewLimit(0)).Server())
	lines := preload(backend, fx, objects(z))
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
	log.Fatal(http.Serve(ln, &counter{next: fx}))
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

// objects lays out every benchmark object.
func objects(z sizes) []object {
	big := make([]byte, z.bigMiB<<20)
	rand.NewChaCha8([32]byte{1}).Read(big)
	mid := big[:10<<20]
	small := []byte("hello\n")
	objs := []object{
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
	for _, extra := range []struct {
		mib       int
		key, algo string
	}{{z.resumeMiB, "resume.bin", "CRC32"}, {z.budgetMiB, "budget.bin", ""}} {
		if extra.mib == 0 {
			continue
		}
		b := make([]byte, extra.mib<<20)
		rand.NewChaCha8([32]byte{3}).Read(b)
		o := object{extra.key, b, nil, extra.algo}
		if extra.algo == "" {
			o.meta = full("x-amz-checksum-crc64nvme", crc64Of(b))
		}
		objs = append(objs, o)
	}
	// The sync sets: distinct content per object, each with the full-object
	// CRC32 current AWS SDKs/CLI upload.
	rnd := rand.NewChaCha8([32]byte{2})
	for _, set := range []struct {
		n    int
		size int
		name string
	}{{z.syncSmall, 4 << 10, "sync-small/f-%05d.txt"}, {z.syncBig, z.syncBigMiB << 20, "sync-big/b-%02d.bin"},
		{z.syncMany, 64, "sync-many/m-%05d.txt"}, {z.syncStrace, 4 << 10, "sync-strace/s-%05d.txt"}} {
		for i := range set.n {
			b := make([]byte, set.size)
			rnd.Read(b)
			objs = append(objs, object{fmt.Sprintf(set.name, i), b, full("x-amz-checksum-crc32", crc32Of(b)), ""})
		}
	}
	return objs
}

// preload stores the objects (presented as multipart uploads in 8 MiB
// parts where they are) and returns their "sha256  key" lines.
func preload(backend *s3mem.Backend, fx *s3test.Fixups, objs []object) []string {
	parts := func(b []byte) []int64 {
		var out []int64
		for off := 0; off < len(b) || len(out) == 0; off += 8 << 20 {
			out = append(out, int64(min(8<<20, len(b)-off)))
		}
		return out
	}
	var lines []string
	for i, o := range objs {
		if err := s3test.Put(backend, "bench", o.key, o.data, o.meta); err != nil {
			log.Fatal(err)
		}
		switch o.parts {
		case "":
		case "-":
			fx.SetParts("bench", o.key, o.data, parts(o.data), "")
		default:
			fx.SetParts("bench", o.key, o.data, parts(o.data), o.parts)
		}
		sum := sha256.Sum256(o.data)
		lines = append(lines, hex.EncodeToString(sum[:])+"  "+o.key)
		objs[i].data = nil // the backend holds its own copy
	}
	return lines
}

// counter counts the response body bytes served: GET /__bytes reads the
// count; POST /__bytes resets it and lets paused responses go on; POST
// /__bytes?pause=N makes every response stop sending once N bytes have
// been served in all (a network that stops at a known byte: the resume
// benchmark kills the task there).
type counter struct {
	next   http.Handler
	bytes  atomic.Int64
	mu     sync.Mutex
	pause  int64         // 0: none
	resume chan struct{} // closed to let paused writers go on
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/__bytes" {
		if r.Method == http.MethodPost {
			c.mu.Lock()
			if c.resume != nil {
				close(c.resume)
			}
			c.resume = make(chan struct{})
			c.pause, _ = strconv.ParseInt(r.URL.Query().Get("pause"), 10, 64)
			c.bytes.Store(0)
			c.mu.Unlock()
		}
		fmt.Fprintln(w, c.bytes.Load())
		return
	}
	c.next.ServeHTTP(&countingWriter{ResponseWriter: w, c: c, ctx: r.Context().Done()}, r)
}

type countingWriter struct {
	http.ResponseWriter
	c   *counter
	ctx <-chan struct{}
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.c.mu.Lock()
	pause, goOn := w.c.pause, w.c.resume
	w.c.mu.Unlock()
	if pause > 0 {
		if room := pause - w.c.bytes.Load(); room < int64(len(b)) {
			n := 0
			if room > 0 {
				n, _ = w.write(b[:room])
			}
			if f, ok := w.ResponseWriter.(http.Flusher); ok {
				f.Flush()
			}
			select { // hold the rest until the pause is lifted (or the client goes)
			case <-goOn:
			case <-w.ctx:
				return n, http.ErrAbortHandler
			}
			m, err := w.write(b[n:])
			return n + m, err
		}
	}
	return w.write(b)
}

func (w *countingWriter) write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.c.bytes.Add(int64(n))
	return n, err
}

func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
