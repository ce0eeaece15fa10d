package bucket

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/edge-drop/edge-drop/local/sigv4"
)

// unchunk turns an aws-chunked request body (X-Amz-Content-Sha256:
// STREAMING-..., used by SDKs for streaming SigV4 and for trailing
// checksums) into the plain payload before gofakes3 sees it. gofakes3
// v1.2.0 decodes only STREAMING-AWS4-HMAC-SHA256-PAYLOAD and only on
// PutObject; any other variant (…-TRAILER, UploadPart) would be stored
// with its chunk framing. With sigs (the signed variants), every chunk's
// signature is checked before its bytes are passed on, and a signed
// trailer's too; trailing checksums themselves are not checked.
func unchunk(r *http.Request, sigs *sigv4.Chunks) error {
	n, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
	if err != nil || n < 0 {
		return errors.New("an aws-chunked body needs X-Amz-Decoded-Content-Length, the length of the payload")
	}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	r.Body = &chunkReader{br: bufio.NewReader(r.Body), closer: r.Body, want: n, sigs: sigs,
		signedTrailer: strings.HasSuffix(r.Header.Get("X-Amz-Content-Sha256"), "-TRAILER") && sigs != nil}
	r.ContentLength = n
	r.Header.Set("Content-Length", strconv.FormatInt(n, 10))
	r.Header.Set("X-Amz-Content-Sha256", sigv4.UnsignedPayload)
	r.Header.Del("X-Amz-Trailer")
	var enc []string
	for _, e := range strings.Split(r.Header.Get("Content-Encoding"), ",") {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
			enc = append(enc, e)
		}
	}
	if len(enc) == 0 {
		r.Header.Del("Content-Encoding")
	} else {
		r.Header.Set("Content-Encoding", strings.Join(enc, ","))
	}
	return nil
}

// maxSignedChunk bounds a signed chunk, which is held whole until its
// signature is checked (SDKs send 64 KiB to 1 MiB chunks).
const maxSignedChunk = 16 << 20

// chunkReader decodes "<hex size>[;ext]\r\n<data>\r\n ... 0[;ext]\r\n
// [trailer lines\r\n]\r\n".
type chunkReader struct {
	br       *bufio.Reader
	closer   io.Closer
	left     int64 // bytes left in the current chunk (unsigned: streamed)
	got      int64 // payload bytes decoded
	want     int64 // X-Amz-Decoded-Content-Length
	done     bool
	inChunks bool // a streamed chunk's data ends with CRLF still to read
	err      error

	sigs          *sigv4.Chunks // nil: chunk signatures are not checked
	signedTrailer bool          // the trailer ends with x-amz-trailer-signature
	verified      []byte        // a checked chunk not yet read
}

var errChunk = errors.New("malformed aws-chunked body")

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(c.verified) > 0 {
		n := copy(p, c.verified)
		c.verified = c.verified[n:]
		return n, nil
	}
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		if c.inChunks { // the previous chunk's data ends with CRLF
			c.inChunks = false
			if err := c.expectCRLF(); err != nil {
				return 0, c.fail(err)
			}
		}
		line, err := c.line()
		if err != nil {
			return 0, c.fail(err)
		}
		size, signature, err := chunkHeader(line)
		if err != nil {
			return 0, c.fail(err)
		}
		if c.sigs != nil && signature == "" {
			return 0, c.fail(&sigv4.Error{Kind: sigv4.Malformed, Message: "a signed aws-chunked body has a chunk without chunk-signature"})
		}
		if size == 0 {
			return 0, c.fail(c.end(signature))
		}
		if c.sigs != nil {
			return c.readSigned(p, size, signature)
		}
		c.left = size
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	c.got += int64(n)
	if c.left == 0 {
		c.inChunks = true
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return n, c.fail(err)
	}
	if c.got > c.want {
		return n, c.fail(fmt.Errorf("%w: more than X-Amz-Decoded-Content-Length (%d) bytes", errChunk, c.want))
	}
	return n, nil
}

// readSigned reads a whole chunk and passes it on only if its signature
// matches.
func (c *chunkReader) readSigned(p []byte, size int64, signature string) (int, error) {
	if size > maxSignedChunk || c.got+size > c.want {
		return 0, c.fail(fmt.Errorf("%w: a %d-byte chunk (at most %d, and %d bytes in all)", errChunk, size, maxSignedChunk, c.want))
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(c.br, data); err != nil {
		return 0, c.fail(fmt.Errorf("%w: %v", errChunk, err))
	}
	if err := c.expectCRLF(); err != nil {
		return 0, c.fail(err)
	}
	if err := c.sigs.Next(data, signature); err != nil {
		return 0, c.fail(err)
	}
	c.got += size
	n := copy(p, data)
	c.verified = data[n:]
	return n, nil
}

// end reads the trailer after the last (empty) chunk, up to the blank line
// or the end of the body, and checks the last signatures and the length.
func (c *chunkReader) end(signature string) error {
	if c.sigs != nil {
		if err := c.sigs.Next(nil, signature); err != nil {
			return err
		}
	}
	var trailer strings.Builder
	trailerSignature := ""
	for {
		l, err := c.line()
		if err == io.EOF || (err == nil && l == "") {
			break
		}
		if err != nil {
			return err
		}
		if sig, ok := strings.CutPrefix(l, "x-amz-trailer-signature:"); ok {
			trailerSignature = strings.TrimSpace(sig)
			continue
		}
		trailer.WriteString(l + "\n")
	}
	if c.signedTrailer {
		if trailerSignature == "" {
			return &sigv4.Error{Kind: sigv4.Malformed, Message: "a signed aws-chunked trailer has no x-amz-trailer-signature"}
		}
		if err := c.sigs.Trailer([]byte(trailer.String()), trailerSignature); err != nil {
			return err
		}
	}
	if c.got != c.want {
		return fmt.Errorf("%w: %d bytes decoded, X-Amz-Decoded-Content-Length says %d", errChunk, c.got, c.want)
	}
	c.done = true
	return io.EOF
}

// chunkHeader reads "<hex size>[;chunk-signature=<hex>][;...]".
func chunkHeader(line string) (size int64, signature string, err error) {
	sizeHex, exts, _ := strings.Cut(line, ";")
	size, err = strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
	if err != nil || size < 0 {
		return 0, "", fmt.Errorf("%w: bad chunk size %q", errChunk, line)
	}
	for _, ext := range strings.Split(exts, ";") {
		if sig, ok := strings.CutPrefix(strings.TrimSpace(ext), "chunk-signature="); ok {
			signature = sig
		}
	}
	return size, signature, nil
}

func (c *chunkReader) line() (string, error) {
	l, err := c.br.ReadString('\n')
	if err != nil {
		if err == io.EOF && l == "" {
			return "", io.EOF
		}
		return "", fmt.Errorf("%w: %v", errChunk, err)
	}
	return strings.TrimRight(l, "\r\n"), nil
}

func (c *chunkReader) expectCRLF() error {
	var b [2]byte
	if _, err := io.ReadFull(c.br, b[:]); err != nil || b != [2]byte{'\r', '\n'} {
		return fmt.Errorf("%w: chunk not followed by CRLF", errChunk)
	}
	return nil
}

func (c *chunkReader) fail(err error) error {
	c.err = err
	return err
}

func (c *chunkReader) Close() error { return c.closer.Close() }
