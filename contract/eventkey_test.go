package contract

import "testing"

func TestEventKey(t *testing.T) {
	for _, c := range []struct{ raw, enc string }{
		{"red flower.jpg", "red+flower.jpg"},
		{"this im + age blah.txt", "this+im+%2B+age+blah.txt"},
		{"a/b/c.txt", "a/b/c.txt"},
		{"dt=2018-05-04/_SUCCESS", "dt%3D2018-05-04/_SUCCESS"},
		{"100%.txt", "100%25.txt"},
		{"a&b.txt", "a%26b.txt"},
		{"10:47:07.log", "10%3A47%3A07.log"},
		{"ünï çødé.bin", "%C3%BCn%C3%AF+%C3%A7%C3%B8d%C3%A9.bin"},
		{"日本.txt", "%E6%97%A5%E6%9C%AC.txt"},
		{"copy (1).txt", "copy+%281%29.txt"},
		{"keep-._*", "keep-._*"},
		{"tilde~q?h#", "tilde%7Eq%3Fh%23"},
	} {
		if got := EventKey(c.raw); got != c.enc {
			t.Errorf("EventKey(%q) = %q, want %q", c.raw, got, c.enc)
		}
	}
}
