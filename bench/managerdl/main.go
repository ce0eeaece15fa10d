// Command managerdl is the benchmark baseline: a plain, untuned
// feature/s3/manager Downloader (SDK defaults: 5 MiB parts, concurrency 5)
// writing to a file. Not part of the product.
//
//	managerdl BUCKET KEY FILE   (endpoint from AWS_ENDPOINT_URL_S3, path-style)
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: managerdl BUCKET KEY FILE")
		os.Exit(2)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	f, err := os.Create(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	n, err := manager.NewDownloader(client).Download(ctx, f, &s3.GetObjectInput{
		Bucket: aws.String(os.Args[1]), Key: aws.String(os.Args[2]),
	})
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(n)
}
