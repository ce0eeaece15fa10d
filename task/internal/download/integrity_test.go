package download_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/record"
)

// Issue 17: what a board holds is what edge-drop says it holds, and
// nobody's bytes are destroyed. Each test here failed before the delivery
// record named the file's identity.

// conflictCopies returns the conflict copies of rel (relative to dir) and
// their content.
func conflictCopies(t *testing.T, dir, rel string) map[string]string {
	t.Helper()
	ext := filepath.Ext(rel)
	stem := strings.TrimSuffix(rel, ext)
	names, err := filepath.Glob(filepath.Join(dir, stem+".edge-drop-conflict-*"+ext))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := filepath.Rel(dir, n)
		out[r] = string(b)
	}
	return out
}

// flipKeepingTimes flips one byte of a file in place (same size) and puts
// its mtime back, as `cp -p`, `rsync -t` or `touch -r` would.
func flipKeepingTimes(t *testing.T, p string, off int64) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x20
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(p); !after.ModTime().Equal(fi.ModTime()) || after.Size() != fi.Size() {
		t.Fatal("size or mtime not kept")
	}
}

// Why 1: one byte flipped, size and mtime kept. Redelivering the same
// version used to exit 0 "already up to date" with the wrong bytes on the
// board. Now the file's identity differs from its record, its content is
// checked, and the person's bytes are kept beside the delivered ones.
func TestRedeliveryOfATouchedFile(t *testing.T) {
	e := newEnv(t)
	data := []byte("the delivered content, 0123456789")
	e.srv.Put(t, bucket, "f.txt", data, nil)
	e.mustOK("f.txt", "f.txt", data)
	flipKeepingTimes(t, filepath.Join(e.dir, "f.txt"), 4)
	flipped := string(e.content("f.txt"))

	e.srv.SetRule(nil)
	res := e.mustOK("f.txt", "f.txt", data)
	if res.UpToDate {
		t.Fatal("a file whose bytes differ from the object was called up to date")
	}
	copies := conflictCopies(t, e.dir, "f.txt")
	if len(copies) != 1 {
		t.Fatalf("conflict copies %v, want one holding the changed bytes", copies)
	}
	for name, b := range copies {
		if b != flipped || res.ConflictCopy != name {
			t.Fatalf("copy %s holds %q (result names %q), want %q", name, b, res.ConflictCopy, flipped)
		}
	}
	// The same version again: now up to date, without a request for the
	// body and without hashing (the identity matches again).
	e.srv.SetRule(nil)
	if res := e.mustOK("f.txt", "f.txt", data); !res.UpToDate || res.Reverified || e.srv.Count(http.MethodGet) != 0 {
		t.Fatalf("third delivery: up_to_date=%v reverified=%v, %d GETs", res.UpToDate, res.Reverified, e.srv.Count(http.MethodGet))
	}
}

// Touched but not changed (mtime only): the content is verified against the
// object's checksum, the file adopted, nothing downloaded, no copy.
func TestRedeliveryOfAFileTouchedButSame(t *testing.T) {
	e := newEnv(t)
	data := []byte("same bytes, new mtime")
	e.putChecked("t.txt", data)
	e.mustOK("t.txt", "t.txt", data)
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(e.dir, "t.txt"), later, later)
	e.srv.SetRule(nil)
	res := e.mustOK("t.txt", "t.txt", data)
	if !res.UpToDate || !res.Reverified || e.srv.Count(http.MethodGet) != 0 || len(conflictCopies(t, e.dir, "t.txt")) != 0 {
		t.Fatalf("up_to_date=%v reverified=%v, %d GETs, copies %v", res.UpToDate, res.Reverified, e.srv.Count(http.MethodGet), conflictCopies(t, e.dir, "t.txt"))
	}
	if r := e.record("t.txt"); r.File == nil || r.File.MtimeNs != later.UnixNano() {
		t.Fatalf("record identity %+v, want the new mtime", r.File)
	}
}

// Why 3: a file a person put at the key's path (never delivered, no
// record) used to be replaced without a word.
func TestPersonsFileKeptAsConflictCopy(t *testing.T) {
	e := newEnv(t)
	mine := "a person's notes, not from S3"
	os.MkdirAll(filepath.Join(e.dir, "docs"), 0o755)
	os.WriteFile(filepath.Join(e.dir, "docs/report.pdf"), []byte(mine), 0o600)
	data := []byte("the object's bytes")
	e.srv.Put(t, bucket, "docs/report.pdf", data, nil)
	res := e.mustOK("docs/report.pdf", "docs/report.pdf", data)
	copies := conflictCopies(t, e.dir, "docs/report.pdf")
	if len(copies) != 1 || copies[res.ConflictCopy] != mine {
		t.Fatalf("copies %v (result %q), want one with the person's bytes", copies, res.ConflictCopy)
	}
	if fi, err := os.Stat(filepath.Join(e.dir, res.ConflictCopy)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the copy is the person's file, mode and all: %v %v", fi, err)
	}
	// The copy has no record: nothing edge-drop does touches it.
	if _, err := os.Stat(filepath.Join(e.dir, record.Path(res.ConflictCopy))); err == nil {
		t.Fatal("the conflict copy has a delivery record")
	}
}

// A person's file that already holds the object's bytes is adopted: no
// copy, nothing downloaded.
func TestIdenticalFileAdopted(t *testing.T) {
	e := newEnv(t)
	data := []byte("identical bytes")
	os.WriteFile(filepath.Join(e.dir, "same.txt"), data, 0o644)
	e.srv.Put(t, bucket, "same.txt", data, nil) // single-part: the ETag is the MD5
	e.srv.SetRule(nil)
	res := e.mustOK("same.txt", "same.txt", data)
	if !res.UpToDate || e.srv.Count(http.MethodGet) != 0 || len(conflictCopies(t, e.dir, "same.txt")) != 0 {
		t.Fatalf("up_to_date=%v, %d GETs, copies %v", res.UpToDate, e.srv.Count(http.MethodGet), conflictCopies(t, e.dir, "same.txt"))
	}
	if r := e.record("same.txt"); r.File == nil {
		t.Fatal("adopted without an identity in the record")
	}
}

// Why 2: two keys, one path (routing strips to/<board>/ and to/<group>/).
// The newest LastModified owns the path; the other key is reported as a
// conflict and changes nothing; a newer upload of it takes the path back.
func TestTwoKeysOnePath(t *testing.T) {
	e := newEnv(t)
	e.o.StripComponents = 2
	t0 := time.Now().UTC().Truncate(time.Second)
	lm := func(d time.Duration) map[string]string {
		return map[string]string{"Last-Modified": t0.Add(d).Format(http.TimeFormat)}
	}
	group, board := []byte("group's bytes, 0001"), []byte("board's bytes, 0002")
	e.srv.Put(t, bucket, "to/site1/same.txt", group, lm(0))
	e.srv.Put(t, bucket, "to/b/same.txt", board, lm(-time.Minute)) // older
	e.mustOK("to/site1/same.txt", "same.txt", group)
	res := e.mustOK("to/b/same.txt", "same.txt", group) // loses: the path keeps the newer group file
	if res.Lost != "to/site1/same.txt" || res.UpToDate {
		t.Fatalf("older key: lost to %q, up_to_date %v; want lost to to/site1/same.txt", res.Lost, res.UpToDate)
	}
	if r := e.record("same.txt"); r.Key != "to/site1/same.txt" {
		t.Fatalf("the path's record names %q", r.Key)
	}
	// Again: the same decision (stable), nothing written.
	if res := e.mustOK("to/b/same.txt", "same.txt", group); res.Lost != "to/site1/same.txt" {
		t.Fatalf("second run: %+v", res)
	}
	// A newer upload of the board's key wins; the group file was
	// edge-drop's own delivery, unchanged: replaced without a copy.
	e.srv.Put(t, bucket, "to/b/same.txt", board, lm(time.Minute))
	res = e.mustOK("to/b/same.txt", "same.txt", board)
	if res.Displaced != "to/site1/same.txt" || res.ConflictCopy != "" || len(conflictCopies(t, e.dir, "same.txt")) != 0 {
		t.Fatalf("newer key: displaced %q, copy %q", res.Displaced, res.ConflictCopy)
	}
	if r := e.record("same.txt"); r.Key != "to/b/same.txt" {
		t.Fatalf("the path's record names %q", r.Key)
	}
	// The group key now loses, and a gone owner loses its path: delete the
	// board's object and the group key takes the path back.
	if res := e.mustOK("to/site1/same.txt", "same.txt", board); res.Lost != "to/b/same.txt" {
		t.Fatalf("group key after the newer board upload: %+v", res)
	}
	if _, err := e.srv.Backend.DeleteObject(bucket, "to/b/same.txt"); err != nil {
		t.Fatal(err)
	}
	if res := e.mustOK("to/site1/same.txt", "same.txt", group); res.Displaced != "to/b/same.txt" {
		t.Fatalf("group key after the owner's object was deleted: %+v", res)
	}
	// Equal LastModified: the lexically larger key wins, whichever runs first.
	e.srv.Put(t, bucket, "to/b/tie.txt", board, lm(0))
	e.srv.Put(t, bucket, "to/site1/tie.txt", group, lm(0))
	e.mustOK("to/site1/tie.txt", "tie.txt", group)
	if res := e.mustOK("to/b/tie.txt", "tie.txt", group); res.Lost != "to/site1/tie.txt" {
		t.Fatalf("tie: %+v", res)
	}
}

// mountTmpfs mounts a small tmpfs under the test's temp dir (a real
// ENOSPC), or skips where mounting is not allowed.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "edge-drop-test", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		ents, _ := os.ReadDir("/proc/self/fd")
		for _, e := range ents {
			if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, dir) {
				t.Errorf("a file is still open on the test's file system (a leak): fd %s -> %s", e.Name(), l)
			}
		}
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the file system is full.
func fill(t *testing.T, p string) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

// Why 4: the disk fills up between the data and the record. It used to
// exit 0 with a WARN and a file at the path that no record described (a
// later mirrored delete kept it as "not ours", every sync failed). Since
// the record's bytes are reserved before the first byte of the data (a
// pending record), the commit needs no new space: a disk that fills
// during the download no longer fails the delivery; one that is full
// before it fails it before anything is written (exit 6, the path and the
// record as they were).
func TestDiskFullAtRecordTime(t *testing.T) {
	e := newEnv(t)
	e.dir = mountTmpfs(t, "2m")
	filler := filepath.Join(e.dir, "filler")
	fillAtCommit := func(o *download.Options) { o.Hooks.BeforeCommit = func() { fill(t, filler) } }
	v1, v2 := randBytes(100<<10, 1), randBytes(100<<10, 2)

	t.Run("disk fills before the commit", func(t *testing.T) {
		e.srv.Put(t, bucket, "new.bin", v1, nil)
		if _, err := e.runWith(context.Background(), "new.bin", fillAtCommit); err != nil {
			t.Fatalf("exit %d (%v), want 0: the record's space was reserved", exitcode.Of(err), err)
		}
		if got, _ := os.ReadFile(filepath.Join(e.dir, "new.bin")); !bytes.Equal(got, v1) {
			t.Fatal("the delivered file is not at the path")
		}
		if r := e.record("new.bin"); r.File == nil || r.Pending {
			t.Fatalf("record %+v, want a complete one", r)
		}
		e.noTemp()
		os.Remove(filler)
	})

	t.Run("disk full before the delivery", func(t *testing.T) {
		e.srv.Put(t, bucket, "new.bin", v2, nil)
		before := e.record("new.bin")
		fill(t, filler)
		_, err := e.run(context.Background(), "new.bin")
		if exitcode.Of(err) != exitcode.LocalIO {
			t.Fatalf("exit %d (%v), want 6", exitcode.Of(err), err)
		}
		got, _ := os.ReadFile(filepath.Join(e.dir, "new.bin"))
		if string(got) != string(v1) {
			t.Fatal("the previous version is not at the path any more")
		}
		if after := e.record("new.bin"); after.ETag != before.ETag || *after.File != *before.File {
			t.Fatalf("the record changed: %+v, was %+v", after, before)
		}
		e.noTemp()
		os.Remove(filler)
		// The old record still describes the old file: nothing to verify.
		e.srv.SetRule(nil)
		if res := e.mustOK("new.bin", "new.bin", v2); res.Reverified || len(conflictCopies(t, e.dir, "new.bin")) != 0 {
			t.Fatalf("after the disk had room again: reverified %v, copies %v", res.Reverified, conflictCopies(t, e.dir, "new.bin"))
		}
	})
}

// A board upgraded from a version whose records had no file identity:
// the first delivery verifies the file once (no download) and records its
// identity; the next one is up to date without hashing.
func TestRecordWithoutIdentityVerifiedOnce(t *testing.T) {
	e := newEnv(t)
	data := randBytes(200<<10, 3)
	e.srv.Put(t, bucket, "old.bin", data, nil)
	e.mustOK("old.bin", "old.bin", data)
	stripIdentity(t, e.dir, "old.bin")
	e.srv.SetRule(nil)
	if res := e.mustOK("old.bin", "old.bin", data); !res.UpToDate || !res.Reverified || e.srv.Count(http.MethodGet) != 0 {
		t.Fatalf("old record: up_to_date=%v reverified=%v, %d GETs", res.UpToDate, res.Reverified, e.srv.Count(http.MethodGet))
	}
	if r := e.record("old.bin"); r.File == nil {
		t.Fatal("identity not recorded after the verification")
	}
	if res := e.mustOK("old.bin", "old.bin", data); !res.UpToDate || res.Reverified {
		t.Fatalf("then: up_to_date=%v reverified=%v", res.UpToDate, res.Reverified)
	}
	// An old record and a file a person changed since: kept as a copy.
	stripIdentity(t, e.dir, "old.bin")
	flipKeepingTimes(t, filepath.Join(e.dir, "old.bin"), 100)
	if res := e.mustOK("old.bin", "old.bin", data); res.ConflictCopy == "" {
		t.Fatal("an old record's changed file was replaced without a copy")
	}
}

// stripIdentity rewrites rel's record as versions before issue 17 wrote it.
func stripIdentity(t *testing.T, dir, rel string) {
	t.Helper()
	st := openStore(t, dir)
	r, ok, err := st.Read(rel)
	if !ok || err != nil {
		t.Fatalf("no record of %s: %v", rel, err)
	}
	r.File = nil
	if err := st.Write(r); err != nil {
		t.Fatal(err)
	}
}

// Per-part checksums (composite CRC, multipart ETag) are checked on disk
// in uniform parts: of part 1's size from the server (an old record, the
// object's own check), or of the size the record kept (the delivered
// version's check, when a new version is there). Mixed part sizes cannot
// be checked on disk: the file is downloaded again and compared.
func TestPerPartChecksumsOnDisk(t *testing.T) {
	data := randBytes(5*partSize+333, 21)
	for _, tc := range []struct {
		name   string
		sizes  []int64
		algo   string
		onDisk bool // checked without a GET
	}{
		{"composite uniform", []int64{96 << 10, 96 << 10, 96 << 10, int64(len(data)) - 3*(96<<10)}, "CRC32C", true},
		{"multipart etag uniform", []int64{128 << 10, 128 << 10, int64(len(data)) - 256<<10}, "", true},
		{"composite mixed", []int64{40 << 10, 130 << 10, int64(len(data)) - 170<<10}, "CRC32", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.Put(t, bucket, "p.bin", data, nil)
			e.srv.Fixups.SetParts(bucket, "p.bin", data, tc.sizes, tc.algo)
			e.mustOK("p.bin", "p.bin", data)
			uniform := tc.onDisk
			if r := e.record("p.bin"); (r.PartSize != 0) != uniform || uniform && r.PartSize != tc.sizes[0] {
				t.Fatalf("record part size %d, want %v", r.PartSize, uniform)
			}
			// An old record (no identity): verified once.
			stripIdentity(t, e.dir, "p.bin")
			e.srv.SetRule(nil)
			res := e.mustOK("p.bin", "p.bin", data)
			gets := e.srv.Count(http.MethodGet)
			if !res.UpToDate || !res.Reverified || (gets == 0) != tc.onDisk {
				t.Fatalf("old record: up_to_date=%v reverified=%v, %d GETs", res.UpToDate, res.Reverified, gets)
			}
			if len(conflictCopies(t, e.dir, "p.bin")) != 0 {
				t.Fatal("the delivered bytes were kept as a conflict copy")
			}
			if !tc.onDisk {
				return
			}
			// Touched (chmod: ctime only) while a new version waits: the
			// record's own check says the bytes are still the delivered
			// ones, so they are replaced without a copy.
			os.Chmod(filepath.Join(e.dir, "p.bin"), 0o600)
			v2 := randBytes(len(data), 22)
			e.srv.Put(t, bucket, "p.bin", v2, nil)
			e.srv.Fixups.SetParts(bucket, "p.bin", v2, tc.sizes, tc.algo)
			if res := e.mustOK("p.bin", "p.bin", v2); res.ConflictCopy != "" || !res.Reverified {
				t.Fatalf("new version over a touched, unchanged file: copy %q, reverified %v", res.ConflictCopy, res.Reverified)
			}
		})
	}
}
