package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The examples of AWS's "Signature Calculations for the Authorization
// Header" and "Authenticating Requests: Using Query Parameters" pages (S3
// API reference): their signatures are AWS's, so passing them means the
// verifier agrees with S3, not merely with itself.
var exampleKeys = Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

var exampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func exampleVerifier(now time.Time) *Verifier {
	return &Verifier{Credentials: exampleKeys, Service: "s3", Region: "us-east-1", Now: func() time.Time { return now }}
}

func auth(signedHeaders, signature string) string {
	return "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=" +
		signedHeaders + ",Signature=" + signature
}

// serverRequest is target as a server receives it (RequestURI as sent).
func serverRequest(method, host, target string, headers map[string]string, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Host = host
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return r
}

type example struct {
	name, method, host, target string
	headers                    map[string]string
	payloadHash                string
}

func awsExamples() []example {
	date := map[string]string{"X-Amz-Date": "20130524T000000Z", "X-Amz-Content-Sha256": emptySHA256}
	with := func(extra map[string]string) map[string]string {
		h := map[string]string{}
		for k, v := range date {
			h[k] = v
		}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	put := "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072" // "Welcome to Amazon S3."
	return []example{
		{"GET object", "GET", "examplebucket.s3.amazonaws.com", "/test.txt",
			with(map[string]string{"Range": "bytes=0-9", "Authorization": auth("host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")}),
			emptySHA256},
		{"PUT object, a key encoded once, Date signed too", "PUT", "examplebucket.s3.amazonaws.com", "/test%24file.text",
			with(map[string]string{"Date": "Fri, 24 May 2013 00:00:00 GMT", "X-Amz-Storage-Class": "REDUCED_REDUNDANCY", "X-Amz-Content-Sha256": put,
				"Authorization": auth("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")}),
			put},
		{"GET bucket lifecycle, a parameter without a value", "GET", "examplebucket.s3.amazonaws.com", "/?lifecycle",
			with(map[string]string{"Authorization": auth("host;x-amz-content-sha256;x-amz-date", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")}),
			emptySHA256},
		{"list objects, parameters sorted", "GET", "examplebucket.s3.amazonaws.com", "/?max-keys=2&prefix=J",
			with(map[string]string{"Authorization": auth("host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")}),
			emptySHA256},
		{"presigned GET", "GET", "examplebucket.s3.amazonaws.com",
			"/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
				"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
			nil, ""},
	}
}

func TestAWSExamplesVerify(t *testing.T) {
	for _, ex := range awsExamples() {
		t.Run(ex.name, func(t *testing.T) {
			r := serverRequest(ex.method, ex.host, ex.target, ex.headers, "")
			s, err := exampleVerifier(exampleTime.Add(time.Minute)).Verify(r, ex.payloadHash)
			if err != nil {
				t.Fatalf("AWS's own example is refused: %v", err)
			}
			if s.Presigned != strings.Contains(ex.target, "X-Amz-Signature") || !s.Time.Equal(exampleTime) || s.Region != "us-east-1" {
				t.Errorf("signed = %+v", s)
			}
		})
	}
}

// Every part of a request is covered: change one and the signature no
// longer matches; another key, region, time or algorithm is refused as such.
func TestAWSExamplesTamperedAreRefused(t *testing.T) {
	ok := exampleTime.Add(time.Minute)
	for _, ex := range awsExamples() {
		presigned := ex.headers == nil
		for _, tc := range []struct {
			name   string
			change func(r *http.Request)
			now    time.Time
			want   Kind
		}{
			{"another method", func(r *http.Request) { r.Method = "DELETE" }, ok, Mismatch},
			{"another path", func(r *http.Request) { r.RequestURI = strings.Replace(r.RequestURI, "/", "/x", 1) }, ok, Mismatch},
			{"another host", func(r *http.Request) { r.Host = "evil.example" }, ok, Mismatch},
			{"a query parameter added", func(r *http.Request) { r.URL.RawQuery += "&versionId=1"; r.RequestURI += "&versionId=1" }, ok, Mismatch},
			{"the signature changed", func(r *http.Request) {
				if presigned {
					r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "Signature=a", "Signature=b", 1)
				} else {
					r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Signature=", "Signature=0", 1)[:len(r.Header.Get("Authorization"))])
				}
			}, ok, Mismatch},
			{"another access key", func(r *http.Request) {
				if presigned {
					r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "AKIAIOSFODNN7EXAMPLE", "AKIAOTHER", 1)
				} else {
					r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AKIAIOSFODNN7EXAMPLE", "AKIAOTHER", 1))
				}
			}, ok, UnknownKey},
			{"another region", func(r *http.Request) {
				if presigned {
					r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "us-east-1", "eu-west-1", 1)
				} else {
					r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "us-east-1", "eu-west-1", 1))
				}
			}, ok, WrongScope},
			{"the clock 16 minutes behind", func(*http.Request) {}, exampleTime.Add(-16 * time.Minute), Skewed},
		} {
			t.Run(ex.name+"/"+tc.name, func(t *testing.T) {
				r := serverRequest(ex.method, ex.host, ex.target, ex.headers, "")
				tc.change(r)
				_, err := exampleVerifier(tc.now).Verify(r, ex.payloadHash)
				if e, ok := AsError(err); !ok || e.Kind != tc.want {
					t.Errorf("want kind %d, got %v", tc.want, err)
				}
			})
		}
	}
	// A header request 16 minutes late is skewed; a presigned one valid for a
	// day is not, and expired after the day.
	if _, err := exampleVerifier(exampleTime.Add(16*time.Minute)).Verify(serverRequest("GET", awsExamples()[0].host, "/test.txt", awsExamples()[0].headers, ""), emptySHA256); !isKind(err, Skewed) {
		t.Errorf("16 minutes late: %v", err)
	}
	pre := awsExamples()[4]
	if _, err := exampleVerifier(exampleTime.Add(23*time.Hour)).Verify(serverRequest("GET", pre.host, pre.target, nil, ""), ""); err != nil {
		t.Errorf("a presigned URL within its 24 hours: %v", err)
	}
	if _, err := exampleVerifier(exampleTime.Add(24*time.Hour+time.Second)).Verify(serverRequest("GET", pre.host, pre.target, nil, ""), ""); !isKind(err, Expired) {
		t.Errorf("a presigned URL after its 24 hours: %v", err)
	}
}

func isKind(err error, k Kind) bool {
	e, ok := AsError(err)
	return ok && e.Kind == k
}

func TestUnsignedAndOtherAlgorithmsAreRefused(t *testing.T) {
	v := exampleVerifier(exampleTime)
	for _, tc := range []struct {
		name          string
		target, authz string
		want          Kind
	}{
		{"no signature", "/b/k", "", Missing},
		{"SigV2 header", "/b/k", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", Unsupported},
		{"SigV2 query", "/b/k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1&Signature=x", "", Unsupported},
		{"SigV4a", "/b/k", "AWS4-ECDSA-P256-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/s3/aws4_request, SignedHeaders=host, Signature=00", Unsupported},
		{"garbage", "/b/k", "AWS4-HMAC-SHA256 nonsense", Malformed},
		{"no signed host", "/b/k", auth("x-amz-date", "00"), Malformed},
		{"short credential", "/b/k", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524, SignedHeaders=host, Signature=00", Malformed},
		{"header and query", "/b/k?X-Amz-Signature=00", auth("host", "00"), Malformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := serverRequest("GET", "h", tc.target, map[string]string{"X-Amz-Date": "20130524T000000Z"}, "")
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
			}
			_, err := v.Verify(r, emptySHA256)
			if !isKind(err, tc.want) {
				t.Errorf("want kind %d, got %v", tc.want, err)
			}
		})
	}
}

// Requests signed by the SDK and sent over a real connection: what the
// server receives (the path and query as encoded on the wire) verifies,
// for keys and parameters that need encoding.
func TestSDKSignedRequestsVerifyOverTheWire(t *testing.T) {
	keys := NewCredentials()
	v := &Verifier{Credentials: keys, Service: "s3", Region: "eu-west-1"}
	var got error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, got = v.Verify(r, r.Header.Get("X-Amz-Content-Sha256"))
	}))
	defer srv.Close()
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: keys.AccessKeyID, SecretAccessKey: keys.SecretAccessKey}
	for _, path := range []string{"/b/plain.txt", "/b/q3%20report%20%281%29.csv", "/b/caf%C3%A9/%2Bplus%3D.txt", "/b/a~b_c-d.e"} {
		for _, query := range []string{"", "list-type=2&prefix=a%2Fb%20c&delimiter=%2F", "uploads", "partNumber=1&uploadId=x%2By"} {
			body := []byte("some bytes")
			sum := sha256.Sum256(body)
			req, _ := http.NewRequest("PUT", srv.URL+path+"?"+query, bytes.NewReader(body))
			req.URL.RawPath = path // send the path exactly so
			req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
			req.Header.Set("Content-Type", "text/plain")
			if err := signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "s3", "eu-west-1", time.Now()); err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got != nil {
				t.Errorf("%s?%s: %v", path, query, got)
			}
			// Presigned, the same.
			pre, _ := http.NewRequest("GET", srv.URL+path+"?"+query, nil)
			pre.URL.RawPath = path
			q := pre.URL.Query()
			q.Set("X-Amz-Expires", "60")
			pre.URL.RawQuery = q.Encode()
			u, _, err := signer.PresignHTTP(context.Background(), creds, pre, UnsignedPayload, "s3", "eu-west-1", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			resp, err = http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got != nil {
				t.Errorf("presigned %s: %v", u, got)
			}
		}
	}
}

// The AWS example of a signed streaming upload: 66560 bytes of "a" in
// chunks of 65536, 1024 and 0, each signature chained on the one before.
func TestAWSChunkedExample(t *testing.T) {
	r := serverRequest("PUT", "s3.amazonaws.com", "/examplebucket/chunkObject.txt", map[string]string{
		"X-Amz-Date": "20130524T000000Z", "X-Amz-Storage-Class": "REDUCED_REDUNDANCY",
		"X-Amz-Content-Sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding": "aws-chunked",
		"X-Amz-Decoded-Content-Length": "66560", "Content-Length": "66824",
		"Authorization": auth("content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
			"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
	}, "")
	s, err := exampleVerifier(exampleTime).Verify(r, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	chunks := []struct {
		size int
		sig  string
	}{
		{65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"},
		{1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"},
		{0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"},
	}
	c, err := s.Chunks()
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chunks {
		if err := c.Next(bytes.Repeat([]byte("a"), ch.size), ch.sig); err != nil {
			t.Fatalf("chunk of %d: %v", ch.size, err)
		}
	}
	// The trailer of aws-c-auth's (Swift CRT) test of the same upload.
	if err := c.Trailer([]byte("first:1st\nsecond:2nd\nthird:3rd\n"), "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c"); err != nil {
		t.Errorf("trailer: %v", err)
	}
	if err := c.Trailer([]byte("first:1st\nsecond:2nd\nthird:4th\n"), "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c"); !isKind(err, Mismatch) {
		t.Errorf("a changed trailer: %v", err)
	}

	// One changed byte, or the chunks out of order, and the chain breaks.
	c, _ = s.Chunks()
	data := bytes.Repeat([]byte("a"), 65536)
	data[100] = 'b'
	if err := c.Next(data, chunks[0].sig); !isKind(err, Mismatch) {
		t.Errorf("a changed chunk: %v", err)
	}
	c, _ = s.Chunks()
	if err := c.Next(bytes.Repeat([]byte("a"), 1024), chunks[1].sig); !isKind(err, Mismatch) {
		t.Errorf("the second chunk first: %v", err)
	}
}

func TestHashedBody(t *testing.T) {
	sum := sha256.Sum256([]byte("signed"))
	for body, want := range map[string]bool{"signed": true, "changed": false, "": false} {
		b := HashedBody(io.NopCloser(strings.NewReader(body)), strings.ToUpper(hex.EncodeToString(sum[:])))
		got, err := io.ReadAll(b)
		if want && (err != nil || string(got) != body) {
			t.Errorf("%q: %v", body, err)
		}
		if !want && !isKind(err, BadPayload) {
			t.Errorf("%q: want BadPayload, got %v", body, err)
		}
	}
}

func TestNewCredentialsAreUnguessable(t *testing.T) {
	a, b := NewCredentials(), NewCredentials()
	if a == b || !a.Valid() || len(a.AccessKeyID) != 20 || len(a.SecretAccessKey) != 40 || !strings.HasPrefix(a.AccessKeyID, "EDGEDROP") {
		t.Errorf("%+v %+v", a, b)
	}
	if _, err := url.Parse("http://x/?k=" + a.SecretAccessKey); err != nil {
		t.Error(err)
	}
}
