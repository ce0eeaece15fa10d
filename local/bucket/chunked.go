package bucket

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// unchunk turns an aws-chunked request body (X-Amz-Content-Sha256:
// STREAMING-..., used by SDKs for streaming SigV4 and for trailing
// checksums) into the plain payload before gofakes3 sees it. gofakes3
// v1.2.0 decodes only STREAMING-AWS4-HMAC-SHA256-PAYLOAD and only on
// PutObject; any other variant (…-TRAILER, UploadPart) would be stored
// with its chunk framing. Chunk signatures and trailing checksums are
// not verified (the server does not check request signatures either).
func unchunk(r *http.Request) {
	mode := r.Header.Get("X-Amz-Content-Sha256")
	if !strings.HasPrefix(mode, "STREAMING-") || r.Body == nil || r.Body == http.NoBody {
		return
	}
	n, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
	if err != nil || n < 0 {
		return // gofakes3 rejects it
	}
	r.Body = &chunkReader{br: bufio.NewReader(r.Body), closer: r.Body, want: n}
	r.ContentLength = n
	r.Header.Set("Content-Length", strconv.FormatInt(n, 10))
	r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
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
}

// chunkReader decodes "<hex size>[;ext]\r\n<data>\r\n ... 0[;ext]\r\n
// [trailer lines\r\n]\r\n".
type chunkReader struct {
	br       *bufio.Reader
	closer   io.Closer
	left     int64 // bytes left in the current chunk
	got      int64 // payload bytes returned
	want     int64 // X-Amz-Decoded-Content-Length
	done     bool
	inChunks bool // a size line has been read
	err      error
}

var errChunk = errors.New("malformed aws-chunked body")

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		if c.inChunks { // the previous chunk's data ends with CRLF
			if err := c.expectCRLF(); err != nil {
				return 0, c.fail(err)
			}
		}
		line, err := c.line()
		if err != nil {
			return 0, c.fail(err)
		}
		sizeHex, _, _ := strings.Cut(line, ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
		if err != nil || size < 0 {
			return 0, c.fail(fmt.Errorf("%w: bad chunk size %q", errChunk, line))
		}
		c.inChunks = true
		if size == 0 {
			for { // trailers up to the blank line (or the end of the body)
				l, err := c.line()
				if err == io.EOF || (err == nil && l == "") {
					break
				}
				if err != nil {
					return 0, c.fail(err)
				}
			}
			if c.got != c.want {
				return 0, c.fail(fmt.Errorf("%w: %d bytes decoded, X-Amz-Decoded-Content-Length says %d", errChunk, c.got, c.want))
			}
			c.done = true
			return 0, io.EOF
		}
		c.left = size
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	c.got += int64(n)
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
