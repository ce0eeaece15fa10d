package bucket

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/local/sigv4"
)

// The test server's credentials; every test client signs with them.
var testKeys = sigv4.Credentials{AccessKeyID: "AKIDLOCAL", SecretAccessKey: "secretlocal"}

const testRegion = "eu-west-1"

func sdkCredentials(k sigv4.Credentials) aws.Credentials {
	return aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey}
}

// signRequest signs req in its Authorization header as the SDKs do, with
// payloadHash as X-Amz-Content-Sha256, and returns the signature.
func signRequest(t *testing.T, req *http.Request, payloadHash string, keys sigv4.Credentials, at time.Time) string {
	t.Helper()
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), sdkCredentials(keys), req, payloadHash, "s3", testRegion, at); err != nil {
		t.Fatal(err)
	}
	_, sig, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	return sig
}

func hashHex(b string) string {
	sum := sha256.Sum256([]byte(b))
	return hex.EncodeToString(sum[:])
}

// send sends req and returns the status and the S3 error code, if any.
func send(t *testing.T, req *http.Request) (status int, code string, resp *http.Response) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e struct{ Code string }
	_ = xml.Unmarshal(body, &e)
	return resp.StatusCode, e.Code, resp
}

// signedChunks frames chunks as a signed aws-chunked body (each chunk's
// signature chained from seed, the SDK's stream signer), with trailer lines
// and their signature when trailer is not empty.
func signedChunks(t *testing.T, seed string, at time.Time, chunks []string, trailer string) string {
	t.Helper()
	prev, err := hex.DecodeString(seed)
	if err != nil {
		t.Fatal(err)
	}
	ss := v4.NewStreamSigner(sdkCredentials(testKeys), "s3", testRegion, prev)
	var b strings.Builder
	for _, c := range append(chunks, "") {
		sig, err := ss.GetSignature(context.Background(), nil, []byte(c), at)
		if err != nil {
			t.Fatal(err)
		}
		prev = sig
		fmt.Fprintf(&b, "%x;chunk-signature=%x\r\n%s", len(c), sig, c)
		if c != "" {
			b.WriteString("\r\n")
		}
	}
	if trailer != "" {
		b.WriteString(trailer + "\r\n")
		b.WriteString("x-amz-trailer-signature:" + trailerSignature(at, prev, trailer+"\n") + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// trailerSignature signs trailing headers as the S3 API reference's
// "Signature calculation: Transfer payload in multiple chunks with
// trailing headers" describes.
func trailerSignature(at time.Time, prev []byte, headers string) string {
	mac := func(key []byte, s string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return m.Sum(nil)
	}
	date := at.UTC().Format("20060102")
	toSign := "AWS4-HMAC-SHA256-TRAILER\n" + at.UTC().Format("20060102T150405Z") + "\n" + date + "/" + testRegion + "/s3/aws4_request\n" +
		hex.EncodeToString(prev) + "\n" + hashHex(headers)
	key := []byte("AWS4" + testKeys.SecretAccessKey)
	for _, p := range []string{date, testRegion, "s3", "aws4_request", toSign} {
		key = mac(key, p)
	}
	return hex.EncodeToString(key)
}

func newSigner() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

// pastPresigner presigns as of an hour ago (an expired URL).
type pastPresigner struct{ next s3.HTTPPresignerV4 }

func (p pastPresigner) PresignHTTP(ctx context.Context, credentials aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.next.PresignHTTP(ctx, credentials, r, payloadHash, service, region, time.Now().Add(-time.Hour), optFns...)
}
