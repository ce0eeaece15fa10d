package record

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func store(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return New(root), dir
}

func TestWriteReadOverwrite(t *testing.T) {
	s, dir := store(t)
	key := "dir/" + strings.Repeat("日", 85)
	if _, ok, err := s.Read(key); ok || err != nil {
		t.Fatalf("Read of a missing record = %v, %v", ok, err)
	}
	want := Record{Key: key, ETag: `"a"`, Size: 3, LastModified: time.Unix(1700000000, 0).UTC(),
		Checksum: "crc32c:AAAAAA==", Sequencer: "0055AED6DCD90281E5", DeliveredAt: time.Unix(1700000001, 0).UTC()}
	if err := s.Write(want); err != nil {
		t.Fatal(err)
	}
	want.ETag, want.Size, want.VersionID = `"b"`, 4, "v2"
	if err := s.Write(want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Read(key)
	if err != nil || !ok || got != want {
		t.Fatalf("Read = %+v, %v, %v; want %+v", got, ok, err, want)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, Dir))
	if len(ents) != 1 || ents[0].Name() != Name(key) || len(Name(key)) != 64+5 {
		t.Fatalf("records dir holds %v, want just %s", ents, Name(key))
	}
}

func TestCorruptRecordIsNotUsed(t *testing.T) {
	s, dir := store(t)
	if err := s.Write(Record{Key: "k", ETag: `"a"`, Size: 1}); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"truncated":  `{"key":"k","etag":"\"a`,
		"other key":  `{"key":"x","etag":"\"a\"","size":1}`,
		"negative":   `{"key":"k","etag":"\"a\"","size":-1}`,
		"oversized":  `{"key":"k","pad":"` + strings.Repeat("x", maxRecordBytes) + `"}`,
		"not json":   "\x00\x01",
		"empty file": "",
	} {
		os.WriteFile(filepath.Join(dir, Path("k")), []byte(body), 0o644)
		if _, ok, err := s.Read("k"); ok || !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Read = %v, %v; want ErrCorrupt", name, ok, err)
		}
	}
}

func TestAllListsInBatches(t *testing.T) {
	s, dir := store(t)
	if n := count(t, s); n != 0 {
		t.Fatalf("empty store listed %d", n)
	}
	const n = listBatch*2 + 3 // more than one ReadDir batch
	for i := range n {
		if err := s.Write(Record{Key: fmt.Sprintf("k/%d-%s", i, strings.Repeat("é", i%7)), ETag: `"e"`, Size: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// A crashed writer's temp file and a corrupt record.
	os.WriteFile(filepath.Join(dir, Dir, "abc.tmp"), []byte("{"), 0o644)
	os.WriteFile(filepath.Join(dir, Dir, "0000.json"), []byte("{"), 0o644)
	got, bad := 0, 0
	for r, err := range s.All() {
		if err != nil {
			bad++
			continue
		}
		if r.ETag != `"e"` {
			t.Fatalf("listed %+v", r)
		}
		got++
	}
	if got != n || bad != 1 {
		t.Fatalf("All listed %d records and %d errors, want %d and 1", got, bad, n)
	}
}

func count(t *testing.T, s *Store) int {
	n := 0
	for _, err := range s.All() {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

func TestCompareSequencers(t *testing.T) {
	for _, c := range []struct {
		a, b string
		cmp  int
		ok   bool
	}{
		{"0055AED6DCD90281E5", "0055AED6DCD90281E6", -1, true},
		{"0055AED6DCD90281E5", "0055aed6dcd90281e5", 0, true},
		{"FF", "0100", -1, true}, // left-padded: "00FF" < "0100"
		{"55AED6DCD90281E5", "0055AED6DCD90281E5", 0, true},
		{"0055AED6DCD90281E5", "0055AED6DCD9028", 1, true},
		{"1", "", 0, false},
		{"xyz", "1", 0, false},
	} {
		cmp, ok := CompareSequencers(c.a, c.b)
		if cmp != c.cmp || ok != c.ok {
			t.Errorf("CompareSequencers(%q, %q) = %d, %v; want %d, %v", c.a, c.b, cmp, ok, c.cmp, c.ok)
		}
	}
}

func TestRemove(t *testing.T) {
	s, _ := store(t)
	r := Record{Key: "a/b.txt", Bucket: "edge", ETag: `"a"`, Size: 1}
	if err := s.Write(r); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(r.Key); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Read(r.Key); ok || err != nil {
		t.Fatalf("record still readable after Remove: %v, %v", ok, err)
	}
	if err := s.Remove(r.Key); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
}
