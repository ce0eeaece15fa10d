package download

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/keypath"
	"github.com/edge-drop/edge-drop/task/internal/record"
)

// Verdict is what a check of a file on disk against a checksum found.
type Verdict int

const (
	// Unknown: no check could run (no checksum, or per-part checksums
	// without the part size, or a part layout the file does not fit).
	Unknown Verdict = iota
	// Same: the file's bytes give the expected checksum.
	Same
	// Differs: they do not (or the file is not a regular file of that
	// size, or it changed while being read).
	Differs
)

// onDisk is a checked file: the verdict and, for a regular file, the
// identity it had while it was read.
type onDisk struct {
	verdict Verdict
	id      *record.Identity // nil where identities are unknown (off Linux)
	regular bool
}

// checkPath checks the file at rel (fi from Lstat) against v: size bytes
// with v's checksum. The file is read through one descriptor whose
// identity must be fi's before and after the read.
func checkPath(ctx context.Context, root *os.Root, rel string, fi fs.FileInfo, size int64, v verifier) (onDisk, error) {
	if !fi.Mode().IsRegular() {
		return onDisk{verdict: Differs}, nil
	}
	if fi.Size() != size {
		return onDisk{verdict: Differs, regular: true}, nil
	}
	f, err := root.Open(rel)
	if errors.Is(err, fs.ErrPermission) {
		// Not readable by the task (a person's private file): it cannot be
		// the object's bytes as far as edge-drop can tell, so it is kept
		// aside, never replaced unseen.
		return onDisk{verdict: Differs, regular: true}, nil
	}
	if err != nil {
		return onDisk{}, rootErr(fmt.Errorf("open %s to verify it: %w", rel, err))
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return onDisk{}, exitcode.Errorf(exitcode.LocalIO, "stat %s: %w", rel, err)
	}
	id, ok := record.IdentityOf(before)
	var idp *record.Identity
	if ok {
		idp = &id
	}
	if !os.SameFile(before, fi) {
		return onDisk{verdict: Differs, regular: true}, nil // replaced since the Lstat
	}
	verdict, err := v.checkFile(ctx, f, size)
	if err != nil {
		return onDisk{}, err
	}
	if after, err := f.Stat(); err != nil {
		verdict = Unknown
	} else if got, _ := record.IdentityOf(after); ok && got != id {
		verdict = Differs // written to while being read
	}
	return onDisk{verdict: verdict, id: idp, regular: true}, nil
}

// checkFile hashes f (size bytes) the way the download would have been
// hashed and compares with the expected value.
func (v verifier) checkFile(ctx context.Context, f *os.File, size int64) (Verdict, error) {
	if v.Name == "" {
		return Unknown, nil
	}
	buf := make([]byte, bufSize)
	var got string
	switch {
	case v.whole != nil:
		h := v.whole()
		if err := hashRange(ctx, f, 0, size, h, buf); err != nil {
			return Unknown, err
		}
		got = v.encode(h.Sum(nil))
	case v.byParts:
		spans := uniformParts(size, v.partSize, v.parts)
		if spans == nil {
			return Unknown, nil
		}
		sums := make([][]byte, len(spans))
		for i, sp := range spans {
			h := v.part()
			if err := hashRange(ctx, f, sp.off, sp.n, h, buf); err != nil {
				return Unknown, err
			}
			sums[i] = h.Sum(nil)
		}
		got = v.final(spans, sums)
	default: // a full-object CRC: one part
		h := v.part()
		if err := hashRange(ctx, f, 0, size, h, buf); err != nil {
			return Unknown, err
		}
		got = v.final([]span{{0, size}}, [][]byte{h.Sum(nil)})
	}
	if got == v.Expected {
		return Same, nil
	}
	return Differs, nil
}

// uniformParts lays size bytes out as n parts of p bytes (the last one
// shorter), or nil if that cannot be the layout.
func uniformParts(size, p int64, n int) []span {
	if size == 0 && n == 1 {
		return []span{{0, 0}}
	}
	if p <= 0 || n < 1 || int64(n-1)*p >= size || int64(n)*p < size {
		return nil
	}
	spans := make([]span, n)
	for i := range spans {
		off := int64(i) * p
		spans[i] = span{off, min(p, size-off)}
	}
	return spans
}

// hashRange feeds n bytes of f from off into h.
func hashRange(ctx context.Context, f *os.File, off, n int64, h hash.Hash, buf []byte) error {
	for end := off + n; off < end; {
		if err := ctx.Err(); err != nil {
			return exitcode.New(classify(ctx, err), context.Cause(ctx))
		}
		k, err := f.ReadAt(buf[:min(int64(len(buf)), end-off)], off)
		h.Write(buf[:k])
		off += int64(k)
		if err != nil && off < end {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return exitcode.Errorf(exitcode.LocalIO, "read %s to verify it: %w", f.Name(), err)
		}
	}
	return nil
}

// sameBytes reports whether the file at rel holds exactly the bytes of f
// (the verified download).
func sameBytes(root *os.Root, rel string, f *os.File, size int64) (bool, error) {
	g, err := root.Open(rel)
	if err != nil {
		return false, rootErr(fmt.Errorf("open %s to compare it: %w", rel, err))
	}
	defer g.Close()
	a, b := make([]byte, bufSize), make([]byte, bufSize)
	for off := int64(0); off < size; {
		n := min(int64(len(a)), size-off)
		if _, err := f.ReadAt(a[:n], off); err != nil {
			return false, exitcode.Errorf(exitcode.LocalIO, "read back the download: %w", err)
		}
		if k, _ := g.ReadAt(b[:n], off); int64(k) != n || !bytes.Equal(a[:n], b[:n]) {
			return false, nil
		}
		off += n
	}
	var one [1]byte
	k, _ := g.ReadAt(one[:], size)
	return k == 0, nil
}

// ConflictMark starts what a conflict copy's name adds to the original's
// (Syncthing's "<name>.sync-conflict-<date>-<time>-<id><ext>" is the
// model): "<stem>.edge-drop-conflict-<YYYYMMDD>-<HHMMSS>-<6 hex><ext>".
// The copy sorts next to the original (same stem), keeps its extension
// (it still opens in the same program), cannot collide (a random id, and
// it is created with link(2), which never replaces), and has no delivery
// record, so edge-drop never replaces or removes it.
const ConflictMark = ".edge-drop-conflict-"

// conflictName is the name of a conflict copy of rel made at t with id.
func conflictName(rel string, t time.Time, id string) string {
	dir, base := path.Split(rel)
	ext := path.Ext(base)
	if ext == base || strings.HasPrefix(base, ".") && strings.Count(base, ".") == 1 {
		ext = "" // ".bashrc": a hidden name, not an extension
	}
	stem := strings.TrimSuffix(base, ext)
	mark := ConflictMark + t.UTC().Format("20060102-150405") + "-" + id
	if over := len(stem) + len(mark) + len(ext) - keypath.MaxComponentBytes; over > 0 {
		if len(ext) > 16 { // an "extension" that long is part of the name
			stem, ext = base, ""
			over = len(stem) + len(mark) - keypath.MaxComponentBytes
		}
		cut := max(len(stem)-over, 0)
		for cut > 0 && !utf8.RuneStart(stem[cut]) {
			cut--
		}
		stem = stem[:cut]
	}
	return dir + stem + mark + ext
}

// aside is the file that was at a path, kept under a conflict copy's name.
type aside struct {
	root   *os.Root
	rel    string
	name   string
	linked bool // a hard link (rel still names the file until the rename over it)
}

// keepAside gives the file at rel a second name beside it, a conflict
// copy, before the delivery is renamed over rel: with link(2) where the
// file system allows (rel never goes missing), else by renaming it.
func keepAside(root *os.Root, rel string) (*aside, error) {
	for range 5 {
		var rnd [3]byte
		_, _ = rand.Read(rnd[:])
		name := conflictName(rel, time.Now(), hex.EncodeToString(rnd[:]))
		err := root.Link(rel, name)
		switch {
		case err == nil:
			return &aside{root: root, rel: rel, name: name, linked: true}, nil
		case errors.Is(err, fs.ErrExist):
			continue
		case errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EMLINK):
			// No hard links here (FAT, exFAT, some FUSE file systems).
			if _, err := root.Lstat(name); err == nil {
				continue
			}
			if err := root.Rename(rel, name); err != nil {
				return nil, rootErr(fmt.Errorf("keep %s as %s: %w", rel, name, err))
			}
			return &aside{root: root, rel: rel, name: name}, nil
		default:
			return nil, rootErr(fmt.Errorf("keep %s as %s: %w", rel, name, err))
		}
	}
	return nil, exitcode.Errorf(exitcode.LocalIO, "keep %s as a conflict copy: every name tried exists", rel)
}

// undo puts the kept file back at rel: the delivery did not complete.
// replaced says whether the delivery was already renamed over rel.
func (a *aside) undo(replaced bool) error {
	if a == nil {
		return nil
	}
	if a.linked && !replaced {
		return a.root.Remove(a.name) // rel still names the file
	}
	return a.root.Rename(a.name, a.rel)
}

// VerifyDelivered checks the file at rel (fi from Lstat) against the
// checksum its delivery record holds: Same when it still holds the bytes
// edge-drop delivered, Unknown when the record has no checksum this board
// can check without the object (a record written before file identities).
func VerifyDelivered(ctx context.Context, root *os.Root, rel string, fi fs.FileInfo, rec record.Record) (Verdict, error) {
	got, err := checkPath(ctx, root, rel, fi, rec.Size, recorded(rec.Checksum, rec.PartSize))
	return got.verdict, err
}
