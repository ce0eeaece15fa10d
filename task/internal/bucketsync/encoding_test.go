package bucketsync_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/edge-drop/edge-drop/task/internal/bucketsync"
	"github.com/edge-drop/edge-drop/task/internal/record"
)

// urlListing answers ListObjectsV2 as S3 does with EncodingType=url; it
// serves no object (a request for one fails the test).
type urlListing struct {
	t    *testing.T
	keys []string
}

func (l urlListing) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if in.EncodingType != types.EncodingTypeUrl {
		l.t.Errorf("listing without EncodingType=url")
	}
	out := &s3.ListObjectsV2Output{EncodingType: types.EncodingTypeUrl, IsTruncated: aws.Bool(false)}
	for _, k := range l.keys {
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), ETag: aws.String(`"e"`), Size: aws.Int64(2)})
	}
	return out, nil
}

func (l urlListing) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	l.t.Error("unexpected HEAD")
	return nil, errors.New("unexpected")
}

func (l urlListing) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	l.t.Error("unexpected GET")
	return nil, errors.New("unexpected")
}

// Keys listed URL-encoded are decoded before anything else: "a+b.txt" is
// the key "a b.txt" (up to date here), a key with U+0001 (which XML 1.0
// cannot carry raw) is skipped as unsafe, a broken escape too.
func TestSyncDecodesURLEncodedListing(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := os.WriteFile(filepath.Join(dir, "a b.txt"), []byte("ab"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(dir, "a b.txt"))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := record.IdentityOf(fi)
	if err := record.New(root).Write(record.Record{Key: "a b.txt", Bucket: bucket, ETag: `"e"`, Size: 2, File: &id}); err != nil {
		t.Fatal(err)
	}
	sum, err := bucketsync.Run(context.Background(), urlListing{t, []string{"a+b.txt", "ctl%01.txt", "bad%zz.txt"}},
		bucketsync.Options{Bucket: bucket, DataDir: dir, Objects: 1})
	if err != nil || sum.UpToDate != 1 || sum.Skipped != 2 || sum.Unsafe != 2 || sum.Listed != 3 {
		t.Fatalf("%+v, %v", sum, err)
	}
}
