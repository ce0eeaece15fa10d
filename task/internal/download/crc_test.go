package download

import (
	"math/rand/v2"
	"testing"
)

func TestCRCCombine(t *testing.T) {
	data := make([]byte, 1<<20+77)
	rand.NewChaCha8([32]byte{3}).Read(data)
	for name, k := range map[string]*crcKind{"crc32": kindCRC32, "crc32c": kindCRC32C, "crc64nvme": kindCRC64NVME} {
		whole := k.new()
		whole.Write(data)
		want := k.sum(whole)
		for _, cuts := range [][]int{{0}, {1}, {1000, 70000}, {65536, 131072, 1 << 20}, {len(data)}} {
			var got uint64
			prev := 0
			bounds := append(append([]int{}, cuts...), len(data))
			for i, c := range bounds {
				h := k.new()
				h.Write(data[prev:c])
				if i == 0 {
					got = k.sum(h)
				} else {
					got = k.combine(got, k.sum(h), int64(c-prev))
				}
				prev = c
			}
			if got != want {
				t.Errorf("%s cuts %v: combined %x, want %x", name, cuts, got, want)
			}
		}
	}
}
