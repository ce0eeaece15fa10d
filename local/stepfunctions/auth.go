package stepfunctions

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"

	"github.com/edge-drop/edge-drop/local/sigv4"
)

// authenticated admits only requests signed (SigV4, service "states")
// with v's credentials, as Step Functions does; the others get 403 (400
// for a signature that cannot be read) in the AWS JSON error shape. The
// body, at most maxBody, is what the signature covers (the AWS CLI and
// the SDKs sign the JSON protocols' bodies).
func authenticated(v *sigv4.Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			refuse(w, http.StatusBadRequest, "ValidationException", "request body unreadable or over 1 MiB")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		if _, err := v.Verify(r, hex.EncodeToString(sum[:])); err != nil {
			status, code := http.StatusForbidden, "InvalidSignatureException"
			e, _ := sigv4.AsError(err)
			msg := err.Error()
			switch e.Kind {
			case sigv4.Missing:
				code, msg = "MissingAuthenticationTokenException", "Missing Authentication Token: sign the request with the credentials the demo printed"
			case sigv4.UnknownKey:
				code = "UnrecognizedClientException"
			case sigv4.Malformed:
				status, code = http.StatusBadRequest, "IncompleteSignatureException"
			}
			refuse(w, status, code, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func refuse(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
