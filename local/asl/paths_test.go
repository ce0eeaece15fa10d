package asl_test

import (
	"testing"

	. "github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

func TestDotNamesToBrackets(t *testing.T) {
	cases := map[string]string{
		"$":                        "$",
		"$.a.b":                    "$.a.b",
		"$.detail-type":            "$['detail-type']",
		"$.detail.object.key":      "$.detail.object.key",
		"$.a-b.c[0].d-e":           "$['a-b'].c[0]['d-e']",
		"$.2xx":                    "$['2xx']",
		"$.a[?@.x-y > 1]":          "$.a[?@.x-y > 1]",
		"$..name":                  "$..name",
		"$.a.*":                    "$.a.*",
		"$['x.y'].z":               "$['x.y'].z",
		"$.it's":                   `$['it\'s']`,
		"$.Containers[0].ExitCode": "$.Containers[0].ExitCode",
	}
	for in, want := range cases {
		if got := DotNamesToBrackets(in); got != want {
			t.Errorf("DotNamesToBrackets(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPathEval(t *testing.T) {
	doc := asltest.JSON(t, `{"detail-type":"Object Created","a":{"b":[{"c":1},{"c":2}]},"n":null}`)
	cases := []struct {
		path  string
		want  string
		found bool
	}{
		{"$.detail-type", `"Object Created"`, true},
		{"$.a.b[1].c", `2`, true},
		{"$.a.b[-1].c", `2`, true},
		{"$.a.b[*].c", `[1,2]`, true},
		{"$..c", `[1,2]`, true},
		{"$.a.b[?@.c > 5]", `[]`, true},
		{"$.n", `null`, true},
		{"$.missing", ``, false},
		{"$.a.b[5]", ``, false},
		{"$", `{"detail-type":"Object Created","a":{"b":[{"c":1},{"c":2}]},"n":null}`, true},
	}
	for _, c := range cases {
		p, err := CompilePath(c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		v, ok := p(doc)
		if ok != c.found {
			t.Errorf("%s: found=%v, want %v", c.path, ok, c.found)
			continue
		}
		if ok && asltest.Canon(t, v) != asltest.Canon(t, asltest.JSON(t, c.want)) {
			t.Errorf("%s = %s, want %s", c.path, asltest.Canon(t, v), c.want)
		}
	}
	for _, bad := range []string{"$.a.length()", "$.a[(@.length-1)]", "a.b", ""} {
		if _, err := CompilePath(bad); err == nil {
			t.Errorf("CompilePath(%q) succeeded", bad)
		}
	}
}
