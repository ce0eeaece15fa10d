package config

import (
	"encoding/json"
	"fmt"
	"os"
)

// CDKJSONContext reads the "context" block of cdk.json: CDK's feature flags
// and any config overrides (the defaults are Settings'). The CLI passes it
// to the app itself; tests and the local demo, which create the App
// in-process, pass it through AppProps.
func CDKJSONContext(path string) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CDK settings: %w", err)
	}
	var file struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	return file.Context, nil
}
