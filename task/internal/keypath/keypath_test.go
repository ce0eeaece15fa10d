package keypath

import (
	"errors"
	"slices"
	"strings"
	"testing"
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
