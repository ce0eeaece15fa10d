package main

import (
	"bytes"
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/local/localrun"
	"github.com/edge-drop/edge-drop/local/sigv4"
)

// newClient is a plain SDK client of the embedded server, as any user's
// would be.
func newClient(endpoint string, keys sigv4.Credentials) *s3.Client {
	return s3.New(s3.Options{
		Region:       localrun.Region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(keys.AccessKeyID, keys.SecretAccessKey, ""),
	})
}

func put(ctx context.Context, c *s3.Client, bucket, key string, body []byte) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)})
	return err
}
