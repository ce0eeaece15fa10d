// Package sigv4 checks AWS Signature Version 4 on the requests the local
// stand-ins receive (the demo's S3 and Step Functions endpoints), so that
// only a client holding the demo's secret key gets in: the AWS CLI (v1 and
// v2) and the SDKs sign every request, with an Authorization header or, for
// a presigned URL, in the query string.
//
// A signature is checked by signing the request again with aws-sdk-go-v2's
// own signer (aws/signer/v4) and comparing: a copy of the request that
// holds exactly the headers the client says it signed, its path as sent and
// its query, signed at the client's time for the client's region. The
// canonical request (path and query encoding, header folding, the string to
// sign, the key derivation) is therefore the SDK's, the code AWS maintains
// and tests against its services, not a second implementation here. What
// the SDK's signer cannot reproduce, a client that signed a header the SDK
// never signs (User-Agent, Expect, Transfer-Encoding, ...) or signed a
// Content-Length of 0, gets SignatureDoesNotMatch with a message that says
// so; the AWS CLI, the Go SDK and botocore sign neither.
//
// The body of an aws-chunked upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) is
// signed chunk by chunk; Chunks checks those signatures with the SDK's
// StreamSigner, and the one trailer signature the SDK has no signer for with
// the few lines of HMAC the specification gives.
package sigv4

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// MaxSkew is how far a request's time may be from the server's, as on
// AWS: 15 minutes either way.
const MaxSkew = 15 * time.Minute

// MaxPresignExpiry is the longest X-Amz-Expires AWS accepts: 7 days.
const MaxPresignExpiry = 7 * 24 * time.Hour

// UnsignedPayload is the payload hash of a request whose body is not signed.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

const timeFormat = "20060102T150405Z"

// Verifier checks requests signed for one service in one region with one
// key pair.
type Verifier struct {
	Credentials Credentials
	Service     string // "s3", "states"
	Region      string
	// Now is the server's clock; time.Now when nil.
	Now func() time.Time
}

// Kind says what is wrong with a request's signature.
type Kind int

const (
	Missing     Kind = iota + 1 // no signature at all
	Malformed                   // a signature that cannot be read
	Unsupported                 // another algorithm (SigV2, SigV4a)
	UnknownKey                  // an access key that is not the demo's
	WrongScope                  // signed for another region or service
	Mismatch                    // the signature is not the one the secret key gives
	Skewed                      // the request's time is over MaxSkew away
	Expired                     // a presigned URL past its X-Amz-Expires
	BadPayload                  // the body is not the one that was signed
)

// Error is a request the Verifier refuses.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }

func fail(kind Kind, format string, a ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, a...)}
}

// AsError returns err's *Error, if it is or wraps one.
func AsError(err error) (*Error, bool) {
	var e *Error
	return e, errors.As(err, &e)
}

// Signed is a request whose signature checked out.
type Signed struct {
	Presigned   bool
	Time        time.Time // the request's X-Amz-Date
	Region      string
	Signature   string // hex, the seed signature of a chunked upload
	PayloadHash string // what the signature says the body hashes to
	verifier    *Verifier
}

// Verify checks r's signature, in its Authorization header or its query
// (a presigned URL). payloadHash is the hash the signature must cover: for
// S3 the request's X-Amz-Content-Sha256 (the body is checked against it
// later, see HashedBody and Chunks), for the JSON protocols the hex SHA-256
// of the body. r is not changed.
func (v *Verifier) Verify(r *http.Request, payloadHash string) (*Signed, error) {
	auth := r.Header.Get("Authorization")
	q := r.URL.Query()
	switch {
	case auth != "" && q.Has("X-Amz-Signature"):
		return nil, fail(Malformed, "a request is signed either in the Authorization header or in the query, not both")
	case auth != "":
		return v.verifyHeader(r, auth, payloadHash)
	case q.Has("X-Amz-Signature") || q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Credential"):
		return v.verifyQuery(r, q)
	case q.Has("Signature") && q.Has("AWSAccessKeyId"):
		return nil, fail(Unsupported, "a signature version 2 URL is not accepted: presign with AWS Signature Version 4 "+
			"(aws-cli v1: aws configure set default.s3.signature_version s3v4)")
	}
	return nil, fail(Missing, "the request is not signed")
}

// scope is a parsed credential: AKID/date/region/service/aws4_request.
type scope struct{ accessKey, date, region, service string }

func (v *Verifier) parseScope(credential string, bad func(string) *Error) (scope, error) {
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" {
		return scope{}, bad(fmt.Sprintf("the credential %q is not <access key>/<date>/<region>/<service>/aws4_request", credential))
	}
	s := scope{parts[0], parts[1], parts[2], parts[3]}
	if s.accessKey != v.Credentials.AccessKeyID {
		return s, fail(UnknownKey, "the access key %q is not the one this endpoint accepts: use the credentials the demo printed", s.accessKey)
	}
	if s.service != v.Service {
		return s, fail(WrongScope, "the credential is scoped to the service %q, this endpoint is %q", s.service, v.Service)
	}
	if s.region != v.Region {
		return s, fail(WrongScope, "the region %q is wrong; expecting %q (set AWS_REGION and AWS_DEFAULT_REGION to %s)", s.region, v.Region, v.Region)
	}
	return s, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// verifyHeader checks "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=...".
func (v *Verifier) verifyHeader(r *http.Request, auth, payloadHash string) (*Signed, error) {
	bad := func(why string) *Error { return fail(Malformed, "the Authorization header is malformed: %s", why) }
	algorithm, rest, _ := strings.Cut(strings.TrimSpace(auth), " ")
	switch algorithm {
	case Algorithm:
	case "AWS4-ECDSA-P256-SHA256":
		return nil, fail(Unsupported, "SigV4a (AWS4-ECDSA-P256-SHA256) is not accepted here: sign with %s", Algorithm)
	case "AWS":
		return nil, fail(Unsupported, "signature version 2 is not accepted: sign with AWS Signature Version 4")
	default:
		return nil, bad(fmt.Sprintf("unknown algorithm %q, want %s", algorithm, Algorithm))
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, bad(fmt.Sprintf("%q is not key=value", strings.TrimSpace(part)))
		}
		fields[k] = val
	}
	credential, signedHeaders, signature := fields["Credential"], fields["SignedHeaders"], fields["Signature"]
	if credential == "" || signedHeaders == "" || signature == "" {
		return nil, bad("want Credential, SignedHeaders and Signature")
	}
	s, err := v.parseScope(credential, bad)
	if err != nil {
		return nil, err
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return nil, bad("no X-Amz-Date header (a Date header alone is not accepted)")
	}
	t, err := time.Parse(timeFormat, amzDate)
	if err != nil {
		return nil, bad(fmt.Sprintf("X-Amz-Date %q is not %s", amzDate, timeFormat))
	}
	if s.date != t.Format("20060102") {
		return nil, bad(fmt.Sprintf("the credential's date %s is not X-Amz-Date's", s.date))
	}
	if skew := v.now().Sub(t); skew > MaxSkew || skew < -MaxSkew {
		return nil, fail(Skewed, "the request time %s is %s from the server's time %s (at most %s): check the clock",
			amzDate, skew.Abs().Round(time.Second), v.now().UTC().Format(timeFormat), MaxSkew)
	}
	if payloadHash == "" {
		return nil, bad("no payload hash (S3 wants an X-Amz-Content-Sha256 header)")
	}
	sign, err := v.signable(r, signedHeaders)
	if err != nil {
		return nil, err
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = v.Service == "s3" })
	if err := signer.SignHTTP(context.Background(), v.awsCredentials(), sign, payloadHash, v.Service, v.Region, t); err != nil {
		return nil, fail(Mismatch, "cannot sign the request again: %v", err)
	}
	_, want, _ := strings.Cut(sign.Header.Get("Authorization"), "Signature=")
	if err := v.compare(signedHeaders, headerList(sign.Header.Get("Authorization")), signature, want); err != nil {
		return nil, err
	}
	return &Signed{Time: t, Region: s.region, Signature: signature, PayloadHash: payloadHash, verifier: v}, nil
}

// verifyQuery checks a presigned URL: X-Amz-Algorithm, -Credential, -Date,
// -Expires, -SignedHeaders and -Signature in the query.
func (v *Verifier) verifyQuery(r *http.Request, q url.Values) (*Signed, error) {
	bad := func(why string) *Error { return fail(Malformed, "the presigned URL's query is malformed: %s", why) }
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if len(q[k]) != 1 || q.Get(k) == "" {
			return nil, bad("want one " + k)
		}
	}
	if a := q.Get("X-Amz-Algorithm"); a != Algorithm {
		return nil, fail(Unsupported, "X-Amz-Algorithm %q is not accepted: sign with %s", a, Algorithm)
	}
	s, err := v.parseScope(q.Get("X-Amz-Credential"), bad)
	if err != nil {
		return nil, err
	}
	t, err := time.Parse(timeFormat, q.Get("X-Amz-Date"))
	if err != nil || s.date != t.Format("20060102") {
		return nil, bad(fmt.Sprintf("X-Amz-Date %q is not %s of the credential's date", q.Get("X-Amz-Date"), timeFormat))
	}
	secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > MaxPresignExpiry {
		return nil, bad(fmt.Sprintf("X-Amz-Expires %q must be 1 to %d seconds", q.Get("X-Amz-Expires"), int(MaxPresignExpiry/time.Second)))
	}
	now := v.now()
	if t.Sub(now) > MaxSkew {
		return nil, fail(Skewed, "the presigned URL is dated %s, over %s after the server's time %s: check the clock",
			q.Get("X-Amz-Date"), MaxSkew, now.UTC().Format(timeFormat))
	}
	if expiry := t.Add(time.Duration(secs) * time.Second); now.After(expiry) {
		return nil, fail(Expired, "the presigned URL expired at %s", expiry.UTC().Format(time.RFC3339))
	}
	payloadHash := UnsignedPayload
	if h := q.Get("X-Amz-Content-Sha256"); h != "" {
		payloadHash = h
	}
	sign, err := v.signable(r, q.Get("X-Amz-SignedHeaders"))
	if err != nil {
		return nil, err
	}
	unsigned := sign.URL.Query()
	unsigned.Del("X-Amz-Signature") // PresignHTTP adds the other X-Amz-* parameters itself
	sign.URL.RawQuery = unsigned.Encode()
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = v.Service == "s3"
		o.DisableHeaderHoisting = true // the headers it signed stay headers
	})
	signedURL, _, err := signer.PresignHTTP(context.Background(), v.awsCredentials(), sign, payloadHash, v.Service, v.Region, t)
	if err != nil {
		return nil, fail(Mismatch, "cannot sign the request again: %v", err)
	}
	u, err := url.Parse(signedURL)
	if err != nil {
		return nil, fail(Mismatch, "cannot sign the request again: %v", err)
	}
	want := u.Query()
	if err := v.compare(q.Get("X-Amz-SignedHeaders"), want.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature"), want.Get("X-Amz-Signature")); err != nil {
		return nil, err
	}
	return &Signed{Presigned: true, Time: t, Region: s.region, Signature: q.Get("X-Amz-Signature"), PayloadHash: payloadHash, verifier: v}, nil
}

// signable copies r for the SDK's signer: the path as the client sent it,
// the query, and only the headers the client says it signed.
func (v *Verifier) signable(r *http.Request, signedHeaders string) (*http.Request, error) {
	names := strings.Split(signedHeaders, ";")
	if !slices.Contains(names, "host") {
		return nil, fail(Malformed, "the signed headers %q do not include host", signedHeaders)
	}
	rawPath := r.URL.EscapedPath()
	if p, _, _ := strings.Cut(r.RequestURI, "?"); strings.HasPrefix(p, "/") {
		rawPath = p // exactly as sent: S3's canonical URI is the path as the client encoded it
	}
	sign := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Scheme: "http", Host: r.Host, Opaque: "//" + r.Host + rawPath, RawQuery: r.URL.RawQuery},
		Host:   r.Host,
		Header: http.Header{},
	}
	for _, name := range names {
		switch name {
		case "host":
		case "content-length":
			n, err := strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64)
			if err != nil {
				n = r.ContentLength
			}
			sign.ContentLength = n
		default:
			if values := r.Header.Values(name); len(values) > 0 {
				sign.Header[http.CanonicalHeaderKey(name)] = values
			}
		}
	}
	return sign.WithContext(context.Background()), nil
}

// compare checks the client's signature against the one the SDK made; when
// the SDK signed another set of headers it cannot have made the client's.
func (v *Verifier) compare(clientHeaders, sdkHeaders, clientSig, sdkSig string) error {
	if clientHeaders != sdkHeaders {
		return fail(Mismatch, "the request signature we calculated does not match the signature you provided: "+
			"the headers signed, %q, are not the ones this endpoint can check (%q): sign Content-Length only when it is not 0, "+
			"and not User-Agent, Expect, Transfer-Encoding or X-Amzn-Trace-Id", clientHeaders, sdkHeaders)
	}
	if !hmac.Equal([]byte(strings.ToLower(clientSig)), []byte(sdkSig)) {
		return fail(Mismatch, "the request signature we calculated does not match the signature you provided: check the secret key (the demo prints it) and the signing method")
	}
	return nil
}

// headerList is SignedHeaders=... of an Authorization header.
func headerList(auth string) string {
	_, rest, _ := strings.Cut(auth, "SignedHeaders=")
	list, _, _ := strings.Cut(rest, ",")
	return list
}

func (v *Verifier) awsCredentials() aws.Credentials {
	return aws.Credentials{AccessKeyID: v.Credentials.AccessKeyID, SecretAccessKey: v.Credentials.SecretAccessKey}
}
