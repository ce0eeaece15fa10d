package record

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Reserve takes the bytes the finished record can need; Commit fills them
// (no allocation), and the record reads back with its identity.
func TestReserveThenCommit(t *testing.T) {
	s, dir := store(t)
	r := Record{Key: "to/b/" + strings.Repeat("é", 300), Path: strings.Repeat("é", 300), Bucket: "edge", ETag: `"a"`, Size: 5,
		LastModified: time.Unix(1700000000, 0).UTC(), DeliveredAt: time.Unix(1700000001, 123456789).UTC()}
	rv, err := s.Reserve(r)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, strings.TrimSuffix(Path(r.Path), ".json")+".tmp")
	fi, err := os.Stat(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Read(r.Path); ok {
		t.Fatal("a reservation is not a record")
	}
	// The widest identity JSON can hold still fits.
	for _, id := range []*Identity{&widest, {Dev: 2049, Ino: 7, Size: 5, MtimeNs: 1700000000000000000, CtimeNs: 1}, nil} {
		rv2, err := s.Reserve(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := rv2.Commit(id); err != nil {
			t.Fatalf("commit %+v: %v", id, err)
		}
		got, ok, err := s.Read(r.Path)
		if err != nil || !ok || (got.File == nil) != (id == nil) || id != nil && *got.File != *id {
			t.Fatalf("read back %+v, %v, %v; want identity %+v", got.File, ok, err, id)
		}
	}
	rv.Cancel()
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("Cancel left the reservation: %v", err)
	}
	if fi.Size() < 64 {
		t.Fatalf("reserved %d bytes", fi.Size())
	}
}

// The file's identity: unchanged by reading, changed by a write that keeps
// size and mtime (ctime cannot be put back), by chmod, by a replacement.
func TestIdentity(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("hello"), 0o644)
	fi, _ := os.Lstat(p)
	id, ok := IdentityOf(fi)
	if !ok {
		t.Skip("no file identities on this platform")
	}
	var nilID *Identity
	if nilID.Matches(fi) {
		t.Fatal("a record without identity matched a file")
	}
	os.ReadFile(p)
	if again, _ := os.Lstat(p); !id.Matches(again) {
		t.Fatal("reading the file changed its identity")
	}
	time.Sleep(20 * time.Millisecond) // past the kernel's timestamp granularity
	os.WriteFile(p, []byte("HELLO"), 0o644)
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	if again, _ := os.Lstat(p); id.Matches(again) || again.Size() != fi.Size() || !again.ModTime().Equal(fi.ModTime()) {
		t.Fatal("an edit that kept size and mtime kept the identity")
	}
	fi, _ = os.Lstat(p)
	id, _ = IdentityOf(fi)
	time.Sleep(20 * time.Millisecond)
	os.Chmod(p, 0o600)
	if again, _ := os.Lstat(p); id.Matches(again) {
		t.Fatal("chmod kept the identity")
	}
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	if d, _ := os.Lstat(filepath.Join(dir, "d")); func() bool { _, ok := IdentityOf(d); return ok }() {
		t.Fatal("a directory has a file identity")
	}
}

// Records named by key (before issue 17) are renamed by their path once,
// under the path's lock; two old records of one path keep the later one.
func TestMigrateByPath(t *testing.T) {
	s, dir := store(t)
	old := func(r Record) {
		b, _ := json.Marshal(r)
		os.MkdirAll(filepath.Join(dir, Dir), 0o755)
		if err := os.WriteFile(filepath.Join(dir, Dir, Name(r.Key)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Unix(1700000000, 0).UTC()
	old(Record{Key: "plain.txt", ETag: `"p"`, Size: 1, DeliveredAt: t0})
	old(Record{Key: "to/b/x.txt", Path: "x.txt", ETag: `"b"`, Size: 1, DeliveredAt: t0})
	old(Record{Key: "to/site1/x.txt", Path: "x.txt", ETag: `"s"`, Size: 1, DeliveredAt: t0.Add(time.Minute)}) // delivered last
	old(Record{Key: "to/b/y.txt", Path: "dir/y.txt", ETag: `"y"`, Size: 1, DeliveredAt: t0})
	os.WriteFile(filepath.Join(dir, Dir, "ffff.json"), []byte("{"), 0o644) // corrupt: left alone
	var locked []string
	lock := func(_ context.Context, name string) (func(), error) {
		locked = append(locked, name)
		return func() {}, nil
	}
	n, err := s.Migrate(context.Background(), lock)
	if err != nil || n != 3 {
		t.Fatalf("Migrate = %d, %v; want 3 moved", n, err)
	}
	for rel, key := range map[string]string{"plain.txt": "plain.txt", "x.txt": "to/site1/x.txt", "dir/y.txt": "to/b/y.txt"} {
		r, ok, err := s.Read(rel)
		if err != nil || !ok || r.Key != key {
			t.Errorf("record of %s: %+v, %v, %v; want key %s", rel, r, ok, err, key)
		}
	}
	if ents, _ := filepath.Glob(filepath.Join(dir, Dir, "*.json")); len(ents) != 4 { // 3 records + the corrupt one
		t.Fatalf("records dir: %v", ents)
	}
	if !contains(locked, "x.txt") || !contains(locked, "dir/y.txt") || !contains(locked, migrateLock) {
		t.Errorf("locks taken: %q", locked)
	}
	// Done once: the marker makes later calls free.
	locked = nil
	if n, err := s.Migrate(context.Background(), lock); n != 0 || err != nil || len(locked) != 0 {
		t.Fatalf("second Migrate = %d, %v, locks %q", n, err, locked)
	}
}

// A data dir without records gets no marker (nothing is left behind by a
// run that delivered nothing).
func TestMigrateNothing(t *testing.T) {
	s, dir := store(t)
	if n, err := s.Migrate(context.Background(), func(context.Context, string) (func(), error) {
		t.Fatal("locked for nothing")
		return nil, nil
	}); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".edge-drop")); !os.IsNotExist(err) {
		t.Fatalf("state dir created: %v", err)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
