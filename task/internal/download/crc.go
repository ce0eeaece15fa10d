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

// combine returns the CRC of A||B from crc(A), crc(B) and len(B), by
// applying len(B) zero bytes to crc(A) with GF(2) matrix squaring (the
// method of zlib's crc32_combine).
func (k *crcKind) combine(crcA, crcB uint64, lenB int64) uint64 {
	if lenB <= 0 {
		return crcA
	}
	even := make([]uint64, k.width) // operator for 2^n zero bits
	odd := make([]uint64, k.width)
	odd[0] = k.poly // operator for one zero bit
	row := uint64(1)
	for n := 1; n < k.width; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(even, odd) // two zero bits
	gf2Square(odd, even) // four zero bits
	for {
		gf2Square(even, odd) // first pass: one zero byte
		if lenB&1 != 0 {
			crcA = gf2Times(even, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
		gf2Square(odd, even)
		if lenB&1 != 0 {
			crcA = gf2Times(odd, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
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
