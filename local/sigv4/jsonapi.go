package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
)

// MaxJSONBody bounds a request to an AWS JSON protocol endpoint (a Step
// Functions execution's input is at most 256 KiB).
const MaxJSONBody = 1 << 20

// RequireJSON admits only requests signed (SigV4) with v's credentials for
// v's service and region, as AWS's JSON protocol services (Step Functions,
// ECS) do; the others get 403 (400 for a signature that cannot be read) in
// the AWS JSON error shape. The body, at most MaxJSONBody, is what the
// signature covers (the AWS CLI and the SDKs sign these protocols' bodies).
func RequireJSON(v *Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxJSONBody+1))
		if err != nil || len(body) > MaxJSONBody {
			refuse(w, http.StatusBadRequest, "ValidationException", "request body unreadable or over 1 MiB")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		if _, err := v.Verify(r, hex.EncodeToString(sum[:])); err != nil {
			status, code := http.StatusForbidden, "InvalidSignatureException"
			e, _ := AsError(err)
			msg := err.Error()
			switch e.Kind {
			case Missing:
				code, msg = "MissingAuthenticationTokenException", "Missing Authentication Token: sign the request with the credentials the demo printed"
			case UnknownKey:
				code = "UnrecognizedClientException"
			case Malformed:
				status, code = http.StatusBadRequest, "IncompleteSignatureException"
			}
			refuse(w, status, code, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuse answers in the AWS JSON error shape.
func refuse(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
