// Package keypath turns an S3 object key, as received from an S3 event, into
// candidate keys and a safe path relative to the data directory.
package keypath

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/edge-drop/edge-drop/contract"
)

// MaxKeyBytes is S3's limit on key length.
const MaxKeyBytes = 1024

// MaxComponentBytes is the usual file-name limit (NAME_MAX) on Linux.
const MaxComponentBytes = 255

// ErrUnsafe is wrapped by every rejection from Validate.
var ErrUnsafe = errors.New("unsafe key")

// Candidates returns the keys to try, in order. Only a key that is about to
// be used needs to pass Validate: the raw key of an encoded event is tried
// (and validated) only when the decoded key is not found, because limits
// such as the 255-byte component apply to the key S3 stores, not to its
// URL-encoded spelling (30 × 日 is 90 bytes decoded, 270 encoded). S3 event notifications
// URL-encode keys the way HTML forms do ("red flower.jpg" arrives as
// "red+flower.jpg", "/" sometimes as "%2F"), so the query-unescaped key is
// tried first and the raw key second (for a key that really contains "+" or
// "%"). A key that does not unescape cleanly is only tried raw.
func Candidates(raw string) []string {
	dec, err := url.QueryUnescape(raw)
	if err != nil || dec == raw {
		return []string{raw}
	}
	return []string{dec, raw}
}

// Validate checks that key maps to a file strictly inside the data dir and
// returns the relative, slash-separated path (equal to the key). It rejects
// anything that could escape the directory or that names no regular file.
func Validate(key string) (string, error) {
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("%w %q: %s", ErrUnsafe, key, fmt.Sprintf(format, args...))
	}
	switch {
	case key == "":
		return bad("empty key")
	case len(key) > MaxKeyBytes:
		return bad("longer than %d bytes", MaxKeyBytes)
	case !utf8.ValidString(key):
		return bad("not valid UTF-8")
	case strings.HasPrefix(key, "/"):
		return bad("absolute path")
	case strings.HasSuffix(key, "/"):
		return bad("folder marker (ends with /), not a file")
	case strings.ContainsRune(key, '\\'):
		return bad("backslash in key")
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return bad("control character %U in key", r)
		}
	}
	for i, c := range strings.Split(key, "/") {
		switch {
		case i == 0 && strings.EqualFold(c, contract.StateDirName): // any case: the data dir may be case-insensitive (exFAT, macOS)
			return bad("%q is reserved for edge-drop's state in the data dir", c)
		case c == "":
			return bad("empty path component (//)")
		case c == "." || c == "..":
			return bad("%q path component", c)
		case len(c) > MaxComponentBytes:
			return bad("path component longer than %d bytes", MaxComponentBytes)
		}
	}
	return key, nil
}

// IsFolder reports whether key names a folder (ends with "/"). A zero-byte
// object with such a key is a folder marker, as consoles and tools create
// them; see Dir.
func IsFolder(key string) bool { return strings.HasSuffix(key, "/") }

// FolderBytes is nil for a folder key's object of size 0 (a folder
// marker), else the error that such an object cannot become a file.
func FolderBytes(key string, size int64) error {
	if size == 0 {
		return nil
	}
	return fmt.Errorf("%w %q: the key ends with / (a folder) but the object holds %d bytes, which cannot be written as a file; upload them under a key without the trailing /",
		ErrUnsafe, key, size)
}

// Dir is Local for a folder key ("photos/"): the directory's path relative
// to the data dir, under the same rules as a file's path ("photos"). A
// marker of the routing folder itself (every component stripped, as in
// "to/board1/" with strip 2) is the data dir: ".".
func Dir(key string, strip int) (string, error) {
	name, ok := strings.CutSuffix(key, "/")
	if !ok {
		return "", fmt.Errorf("%w %q: not a folder (does not end with /)", ErrUnsafe, key)
	}
	if IsFolder(name) {
		return "", fmt.Errorf("%w %q: empty path component (//)", ErrUnsafe, key)
	}
	if _, err := Validate(name); err != nil {
		return "", fmt.Errorf("folder %q: %w", key, err)
	}
	if strip > 0 && strip == strings.Count(name, "/")+1 {
		return ".", nil
	}
	rel, err := Local(name, strip)
	if err != nil {
		return "", fmt.Errorf("folder %q: %w", key, err)
	}
	return rel, nil
}

// Local validates key and returns its path relative to the data dir: the
// key without its first strip components (routing by key, like tar's
// --strip-components). What remains must name a file and pass Validate
// too (e.g. not start in the state directory).
func Local(key string, strip int) (string, error) {
	if _, err := Validate(key); err != nil {
		return "", err
	}
	if strip <= 0 {
		return key, nil
	}
	parts := strings.Split(key, "/")
	if strip >= len(parts) {
		return "", fmt.Errorf("%w %q: it has %d path components and %s=%d strips %d, which leaves no file name (route keys as <prefix><target>/<file>)",
			ErrUnsafe, key, len(parts), contract.EnvStripComponents, strip, strip)
	}
	rel := strings.Join(parts[strip:], "/")
	if _, err := Validate(rel); err != nil {
		return "", fmt.Errorf("key %q without its first %d components: %w", key, strip, err)
	}
	return rel, nil
}
