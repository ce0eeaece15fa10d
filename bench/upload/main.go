// Command upload puts the benchmark objects on an S3 server the way real
// uploaders do, with the plain SDK (no transfer manager). Not part of the
// product.
//
//	upload KIND BUCKET KEY FILE   (endpoint from AWS_ENDPOINT_URL_S3, path-style)
//
// KIND:
//
//	composite  multipart, 8 MiB parts, CRC32 per part: COMPOSITE CRC32 "-N"
//	           and a multipart ETag (what `aws s3 cp` of current CLIs sends)
//	single     one PutObject, no checksum: MD5 ETag (servers may add a
//	           full-object CRC64NVME, as S3 does)
//	full       multipart, 8 MiB parts, FULL_OBJECT CRC64NVME
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc64"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const partSize = 8 << 20

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: upload composite|single|full BUCKET KEY FILE")
		os.Exit(2)
	}
	if err := run(context.Background(), os.Args[1], os.Args[2], os.Args[3], os.Args[4]); err != nil {
		fmt.Fprintln(os.Stderr, "upload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kind, bucket, key, file string) error {
	// No checksum unless the kind asks for one: "single" must carry only
	// its MD5 ETag (whatever the server adds on its own).
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired))
	if err != nil {
		return err
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	switch kind {
	case "single":
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: f, ContentLength: aws.Int64(fi.Size())})
		return err
	case "composite":
		return multipart(ctx, c, bucket, key, f, types.ChecksumAlgorithmCrc32, types.ChecksumTypeComposite)
	case "full":
		return multipart(ctx, c, bucket, key, f, types.ChecksumAlgorithmCrc64nvme, types.ChecksumTypeFullObject)
	}
	return fmt.Errorf("unknown kind %q", kind)
}

func multipart(ctx context.Context, c *s3.Client, bucket, key string, f io.Reader, algo types.ChecksumAlgorithm, typ types.ChecksumType) error {
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key, ChecksumAlgorithm: algo, ChecksumType: typ})
	if err != nil {
		return err
	}
	whole := crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5))
	var parts []types.CompletedPart
	buf := make([]byte, partSize)
	for n := int32(1); ; n++ {
		m, rerr := io.ReadFull(f, buf)
		if m == 0 && n > 1 {
			break
		}
		whole.Write(buf[:m])
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(n),
			Body: bytes.NewReader(buf[:m]), ContentLength: aws.Int64(int64(m)), ChecksumAlgorithm: algo})
		if err != nil {
			return err
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag,
			ChecksumCRC32: out.ChecksumCRC32, ChecksumCRC64NVME: out.ChecksumCRC64NVME})
		if rerr != nil { // EOF or short last part
			break
		}
	}
	in := &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, ChecksumType: typ}
	if typ == types.ChecksumTypeFullObject {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], whole.Sum64())
		in.ChecksumCRC64NVME = aws.String(base64.StdEncoding.EncodeToString(b[:]))
	}
	_, err = c.CompleteMultipartUpload(ctx, in)
	return err
}
