package keypath

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/contract"
)

func TestCandidates(t *testing.T) {
	cases := []struct {
		raw  string
		want []string
	}{
		{"demo1.txt", []string{"demo1.txt"}},
		{"dir/demo1.txt", []string{"dir/demo1.txt"}},
		{"red+flower.jpg", []string{"red flower.jpg", "red+flower.jpg"}},
		{"dir%2Fdemo1.txt", []string{"dir/demo1.txt", "dir%2Fdemo1.txt"}},
		{"caf%C3%A9+%2B1.txt", []string{"café +1.txt", "caf%C3%A9+%2B1.txt"}},
		{"100%.txt", []string{"100%.txt"}}, // bad escape: raw only
		{"a%2", []string{"a%2"}},
		{"日本/写真.jpg", []string{"日本/写真.jpg"}},
	}
	for _, c := range cases {
		if got := Candidates(c.raw); !slices.Equal(got, c.want) {
			t.Errorf("Candidates(%q) = %q, want %q", c.raw, got, c.want)
		}
	}
}

func TestValidateOK(t *testing.T) {
	for _, k := range []string{
		"demo1.txt", "dir/demo1.txt", "a/b/c/d.bin", "red flower.jpg", "red+flower.jpg",
		"café.txt", "日本/写真.jpg", ".hidden", "..data", "a..b", "x/...", "100%.txt",
		strings.Repeat("a", 255), strings.Repeat("d/", 300) + "f",
	} {
		got, err := Validate(k)
		if err != nil || got != k {
			t.Errorf("Validate(%q) = %q, %v; want ok", k, got, err)
		}
	}
}

func TestValidateHostile(t *testing.T) {
	cases := map[string]string{
		"":                              "empty key",
		"/etc/passwd":                   "absolute",
		"../etc/passwd":                 `".." path component`,
		"a/../../etc/passwd":            `".." path component`,
		"a/..":                          `".."`,
		"..":                            `".."`,
		".":                             `"."`,
		"a/./b":                         `"."`,
		"dir/":                          "folder marker",
		"a//b":                          "empty path component",
		"a\x00b":                        "control character",
		"a\nb":                          "control character",
		"a\\..\\b":                      "backslash",
		"..\\evil":                      "backslash",
		strings.Repeat("a", 256):        "longer than 255",
		"d/" + strings.Repeat("é", 128): "longer than 255",
		strings.Repeat("a/", 513):       "longer than 1024",
		"bad\xff.txt":                   "UTF-8",
	}
	for k, want := range cases {
		_, err := Validate(k)
		if err == nil {
			t.Errorf("Validate(%q) accepted a hostile key", k)
			continue
		}
		if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%q) = %v, want ErrUnsafe mentioning %q", k, err, want)
		}
	}
}

// Long non-ASCII components: the limits apply to the decoded key (what S3
// stores and what becomes the file name), never to the event's URL-encoded
// spelling, which is up to 9 bytes per character.
func TestLongNonASCIIKeys(t *testing.T) {
	cases := []struct {
		name string
		key  string // decoded, as stored in S3
		ok   bool
	}{
		{"30 × 日 (99 bytes)", "demo-" + strings.Repeat("日", 30) + ".txt", true},
		{"85 × 日 (255 bytes)", strings.Repeat("日", 85), true},
		{"86 × 日 (258 bytes)", strings.Repeat("日", 86), false},
		{"127 × é + a (255 bytes)", strings.Repeat("é", 127) + "a", true},
		{"128 × é (256 bytes)", strings.Repeat("é", 128), false},
		{"63 emoji + 3 bytes (255 bytes)", strings.Repeat("😀", 63) + "abc", true},
		{"64 emoji (256 bytes)", strings.Repeat("😀", 64), false},
		{"e + combining acute × 85 (255 bytes)", strings.Repeat("e\u0301", 85), true},
		{"e + combining acute × 86 (258 bytes)", strings.Repeat("e\u0301", 86), false},
		{"deep non-ASCII dirs", strings.Repeat("写真/", 100) + "x.jpg", true},
		{"1024-byte key", strings.Repeat(strings.Repeat("日", 80)+"/", 4) + strings.Repeat("a", 1024-4*241), true},
		{"1025-byte key", strings.Repeat(strings.Repeat("日", 80)+"/", 4) + strings.Repeat("a", 1025-4*241), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc := url.QueryEscape(c.key)
			cands := Candidates(enc)
			if cands[0] != c.key {
				t.Fatalf("first candidate of %q is %q, want the decoded key", enc, cands[0])
			}
			_, err := Validate(cands[0])
			if (err == nil) != c.ok {
				t.Fatalf("Validate(decoded %d-byte key) = %v, want ok=%v", len(c.key), err, c.ok)
			}
			if c.ok && enc != c.key {
				// The encoded spelling may itself break the limits; it is
				// validated only if it is ever tried.
				if _, err := Validate(enc); err == nil && len(enc) > MaxKeyBytes {
					t.Errorf("raw key longer than %d bytes accepted", MaxKeyBytes)
				}
			}
		})
	}
}

func TestStateDirReserved(t *testing.T) {
	// In any letter case: on a case-insensitive data dir (exFAT or FAT
	// stick, the demo on macOS) .EDGE-DROP/records is the state dir.
	for _, k := range []string{".edge-drop", ".edge-drop/records/x.json", ".edge-drop/tmp/a.part", ".EDGE-DROP/records/x.json", ".Edge-Drop/locks/y.lock"} {
		if _, err := Validate(k); err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("Validate(%q) = %v, want reserved", k, err)
		}
	}
	for _, k := range []string{"a/.edge-drop", ".edge-drop-x", ".edge-drop.txt", "x/.edge-drop/y"} {
		if _, err := Validate(k); err != nil {
			t.Errorf("Validate(%q) = %v, want ok", k, err)
		}
	}
}

// TestEventKey: the download mode decodes the event's key (contract.EventKey)
// with Candidates.
func TestEventKey(t *testing.T) {
	for _, c := range []struct{ raw, enc string }{
		{"red flower.jpg", "red+flower.jpg"},
		{"this im + age blah.txt", "this+im+%2B+age+blah.txt"},
		{"a/b/c.txt", "a/b/c.txt"},
		{"dt=2018-05-04/_SUCCESS", "dt%3D2018-05-04/_SUCCESS"},
		{"100%.txt", "100%25.txt"},
		{"ünï çødé.bin", "%C3%BCn%C3%AF+%C3%A7%C3%B8d%C3%A9.bin"},
		{"copy (1).txt", "copy+%281%29.txt"},
		{"keep-._*", "keep-._*"},
		{"tilde~q?h#", "tilde%7Eq%3Fh%23"},
	} {
		if got := contract.EventKey(c.raw); got != c.enc {
			t.Errorf("EventKey(%q) = %q, want %q", c.raw, got, c.enc)
		}
		// The download mode decodes event keys with Candidates: round trip.
		if got := Candidates(c.enc)[0]; got != c.raw {
			t.Errorf("Candidates(%q)[0] = %q, want %q", c.enc, got, c.raw)
		}
	}
}

func TestLocal(t *testing.T) {
	for _, tc := range []struct {
		key   string
		strip int
		want  string // "" = refused
		why   string
	}{
		{"a/b/c.txt", 0, "a/b/c.txt", ""},
		{"to/a/c.txt", 2, "c.txt", ""},
		{"to/a/d/c.txt", 2, "d/c.txt", ""},
		{"routes/to/g/c.txt", 3, "c.txt", ""},
		{"to/a", 2, "", "2 path components"},
		{"to/a/c.txt", 5, "", "leaves no file name"},
		{"to/a/.edge-drop/x", 2, "", "reserved"},
		{"to/../c.txt", 1, "", `".."`},
		{"to//c.txt", 1, "", "empty path component"},
		{"to/a/", 2, "", "folder marker"},
	} {
		got, err := Local(tc.key, tc.strip)
		if tc.want == "" {
			if err == nil || !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("Local(%q, %d) = %q, %v; want an ErrUnsafe naming %q", tc.key, tc.strip, got, err, tc.why)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Local(%q, %d) = %q, %v; want %q", tc.key, tc.strip, got, err, tc.want)
		}
	}
}

// Folder markers ("photos/") name directories, under the rules of files.
func TestDir(t *testing.T) {
	for _, tc := range []struct {
		key   string
		strip int
		want  string // "" = refused
		why   string
	}{
		{"photos/", 0, "photos", ""},
		{"a/b/", 0, "a/b", ""},
		{"日本/写真/", 0, "日本/写真", ""},
		{"to/a/photos/", 2, "photos", ""},
		{"to/a/", 2, ".", ""}, // the routing folder: the data dir itself
		{"to/", 2, "", "leaves no file name"},
		{"photos", 0, "", "does not end with /"},
		{"/", 0, "", "empty key"},
		{"a//", 0, "", "empty path component"},
		{"a//b/", 0, "", "empty path component"},
		{"../", 0, "", `".."`},
		{"a/../../", 0, "", `".."`},
		{"./", 0, "", `"."`},
		{"/etc/", 0, "", "absolute"},
		{".edge-drop/", 0, "", "reserved"},
		{".EDGE-DROP/records/", 0, "", "reserved"},
		{"to/a/.edge-drop/", 2, "", "reserved"},
		{"a\\b/", 0, "", "backslash"},
		{"a\x00/", 0, "", "control character"},
		{strings.Repeat("a", 256) + "/", 0, "", "longer than 255"},
	} {
		got, err := Dir(tc.key, tc.strip)
		if tc.want == "" {
			if err == nil || !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("Dir(%q, %d) = %q, %v; want an ErrUnsafe naming %q", tc.key, tc.strip, got, err, tc.why)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Dir(%q, %d) = %q, %v; want %q", tc.key, tc.strip, got, err, tc.want)
		}
	}
}
