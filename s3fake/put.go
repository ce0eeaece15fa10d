package s3fake

import (
	"bytes"
	"net/http"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// Put stores an object in backend, creating the bucket as needed; meta may
// carry response headers such as "x-amz-checksum-crc32c". For tests and
// benchmarks that fill a server without going through HTTP.
func Put(backend gofakes3.Backend, bucket, key string, data []byte, meta map[string]string) error {
	if ok, _ := backend.BucketExists(bucket); !ok {
		if err := backend.CreateBucket(bucket); err != nil {
			return err
		}
	}
	m := map[string]string{"Last-Modified": time.Now().UTC().Truncate(time.Second).Format(http.TimeFormat)}
	for k, v := range meta {
		m[k] = v
	}
	_, err := backend.PutObject(bucket, key, m, bytes.NewReader(data), int64(len(data)), nil)
	return err
}
