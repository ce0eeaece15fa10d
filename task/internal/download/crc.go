package download

import (
	"encoding/base64"
	"encoding/binary"
	"hash"
	"hash/crc32"

	"github.com/minio/crc64nvme"
)

// crcKind describes a reflected CRC with init = xorout = all ones (CRC-32,
// CRC-32C, CRC-64/NVME): such CRCs of consecutive pieces can be combined
// without the data, so parts are checksummed inline by the workers, in
// parallel and without reading the file back.
type crcKind struct {
	width int    // 32 or 64
	poly  uint64 // reflected polynomial
	new   func() hash.Hash
	sum   func(hash.Hash) uint64
}

var (
	kindCRC32  = &crcKind{32, 0xedb88320, func() hash.Hash { return crc32.NewIEEE() }, sum32}
	kindCRC32C = &crcKind{32, 0x82f63b78, func() hash.Hash { return crc32.New(castagnoli) }, sum32}
	// minio/crc64nvme folds with carry-less multiplication (PCLMULQDQ/AVX-512
	// on amd64, PMULL+SHA3 on ARMv8.2+), tens of GB/s; elsewhere (e.g. the
	// Cortex-A53) it falls back to tables like hash/crc64.
	kindCRC64NVME = &crcKind{64, crc64NVME, func() hash.Hash { return crc64nvme.New() }, sum64}
)

func sum32(h hash.Hash) uint64 { return uint64(h.(hash.Hash32).Sum32()) }
func sum64(h hash.Hash) uint64 { return h.(hash.Hash64).Sum64() }

// encode renders a CRC value as S3 does: base64 of the big-endian bytes.
func (k *crcKind) encode(v uint64) string {
	if k.width == 32 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(v))
		return base64.StdEncoding.EncodeToString(b[:])
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return base64.StdEncoding.EncodeToString(b[:])
}

// decode reads a CRC digest (big-endian bytes, as hash.Hash.Sum gives it).
func (k *crcKind) decode(b []byte) uint64 {
	if k.width == 32 {
		return uint64(binary.BigEndian.Uint32(b))
	}
	return binary.BigEndian.Uint64(b)
}

// combiner returns the CRC of A||B from crc(A), crc(B) and len(B), for
// many parts in a row, building the operator for each distinct part
// length once: most uploads have one or two part sizes, and
// each operator costs ~45 GF(2) matrix products (about 0.2 ms for
// CRC64), which over a 128-part object was 27 ms after the last byte.
type combiner struct {
	k   *crcKind
	ops map[int64][]uint64
}

func (c *combiner) combine(crcA, crcB uint64, lenB int64) uint64 {
	if lenB <= 0 {
		return crcA
	}
	op, ok := c.ops[lenB]
	if !ok {
		if c.ops == nil {
			c.ops = map[int64][]uint64{}
		}
		op = c.k.zeros(lenB)
		c.ops[lenB] = op
	}
	return gf2Times(op, crcA) ^ crcB
}

// zeros returns the operator (a GF(2) matrix, applied with gf2Times) that
// feeds n zero bytes through the CRC register, built by matrix squaring
// as in zlib's crc32_combine; crc(A||B) = zeros(len B)·crc(A) ^ crc(B).
func (k *crcKind) zeros(n int64) []uint64 {
	op := make([]uint64, k.width) // identity
	for i := range op {
		op[i] = 1 << i
	}
	even := make([]uint64, k.width) // operator for 2^n zero bits
	odd := make([]uint64, k.width)
	tmp := make([]uint64, k.width)
	odd[0] = k.poly // operator for one zero bit
	row := uint64(1)
	for i := 1; i < k.width; i++ {
		odd[i] = row
		row <<= 1
	}
	gf2Square(even, odd)        // two zero bits
	gf2Square(odd, even)        // four zero bits
	apply := func(m []uint64) { // op = m·op (powers of one matrix commute)
		for i := range op {
			tmp[i] = gf2Times(m, op[i])
		}
		op, tmp = tmp, op
	}
	for {
		gf2Square(even, odd) // first pass: one zero byte
		if n&1 != 0 {
			apply(even)
		}
		n >>= 1
		if n == 0 {
			break
		}
		gf2Square(odd, even)
		if n&1 != 0 {
			apply(odd)
		}
		n >>= 1
		if n == 0 {
			break
		}
	}
	return op
}

func gf2Times(mat []uint64, vec uint64) uint64 {
	var sum uint64
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat []uint64) {
	for n := range mat {
		square[n] = gf2Times(mat, mat[n])
	}
}
