// Package endpoints is the file the local demo writes into its state
// directory (.demo/endpoints.json) while it runs, so that the edge-drop
// CLI (--local) and the status page talk to the demo as they talk to AWS:
// where each service answers, the region and credentials to sign with,
// and the pipeline stack's outputs under the stack's own output names.
package endpoints

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/edge-drop/edge-drop/local/privatefile"
)

// FileName is the file's name in the demo's state directory.
const FileName = "endpoints.json"

// Endpoints says where the running demo answers.
type Endpoints struct {
	S3            string `json:"s3"`
	StepFunctions string `json:"stepFunctions"`
	ECS           string `json:"ecs"`
	// DynamoDB is the ledger's endpoint; "" while the demo keeps no ledger.
	DynamoDB string `json:"dynamodb,omitempty"`
	// StatusPage is the page `edge-drop ui` would serve, when the demo
	// serves one.
	StatusPage string `json:"statusPage,omitempty"`

	Region          string `json:"region"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`

	// Outputs are the pipeline stack's outputs (contract.Output*), with
	// the demo's local values.
	Outputs map[string]string `json:"outputs"`
	// PID is the demo's process.
	PID int `json:"pid"`
}

// Path is the file in state dir dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// Write writes e into dir, whole or not at all (a reader never sees half
// a file), readable by the owner only: it holds the demo's credentials.
func Write(dir string, e Endpoints) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return privatefile.Write(Path(dir), append(b, '\n'))
}

// ErrNotRunning: the state directory has no endpoints file.
var ErrNotRunning = errors.New("no demo is running")

// Read reads the file in dir. A missing file is ErrNotRunning, with the
// fix in its message.
func Read(dir string) (Endpoints, error) {
	var e Endpoints
	b, err := os.ReadFile(Path(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return e, fmt.Errorf("%w with state dir %s (no %s): start it with make demo, or name its state dir: --local DIR", ErrNotRunning, dir, FileName)
	}
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("%s is not the demo's endpoints file (%v): restart make demo", Path(dir), err)
	}
	if e.S3 == "" || e.Region == "" {
		return e, fmt.Errorf("%s names no S3 endpoint or region: restart make demo", Path(dir))
	}
	return e, nil
}
