package sigv4

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"strings"
)

// Credentials are an access key pair.
type Credentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// NewCredentials makes a key pair that nobody can guess, shaped as AWS's
// (a 20-character access key id, a 40-character secret): a secret written
// in the source would let any web page or program on the machine sign
// requests as well as the user.
func NewCredentials() Credentials {
	id := make([]byte, 10)
	secret := make([]byte, 30)
	_, _ = rand.Read(id) // crypto/rand.Read never fails (Go 1.24+)
	_, _ = rand.Read(secret)
	return Credentials{
		AccessKeyID:     "EDGEDROP" + strings.ToUpper(base32.StdEncoding.EncodeToString(id))[:12],
		SecretAccessKey: base64.StdEncoding.EncodeToString(secret),
	}
}

// Valid reports whether both halves are set.
func (c Credentials) Valid() bool { return c.AccessKeyID != "" && c.SecretAccessKey != "" }
