package download_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/task/internal/record"
)

// The commit's crash states (commit.go): a file renamed into place whose
// record is not written yet, or a record made durable before the rename,
// must never be taken for a person's file (a conflict copy), nor be called
// up to date unverified. Each case builds on disk what a crash at that
// point leaves, then delivers again. They failed before pending records
// and Record.Previous existed (each left a conflict copy).

// crashed is what a delivery that crashed left: its record reserved (a
// pending record, naming the new version and what the path held before),
// and, when renamed, its file at the path.
type crashed struct {
	e       *env
	rel     string
	data    []byte
	rec     record.Record
	renamed bool
	// complete: the record, not the file, reached the disk (completed and
	// renamed; the file's rename was lost).
	complete bool
	// torn: the record's rename reached the disk, its completion did not
	// (the record in its pending form).
	torn bool
}

func (c crashed) leave() {
	t := c.e.t
	t.Helper()
	store := openStore(t, c.e.dir)
	if old, ok, _ := store.Read(c.rel); ok {
		prev := old.Delivered()
		c.rec.Previous = &prev
	}
	rv, err := store.Reserve(c.rec)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(c.e.dir, ".edge-drop", "tmp", "crashed.part")
	os.MkdirAll(filepath.Dir(tmp), 0o755)
	if err := os.WriteFile(tmp, c.data, 0o644); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(tmp)
	if id, ok := record.IdentityOf(fi); ok {
		c.rec.Staged = &id
	}
	if err := rv.Stage(c.rec); err != nil {
		t.Fatal(err)
	}
	switch {
	case c.renamed:
		if err := os.Rename(tmp, filepath.Join(c.e.dir, c.rel)); err != nil {
			t.Fatal(err)
		}
	case c.complete:
		id := *c.rec.Staged
		if err := rv.Complete(&id); err != nil {
			t.Fatal(err)
		}
		os.Remove(tmp)
	case c.torn:
		dir := filepath.Join(c.e.dir, record.Dir)
		name := record.Name(c.rel)
		if err := os.Rename(filepath.Join(dir, strings.TrimSuffix(name, ".json")+".tmp"), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		os.Remove(tmp)
	default:
		os.Remove(tmp)
	}
}

func TestCrashBetweenRenameAndRecord(t *testing.T) {
	e := newEnv(t)
	v1, v2, v3 := randBytes(300<<10, 11), randBytes(300<<10, 12), randBytes(300<<10, 13)
	put := func(data []byte) string {
		return e.putChecked("c.bin", data)
	}
	put(v1)
	e.mustOK("c.bin", "c.bin", v1)
	etag2 := put(v2)
	v2rec := record.Record{Key: "c.bin", Bucket: bucket, ETag: etag2, Size: int64(len(v2)), Checksum: "crc32c:" + crc32c(v2)}

	// The object is still v2: the file is verified and adopted, nothing
	// fetched.
	crashed{e: e, rel: "c.bin", data: v2, rec: v2rec, renamed: true}.leave()
	e.srv.SetRule(nil)
	res := e.mustOK("c.bin", "c.bin", v2)
	if !res.UpToDate || !res.Reverified || e.srv.Count(http.MethodGet) != 0 || len(conflictCopies(t, e.dir, "c.bin")) != 0 {
		t.Fatalf("up to date %v, reverified %v, GETs %d, copies %v; want v2 adopted after checking it", res.UpToDate, res.Reverified, e.srv.Count(http.MethodGet), conflictCopies(t, e.dir, "c.bin"))
	}

	// The object changed since: the crashed delivery's file is replaced,
	// never kept as a person's.
	etag3 := put(v3)
	crashed{e: e, rel: "c.bin", data: v3, rec: record.Record{Key: "c.bin", Bucket: bucket, ETag: etag3, Size: int64(len(v3)), Checksum: "crc32c:" + crc32c(v3)}, renamed: true}.leave()
	put(v1)
	res = e.mustOK("c.bin", "c.bin", v1)
	if copies := conflictCopies(t, e.dir, "c.bin"); len(copies) != 0 || res.UpToDate {
		t.Fatalf("copies %v: the crashed delivery's own file was kept as a person's", copies)
	}
}

func TestCrashRecordBeforeRename(t *testing.T) {
	for _, torn := range []bool{false, true} {
		name := "record complete"
		if torn {
			name = "record in its pending form"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			v1, v2, v3 := randBytes(300<<10, 21), randBytes(300<<10, 22), randBytes(300<<10, 23)
			put := func(data []byte) string {
				return e.putChecked("r.bin", data)
			}
			put(v1)
			e.mustOK("r.bin", "r.bin", v1)
			etag2 := put(v2)
			// The record names v2, the path still holds v1 (the file's
			// rename did not reach the disk).
			crashed{e: e, rel: "r.bin", data: v2, complete: !torn, torn: torn,
				rec: record.Record{Key: "r.bin", Bucket: bucket, ETag: etag2, Size: int64(len(v2)), Checksum: "crc32c:" + crc32c(v2)}}.leave()
			put(v3)
			e.mustOK("r.bin", "r.bin", v3)
			if copies := conflictCopies(t, e.dir, "r.bin"); len(copies) != 0 {
				t.Fatalf("copies %v: edge-drop's earlier delivery was kept as a person's", copies)
			}
		})
	}
}

// A pending record of a delivery whose rename never happened says nothing
// about a file a person put at the path since: it is kept.
func TestStalePendingKeepsAPersonsFile(t *testing.T) {
	e := newEnv(t)
	v1, v2 := randBytes(300<<10, 31), randBytes(300<<10, 32)
	e.putChecked("p.bin", v1)
	e.mustOK("p.bin", "p.bin", v1)
	etag2 := e.putChecked("p.bin", v2)
	crashed{e: e, rel: "p.bin", data: v2,
		rec: record.Record{Key: "p.bin", Bucket: bucket, ETag: etag2, Size: int64(len(v2)), Checksum: "crc32c:" + crc32c(v2)}}.leave()
	mine := []byte("a person's own file")
	os.Remove(filepath.Join(e.dir, "p.bin"))
	if err := os.WriteFile(filepath.Join(e.dir, "p.bin"), mine, 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustOK("p.bin", "p.bin", v2)
	copies := conflictCopies(t, e.dir, "p.bin")
	if len(copies) != 1 {
		t.Fatalf("copies %v, want the person's file kept", copies)
	}
	for _, c := range copies {
		if !bytes.Equal([]byte(c), mine) {
			t.Fatalf("the copy holds %q", c)
		}
	}
}

// An object with no checksum at all: the crashed delivery's file is known
// by its identity before the rename (device, inode, size, mtime).
func TestCrashUnverifiableObject(t *testing.T) {
	e := newEnv(t)
	kms := map[string]string{"x-amz-server-side-encryption": "aws:kms"}
	v1, v2, v3 := randBytes(300<<10, 41), randBytes(300<<10, 42), randBytes(300<<10, 43)
	e.srv.Put(t, bucket, "u.bin", v1, kms)
	e.mustOK("u.bin", "u.bin", v1)
	etag2 := e.srv.Put(t, bucket, "u.bin", v2, kms)
	crashed{e: e, rel: "u.bin", data: v2, renamed: true,
		rec: record.Record{Key: "u.bin", Bucket: bucket, ETag: etag2, Size: int64(len(v2))}}.leave()
	e.srv.Put(t, bucket, "u.bin", v3, kms)
	if _, err := e.run(context.Background(), "u.bin"); err != nil {
		t.Fatal(err)
	}
	if copies := conflictCopies(t, e.dir, "u.bin"); len(copies) != 0 {
		t.Fatalf("copies %v: the crashed delivery's own file was kept as a person's", copies)
	}
	if !bytes.Equal(e.content("u.bin"), v3) {
		t.Fatal("not the object's bytes")
	}
}
