package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// HashedBody returns body checked against the hex SHA-256 its signature
// covers (X-Amz-Content-Sha256): the Read that reaches the end returns a
// BadPayload *Error instead of io.EOF when the bytes read hash otherwise,
// so that the request fails rather than stores what was not signed.
func HashedBody(body io.ReadCloser, wantHex string) io.ReadCloser {
	return &hashedBody{ReadCloser: body, want: strings.ToLower(wantHex), h: sha256.New()}
}

type hashedBody struct {
	io.ReadCloser
	want string
	h    hash.Hash
	err  error
}

func (b *hashedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.ReadCloser.Read(p)
	b.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(b.h.Sum(nil)); got != b.want {
			err = fail(BadPayload, "the body's SHA-256 %s is not the X-Amz-Content-Sha256 the request signed, %s", got, b.want)
		}
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

// Chunks checks the signatures of an aws-chunked body signed chunk by chunk
// (X-Amz-Content-Sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD, and -TRAILER
// with signed trailing headers). Each chunk's signature chains on the one
// before it, starting from the request's (seed) signature.
type Chunks struct {
	signed *Signed
	stream *v4.StreamSigner
	prev   []byte
}

// Chunks starts the chain at s's signature.
func (s *Signed) Chunks() (*Chunks, error) {
	seed, err := hex.DecodeString(s.Signature)
	if err != nil {
		return nil, fail(Malformed, "the seed signature %q is not hex", s.Signature)
	}
	v := s.verifier
	return &Chunks{signed: s, prev: seed,
		stream: v4.NewStreamSigner(v.awsCredentials(), v.Service, s.Region, seed)}, nil
}

// Next checks the signature of the next chunk, data (the empty last chunk
// too). S3's chunk string to sign is the event-stream one with the hash of
// no headers: AWS4-HMAC-SHA256-PAYLOAD, time, scope, previous signature,
// SHA-256 of "", SHA-256 of the chunk.
func (c *Chunks) Next(data []byte, signature string) error {
	want, err := c.stream.GetSignature(context.Background(), nil, data, c.signed.Time)
	if err != nil {
		return fail(Mismatch, "cannot sign the chunk again: %v", err)
	}
	got, err := hex.DecodeString(signature)
	if err != nil || !hmac.Equal(got, want) {
		return fail(Mismatch, "the signature of a %d-byte chunk does not match: the body is not the one that was signed", len(data))
	}
	c.prev = want
	return nil
}

// Trailer checks the signature of the trailing headers (each
// "name:value\n", as sent, without the signature's own line). The SDK has
// no signer for it; the string to sign is AWS4-HMAC-SHA256-TRAILER, time,
// scope, previous signature and the SHA-256 of the trailing headers,
// signed with the request's signing key.
func (c *Chunks) Trailer(headers []byte, signature string) error {
	s, v := c.signed, c.signed.verifier
	date := s.Time.UTC().Format("20060102")
	scope := date + "/" + s.Region + "/" + v.Service + "/aws4_request"
	sum := sha256.Sum256(headers)
	toSign := "AWS4-HMAC-SHA256-TRAILER\n" + s.Time.UTC().Format(timeFormat) + "\n" + scope + "\n" +
		hex.EncodeToString(c.prev) + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + v.Credentials.SecretAccessKey)
	for _, part := range []string{date, s.Region, v.Service, "aws4_request", toSign} {
		key = hmacSHA256(key, part)
	}
	got, err := hex.DecodeString(signature)
	if err != nil || !hmac.Equal(got, key) {
		return fail(Mismatch, "the signature of the trailing headers does not match: %s", fmt.Sprintf("%q", headers))
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
