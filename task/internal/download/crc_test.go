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
		for _, cuts := range [][]int{{0}, {1}, {1000, 70000}, {65536, 131072, 196608, 262144, 1 << 20}, {len(data)}} {
			var got uint64
			cb := combiner{k: k}
			prev := 0
			bounds := append(append([]int{}, cuts...), len(data))
			for i, c := range bounds {
				h := k.new()
				h.Write(data[prev:c])
				if i == 0 {
					got = k.sum(h)
				} else {
					got = cb.combine(got, k.sum(h), int64(c-prev))
				}
				prev = c
			}
			if got != want {
				t.Errorf("%s cuts %v: combined %x, want %x", name, cuts, got, want)
			}
		}
	}
}

// BenchmarkCombineParts: the work after the last byte of a 1 GiB object in
// 128 parts of 8 MiB (full-object CRC64NVME).
func BenchmarkCombineParts(b *testing.B) {
	for b.Loop() {
		cb := combiner{k: kindCRC64NVME}
		var crc uint64
		for i := range 128 {
			crc = cb.combine(crc, uint64(i), 8<<20)
		}
	}
}
