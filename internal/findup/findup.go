// Package findup finds the directory that holds a file, from the working
// directory up: the repository's node_modules, cdk.json or a script, found
// from a test's package directory or from wherever a command runs.
package findup

import (
	"errors"
	"os"
	"path/filepath"
)

// ErrNotFound says no directory from the working directory up holds the
// file.
var ErrNotFound = errors.New("not found above the working directory")

// Dir returns the nearest directory, the working directory or one above
// it, that holds rel (a slash-separated path).
func Dir(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel))); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNotFound
		}
		dir = parent
	}
}
