// Package asltest helps test state machine definitions in the local
// interpreter (local/asl): the golden definitions the CDK app synthesizes
// (one folder, GoldenDir), JSON values decoded and compared as the
// interpreter sees them, Task states answered by a script (Tasks) or by a
// scripted ECS cluster (ECS), and waits that only count (Sleeps).
//
// The interpreter's own tests and the pipeline's definition tests
// (constructs/pipeline) share it; it uses only asl's exported API.
package asltest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/local/asl"
)

// GoldenDir is where the golden definitions live, from the repository
// root: the synthesized state machine definitions (*.asl.json, written by
// `make golden` from the stacks tests) and the S3 event they run on.
const GoldenDir = "constructs/pipeline/testdata"

// Golden returns the path of a file in GoldenDir ("": of the folder),
// found from the test's directory upwards (go test runs in the package's
// directory).
func Golden(t testing.TB, file string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, GoldenDir)); err == nil {
			return filepath.Join(dir, GoldenDir, file)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no %s above the test's directory", GoldenDir)
		}
		dir = parent
	}
}

// ReadGolden returns a file of GoldenDir.
func ReadGolden(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(Golden(t, file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Definition parses the golden definition name (name.asl.json).
func Definition(t testing.TB, name string) *asl.Machine {
	t.Helper()
	m, err := asl.Parse(ReadGolden(t, name+".asl.json"))
	if err != nil {
		t.Fatalf("%s.asl.json: %v", name, err)
	}
	return m
}

// S3Event is the EventBridge event of an upload of key, as JSON text:
// GoldenDir's s3-object-created.json (an upload of demo-1.txt) for
// another key.
func S3Event(t testing.TB, key string) string {
	t.Helper()
	return strings.Replace(string(ReadGolden(t, "s3-object-created.json")), `"demo-1.txt"`, `"`+key+`"`, 1)
}

// MustParse parses a definition, failing the test on an error.
func MustParse(t testing.TB, def string) *asl.Machine {
	t.Helper()
	m, err := asl.Parse([]byte(def))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, def)
	}
	return m
}

// JSON decodes one JSON value as the interpreter does (numbers as
// json.Number).
func JSON(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad JSON %q: %v", s, err)
	}
	if dec.More() {
		t.Fatalf("bad JSON %q: more than one value", s)
	}
	return v
}

// Canon renders a value as canonical JSON for comparisons: keys sorted,
// numbers re-parsed so that 1 and 1.0 compare equal.
func Canon(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	b, _ = json.Marshal(x)
	return string(b)
}

// AssertJSON fails the test when got is not the JSON value want.
func AssertJSON(t testing.TB, got any, want string) {
	t.Helper()
	if g, w := Canon(t, got), Canon(t, JSON(t, want)); g != w {
		t.Errorf("output mismatch\n got: %s\nwant: %s", g, w)
	}
}

// Equal fails the test when got and want differ (reflect.DeepEqual).
func Equal[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// PathNames is the states an execution visited, comma-separated.
func PathNames(e *asl.Execution) string {
	names := make([]string, len(e.Path))
	for i, s := range e.Path {
		names[i] = s.Name
	}
	return strings.Join(names, ",")
}
