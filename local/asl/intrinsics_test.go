package asl_test

import (
	"regexp"
	"strings"
	"testing"

	. "github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

func evalIntrinsic(t *testing.T, expr string, input string) (any, error) {
	t.Helper()
	c, err := ParseIntrinsic(expr)
	if err != nil {
		return nil, err
	}
	return c(asltest.JSON(t, input), map[string]any{"Execution": map[string]any{"Name": "exec"}})
}

func TestIntrinsicFunctions(t *testing.T) {
	in := `{"a":"x","n":3,"arr":[1,2,2,"b",{"k":1},{"k":1}],"json":"{\"p\":[1,true]}","obj":{"q":1},"s":"a,b,,c","deep":{"l":[10,20]},"null":null,"b":true}`
	cases := []struct {
		expr, want string
	}{
		{`States.Format('Hello {}!', $.a)`, `"Hello x!"`},
		{`States.Format('{} + {} = {}', 1, $.n, 'four')`, `"1 + 3 = four"`},
		{`States.Format('b={} n={}', $.b, $.null)`, `"b=true n=null"`},
		{`States.Format('literal \{\} and {}', $.a)`, `"literal {} and x"`},
		{`States.Format('it\'s {}', $.a)`, `"it's x"`},
		{`States.Format('back\\slash {}', $.a)`, `"back\\slash x"`},
		{`States.Format('{}', $$.Execution.Name)`, `"exec"`},
		{`States.Format('a, b ({})', $.deep.l[1])`, `"a, b (20)"`},
		{`States.StringToJson($.json)`, `{"p":[1,true]}`},
		{`States.JsonToString($.obj)`, `"{\"q\":1}"`},
		{`States.JsonToString($.deep)`, `"{\"l\":[10,20]}"`},
		{`States.Array(1, 'two', $.n, $.obj, null, true)`, `[1,"two",3,{"q":1},null,true]`},
		{`States.Array()`, `[]`},
		{`States.ArrayPartition($.deep.l, 1)`, `[[10],[20]]`},
		{`States.ArrayPartition(States.Array(1,2,3,4,5), 2)`, `[[1,2],[3,4],[5]]`},
		{`States.ArrayContains($.arr, 'b')`, `true`},
		{`States.ArrayContains($.arr, $.obj)`, `false`},
		{`States.ArrayRange(1, 9, 2)`, `[1,3,5,7,9]`},
		{`States.ArrayRange(5, 1, -2)`, `[5,3,1]`},
		{`States.ArrayGetItem($.arr, 3)`, `"b"`},
		{`States.ArrayGetItem(States.Array('p','q'), 1)`, `"q"`},
		{`States.ArrayLength($.arr)`, `6`},
		{`States.ArrayUnique($.arr)`, `[1,2,"b",{"k":1}]`},
		{`States.Base64Encode('Data to encode')`, `"RGF0YSB0byBlbmNvZGU="`},
		{`States.Base64Decode('RGF0YSB0byBlbmNvZGU=')`, `"Data to encode"`},
		{`States.Hash('input data', 'SHA-1')`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{`States.Hash('abc', 'SHA-256')`, `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"`},
		{`States.Hash('abc', 'MD5')`, `"900150983cd24fb0d6963f7d28e17f72"`},
		{`States.JsonMerge($.obj, States.StringToJson('{"r":2,"q":5}'), false)`, `{"q":5,"r":2}`},
		{`States.MathAdd($.n, -5)`, `-2`},
		{`States.MathAdd(111, 1)`, `112`},
		{`States.StringSplit($.s, ',')`, `["a","b","c"]`},
		{`States.StringSplit('a-b+c', '-+')`, `["a","b","c"]`},
		{`States.ArrayLength(States.StringSplit('1 2 3', ' '))`, `3`},
	}
	for _, c := range cases {
		got, err := evalIntrinsic(t, c.expr, in)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if g, w := asltest.Canon(t, got), asltest.Canon(t, asltest.JSON(t, c.want)); g != w {
			t.Errorf("%s = %s, want %s", c.expr, g, w)
		}
	}

	// Non-deterministic functions.
	u, err := evalIntrinsic(t, `States.UUID()`, in)
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u.(string)) {
		t.Errorf("UUID = %v, %v", u, err)
	}
	for i := 0; i < 50; i++ {
		r, err := evalIntrinsic(t, `States.MathRandom(1, 4)`, in)
		f, _ := ToFloat(r)
		if err != nil || f < 1 || f >= 4 || !IsInteger(f) {
			t.Fatalf("MathRandom = %v, %v", r, err)
		}
	}
}

func TestIntrinsicRuntimeErrors(t *testing.T) {
	in := `{"a":"x","arr":[1],"n":1.5}`
	cases := []struct{ expr, want string }{
		{`States.Format('{} {}', $.a)`, "placeholders"},
		{`States.Format('{}', $.arr)`, "argument 2"},
		{`States.Format($.n)`, "argument 1 must be a string"},
		{`States.StringToJson('{bad')`, "not valid JSON"},
		{`States.ArrayGetItem($.arr, 5)`, "out of bounds"},
		{`States.ArrayLength($.a)`, "must be an array"},
		{`States.MathAdd($.a, 1)`, "must be a number"},
		{`States.ArrayGetItem($.arr, $.n)`, "must be an integer"},
		{`States.Hash('x', 'CRC32')`, "unsupported hash algorithm"},
		{`States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), true)`, "deep merge"},
		{`States.Format('{}', $.missing)`, "$.missing"},
		{`States.ArrayRange(1, 5000, 1)`, "1000"},
	}
	for _, c := range cases {
		_, err := evalIntrinsic(t, c.expr, in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want containing %q", c.expr, err, c.want)
		}
	}
}

func TestIntrinsicParseErrors(t *testing.T) {
	cases := []struct{ expr, want string }{
		{`States.Format('x'`, "missing ')'"},
		{`States.Format('x)`, "unterminated string"},
		{`States.Nope()`, "unsupported intrinsic function"},
		{`States.Format('x') trailing`, "unexpected"},
		{`States.MathAdd(1, abc)`, "invalid argument"},
		{`States.UUID(1)`, "exactly 0"},
	}
	for _, c := range cases {
		_, err := ParseIntrinsic(c.expr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want containing %q", c.expr, err, c.want)
		}
	}
}

func TestIntrinsicInStateFailsWithRuntime(t *testing.T) {
	runCases(t, []execCase{
		{name: "bad intrinsic at runtime", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"States.ArrayGetItem($.a, 9)"},"End":true}}}`,
			input: `{"a":[1]}`, status: StatusFailed, errName: ErrRuntime, causeHas: "'x.$'"},
		{name: "intrinsics in Parameters", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"msg.$":"States.Format('s3://{}/{}', $.bucket, $.key)","parts.$":"States.StringSplit($.key, '/')","n.$":"States.ArrayLength(States.StringSplit($.key, '/'))"},"End":true}}}`,
			input: `{"bucket":"b","key":"in/demo-1.txt"}`, output: `{"msg":"s3://b/in/demo-1.txt","parts":["in","demo-1.txt"],"n":2}`},
	})
}
