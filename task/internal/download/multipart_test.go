package download

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"testing"
)

func TestMultipartMD5(t *testing.T) {
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	ref := func(ps int) string {
		var sums []byte
		n := 0
		for off := 0; off < len(data); off += ps {
			s := md5.Sum(data[off:min(off+ps, len(data))])
			sums = append(sums, s[:]...)
			n++
		}
		d := md5.Sum(sums)
		return fmt.Sprintf("%s-%d", hex.EncodeToString(d[:]), n)
	}
	for _, ps := range []int{100, 333, 1000, 4096} {
		for _, chunk := range []int{1, 7, 100, 1000} {
			m := newMultipartMD5(int64(ps))
			for off := 0; off < len(data); off += chunk {
				m.Write(data[off:min(off+chunk, len(data))])
			}
			if got := string(m.Sum(nil)); got != ref(ps) {
				t.Errorf("part %d chunk %d: %s, want %s", ps, chunk, got, ref(ps))
			}
		}
	}
	for etag, want := range map[string]int{`"d41d8cd98f00b204e9800998ecf8427e-3"`: 3, `"d41d8cd98f00b204e9800998ecf8427e"`: 0, `"abc-2"`: 0, `"d41d8cd98f00b204e9800998ecf8427e-0"`: 0} {
		if got := multipartParts(etag); got != want {
			t.Errorf("multipartParts(%s) = %d, want %d", etag, got, want)
		}
	}
}
