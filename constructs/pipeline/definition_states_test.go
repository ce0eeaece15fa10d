package pipeline_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// contractStates reads every State* constant of contract/states.go (its
// name and value): the file is the list, so a name added there is checked
// here without anyone listing it twice.
func contractStates(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "..", "contract", "states.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			for i, n := range v.Names {
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !strings.HasPrefix(n.Name, "State") || !ok || lit.Kind != token.STRING {
					continue
				}
				s, _ := strconv.Unquote(lit.Value)
				out[n.Name] = s
			}
		}
	}
	return out
}

// goldenStates collects the state names of a definition, nested ones
// (Map item processors, Parallel branches) included.
func goldenStates(def map[string]any, into map[string]bool) {
	states, _ := def["States"].(map[string]any)
	for name, raw := range states {
		into[name] = true
		s, _ := raw.(map[string]any)
		for _, nested := range []string{"ItemProcessor", "Iterator"} {
			if p, ok := s[nested].(map[string]any); ok {
				goldenStates(p, into)
			}
		}
		branches, _ := s["Branches"].([]any)
		for _, b := range branches {
			if p, ok := b.(map[string]any); ok {
				goldenStates(p, into)
			}
		}
	}
}

// Every state name the contract gives the demo, the CLI and the tests is
// a state of a synthesized definition (the delete fan-out's with
// contract.DeletePrefix): a name renamed in the pipeline but not in the
// contract, or a name no state has, fails here.
func TestContractStateNamesAreStatesOfTheDefinitions(t *testing.T) {
	files, err := filepath.Glob(asltest.Golden(t, "*.asl.json"))
	if err != nil || len(files) < 10 {
		t.Fatalf("goldens: %v %v", files, err)
	}
	have := map[string]bool{}
	for _, f := range files {
		var def map[string]any
		if err := json.Unmarshal(asltest.ReadGolden(t, filepath.Base(f)), &def); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		goldenStates(def, have)
	}
	names := contractStates(t)
	if len(names) < 100 {
		t.Fatalf("read %d State names from contract/states.go; the parse missed them", len(names))
	}
	for constant, name := range names {
		if !have[name] && !have[contract.DeletePrefix+name] {
			t.Errorf("contract.%s = %q is a state of no synthesized definition (constructs/pipeline/testdata)", constant, name)
		}
	}
}
