package bucket

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/edge-drop/edge-drop/local/sigv4"

	"github.com/edge-drop/edge-drop/s3fake"
)

// spoolDir, under Options.Dir and beside gofakes3's buckets/ and
// metadata/, holds PutObject bodies until they are whole and checked.
const spoolDir = "spool"

// spool reads a PutObject body whole into a file of its own before
// gofakes3 sees it: gofakes3's filesystem backend writes a body straight
// into the object's file, so a body that fails its signature check, or a
// client that disconnects halfway, would leave a new object half-written
// or an existing one truncated. Only a body read to its end and checked
// reaches the backend. done removes the file; it is safe to call when err
// is set.
func (s *Server) spool(w http.ResponseWriter, r *http.Request) (ok bool, done func()) {
	done = func() {}
	if r.Body == nil || r.Body == http.NoBody {
		return true, done
	}
	f, err := os.CreateTemp(s.spoolDir, "put-*")
	if err != nil {
		s3fake.WriteError(w, r, http.StatusInternalServerError, "InternalError", "cannot hold the upload: "+err.Error())
		return false, done
	}
	done = func() { _ = f.Close(); _ = os.Remove(f.Name()) }
	n, err := io.Copy(f, r.Body)
	if err == nil && r.ContentLength >= 0 && n != r.ContentLength {
		err = fmt.Errorf("the body has %d bytes, Content-Length says %d", n, r.ContentLength)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		if _, refused := sigv4.AsError(err); refused {
			s.refuse(w, r, err)
		} else {
			s3fake.WriteError(w, r, http.StatusBadRequest, "IncompleteBody", "the request body was not received whole: "+err.Error())
		}
		return false, done
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(f)
	r.ContentLength = n
	return true, done
}

// clearSpool removes bodies a stopped server left behind.
func clearSpool(dir string) error {
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.MkdirAll(dir, 0o700)
}

func spoolPath(objectDir string) string { return filepath.Join(objectDir, spoolDir) }
