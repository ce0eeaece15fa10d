package bucket

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/local/sigv4"
)

// Only requests signed with the server's credentials get in: unsigned or
// wrongly signed ones get S3's 403 and change nothing.
func TestUnsignedAndWronglySignedRequestsAreRefused(t *testing.T) {
	s := start(t, Options{Dir: t.TempDir()})
	c := client(t, s)
	put(t, c, "uploads", "kept.txt", []byte("original"))
	next(t, s)
	object := s.URL() + "/uploads/kept.txt"

	for _, tc := range []struct {
		name, method, url string
		body              string
		sign              func(*http.Request)
		status            int
		code              string
	}{
		{"unsigned PUT", "PUT", object, "evil", nil, 403, "AccessDenied"},
		{"unsigned DELETE", "DELETE", object, "", nil, 403, "AccessDenied"},
		{"unsigned GET", "GET", object, "", nil, 403, "AccessDenied"},
		{"unsigned list", "GET", s.URL() + "/uploads?list-type=2", "", nil, 403, "AccessDenied"},
		{"unsigned DeleteObjects", "POST", s.URL() + "/uploads?delete", "<Delete><Object><Key>kept.txt</Key></Object></Delete>", nil, 403, "AccessDenied"},
		{"another secret", "PUT", object, "evil", func(r *http.Request) {
			signRequest(t, r, hashHex("evil"), sigv4.Credentials{AccessKeyID: testKeys.AccessKeyID, SecretAccessKey: "guess"}, time.Now())
		}, 403, "SignatureDoesNotMatch"},
		{"another access key", "DELETE", object, "", func(r *http.Request) {
			signRequest(t, r, hashHex(""), sigv4.Credentials{AccessKeyID: "AKIDOTHER", SecretAccessKey: "secretlocal"}, time.Now())
		}, 403, "InvalidAccessKeyId"},
		{"signed 20 minutes ago", "PUT", object, "evil", func(r *http.Request) {
			signRequest(t, r, hashHex("evil"), testKeys, time.Now().Add(-20*time.Minute))
		}, 403, "RequestTimeTooSkewed"},
		{"signed, then the path changed", "DELETE", object, "", func(r *http.Request) {
			signRequest(t, r, hashHex(""), testKeys, time.Now())
			r.URL.Path = "/uploads/other.txt"
		}, 403, "SignatureDoesNotMatch"},
		{"a body other than the one signed", "PUT", object, "evil", func(r *http.Request) {
			signRequest(t, r, hashHex("good"), testKeys, time.Now())
		}, 400, "XAmzContentSHA256Mismatch"},
		{"DeleteObjects with a body other than the one signed", "POST", s.URL() + "/uploads?delete", "<Delete><Object><Key>kept.txt</Key></Object></Delete>", func(r *http.Request) {
			signRequest(t, r, hashHex("<Delete/>"), testKeys, time.Now())
		}, 400, "XAmzContentSHA256Mismatch"},
		{"signed for another region", "GET", object, "", func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", hashHex(""))
			signer := newSigner()
			_ = signer.SignHTTP(context.Background(), sdkCredentials(testKeys), r, hashHex(""), "s3", "us-east-1", time.Now())
		}, 400, "AuthorizationHeaderMalformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body *strings.Reader
			req, _ := http.NewRequest(tc.method, tc.url, nil)
			if tc.body != "" {
				body = strings.NewReader(tc.body)
				req, _ = http.NewRequest(tc.method, tc.url, body)
			}
			if tc.sign != nil {
				tc.sign(req)
			}
			status, code, resp := send(t, req)
			if status != tc.status || code != tc.code {
				t.Errorf("got %d %q, want %d %q", status, code, tc.status, tc.code)
			}
			if ct := resp.Header.Get("Content-Type"); tc.method != "HEAD" && ct != "application/xml" {
				t.Errorf("Content-Type %q, want S3's XML error", ct)
			}
			if got := getBody(t, c, "kept.txt"); got != "original" {
				t.Fatalf("the object became %q", got)
			}
		})
	}
	expectNone(t, s)

	// The SDK with the wrong secret hears it in S3's words.
	wrong := s3.New(s3.Options{Region: testRegion, BaseEndpoint: aws.String(s.URL()), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(testKeys.AccessKeyID, "guess", "")})
	_, err := wrong.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("kept.txt"), Body: bytes.NewReader([]byte("evil"))})
	var ae interface{ ErrorCode() string } // smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "SignatureDoesNotMatch" {
		t.Errorf("SDK with a wrong secret: %v", err)
	}
	expectNone(t, s)
}

// Presigned URLs (the SDK's presign client) work until they expire.
func TestPresignedURLs(t *testing.T) {
	s := start(t, Options{})
	c := client(t, s)
	pc := s3.NewPresignClient(c)
	ctx := context.Background()
	up, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("pre signed.txt")})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(up.Method, up.URL, strings.NewReader("by URL"))
	if status, code, _ := send(t, req); status != 200 {
		t.Fatalf("presigned PUT: %d %s", status, code)
	}
	if ev := next(t, s); ev.Key != "pre signed.txt" || ev.Size != 6 {
		t.Fatalf("event %+v", ev)
	}
	get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("pre signed.txt")})
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("GET", get.URL, nil)
	if status, _, _ := send(t, req); status != 200 {
		t.Fatalf("presigned GET: %d", status)
	}
	req, _ = http.NewRequest("GET", strings.Replace(get.URL, "pre%20signed", "other", 1), nil)
	if status, code, _ := send(t, req); status != 403 || code != "SignatureDoesNotMatch" {
		t.Errorf("a presigned URL for another key: %d %s", status, code)
	}
	old, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("pre signed.txt")},
		s3.WithPresignExpires(time.Second), func(o *s3.PresignOptions) {
			o.Presigner = pastPresigner{o.Presigner}
		})
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("GET", old.URL, nil)
	if status, code, _ := send(t, req); status != 403 || code != "AccessDenied" {
		t.Errorf("an expired presigned URL: %d %s", status, code)
	}
}

// CORS: none unless an origin is configured, and then that origin only.
func TestCORSOnlyForTheConfiguredOrigin(t *testing.T) {
	preflight := func(url, origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", url, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "PUT")
		req.Header.Set("Access-Control-Request-Headers", "authorization,x-amz-date")
		_, _, resp := send(t, req)
		return resp
	}
	signedGet := func(url, origin string) *http.Response {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Origin", origin)
		signRequest(t, req, hashHex(""), testKeys, time.Now())
		_, _, resp := send(t, req)
		return resp
	}
	none := start(t, Options{})
	for _, origin := range []string{"http://evil.example", "http://localhost:3000", "null"} {
		resp := preflight(none.URL()+"/uploads/k", origin)
		if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("preflight from %s: %d %v", origin, resp.StatusCode, resp.Header)
		}
		if resp := signedGet(none.URL()+"/uploads?list-type=2", origin); resp.StatusCode != 200 || hasCORS(resp) {
			t.Errorf("GET from %s: %d %v", origin, resp.StatusCode, resp.Header)
		}
	}

	one := start(t, Options{CORSOrigin: "http://localhost:3000"})
	resp := preflight(one.URL()+"/uploads/k", "http://localhost:3000")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") || resp.Header.Get("Access-Control-Allow-Headers") != "authorization,x-amz-date" {
		t.Errorf("preflight from the configured origin: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := preflight(one.URL()+"/uploads/k", "http://evil.example"); resp.StatusCode != 403 || hasCORS(resp) {
		t.Errorf("preflight from another origin: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := signedGet(one.URL()+"/uploads?list-type=2", "http://localhost:3000"); resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Errorf("GET from the configured origin: %v", resp.Header)
	}
	if resp := signedGet(one.URL()+"/uploads?list-type=2", "http://evil.example"); hasCORS(resp) || !strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Errorf("GET from another origin: %v", resp.Header)
	}
}

func hasCORS(resp *http.Response) bool {
	for k := range resp.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			return true
		}
	}
	return false
}
