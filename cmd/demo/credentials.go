package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edge-drop/edge-drop/local/privatefile"
	"github.com/edge-drop/edge-drop/local/sigv4"
)

// credentialsFile, in -state, keeps the demo's credentials between runs.
const credentialsFile = "credentials.json"

// demoCredentials are the credentials every request to the demo's S3 and
// Step Functions endpoints must be signed with: made at random on the first
// run (a secret in the source would let any program or web page on the
// machine sign as well), then kept in <state>/credentials.json, readable by
// the user only, so that a shell that exported them keeps working across
// runs. make clean forgets them.
func demoCredentials(state string) (sigv4.Credentials, error) {
	path := filepath.Join(state, credentialsFile)
	b, err := os.ReadFile(path)
	if err == nil {
		var c sigv4.Credentials
		if json.Unmarshal(b, &c) != nil || !c.Valid() {
			return c, fmt.Errorf("%s is not the demo's credentials: remove it (make clean removes -state) and the demo makes new ones", path)
		}
		return c, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return sigv4.Credentials{}, err
	}
	c := sigv4.NewCredentials()
	b, _ = json.MarshalIndent(c, "", "  ")
	if err := os.MkdirAll(state, 0o755); err != nil {
		return c, err
	}
	return c, privatefile.Write(path, append(b, '\n'))
}
