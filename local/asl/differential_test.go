package asl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// Differential tests: every case runs through this package and through the
// npm package aws-local-stepfunctions (v3.0.0, pinned in the root
// package.json) via testdata/aslrun.mjs; status, output, error name — and the
// cause, for errors not raised by the engine itself — must be identical.
//
// Node and the npm package are required: the test FAILS when they are
// missing (CI installs them with `npm ci`) unless EDGE_DROP_SKIP_NODE=1.
//
// Intentional divergences — behaviours where aws-local-stepfunctions 3.0.0
// differs from AWS Step Functions and this package follows AWS. No case below
// exercises them; each is covered by a unit test in this package instead:
//   - ResultPath "$" written explicitly: the npm package stores the result
//     under a key named "$" instead of replacing the input (AWS replaces).
//   - Pass with a falsy Result (0, "", false, null): the npm package ignores
//     it and passes the input through (AWS outputs the Result).
//   - Fail without Error: the npm package reports "FailStateError" (AWS
//     reports no error name).
//   - IsNull/IsString/IsNumeric/IsBoolean/IsTimestamp/IsPresent with false:
//     the npm package always evaluates them to false (AWS negates the test).
//   - StringMatches: the npm package (wildcard-match) also treats '?' as a
//     wildcard; AWS only knows '*' (and the escapes \* and \\).
//   - Indefinite paths ($.a[*], filters) that select nothing: the npm package
//     fails with States.Runtime; AWS (Jayway) yields an empty array.
//   - Task TimeoutSeconds: the npm package defaults it to 60 s; AWS has no
//     default for Task states (99999999 s), which matters for long ECS tasks.
//   - Intrinsic function string arguments: the npm package does not process
//     escapes (\' \{ \} \\) and strips every backslash from string results.
//   - States.StringSplit: the npm package splits on the whole delimiter
//     string and keeps empty tokens; AWS treats every character of the
//     delimiter as a separator ("a-b+c", "-+" gives ["a","b","c"]) and drops
//     empty tokens.
//   - Numeric comparisons on non-numbers: the npm package uses JavaScript
//     coercion ("2" < 3 is true); AWS compares types strictly (false).
//   - Fail states with an intrinsic function in ErrorPath/CausePath (allowed
//     by AWS): the npm package evaluates it as a path and fails.
//   - Non-integer arguments of States.MathAdd, States.MathRandom,
//     States.ArrayRange and States.ArrayPartition: the npm package rejects
//     them; AWS rounds them to the nearest integer. The npm package neither
//     limits States.MathAdd to 32-bit integers nor cuts causes at 32,768
//     characters, as AWS does.
//   - Map iterations: the npm package runs them with an empty context object
//     ($$.Execution, $$.State, $$.StateMachine select nothing: States.Runtime);
//     AWS runs them in the context of the execution (TestMapContextObject).
//   - Map MaxConcurrency: both engines run at most 40 iterations at once when
//     it is 0; with a larger value the npm package runs that many, AWS (and
//     this package) still at most 40 (TestMapMaxConcurrencyIsNeverExceeded).
//   - Distributed Map fields (ProcessorConfig.Mode DISTRIBUTED, ItemReader,
//     ToleratedFailure*, ...): AWS and the npm package accept them (the npm
//     package runs the Map inline); this package rejects them at Parse, as
//     an unsupported feature (TestMapParseErrors).
//   - Engine-generated causes (States.Runtime, States.NoChoiceMatched, ...)
//     are worded differently; only the error names are compared for them.

type diffCase struct {
	Name       string                       `json:"name"`
	Definition json.RawMessage              `json:"definition"`
	Input      json.RawMessage              `json:"input"`
	Tasks      map[string][]asltest.Outcome `json:"tasks,omitempty"`
}

type diffResult struct {
	Name   string          `json:"name"`
	Status string          `json:"status"`
	Output json.RawMessage `json:"output"`
	Error  string          `json:"error"`
	Cause  string          `json:"cause"`
}

func dc(name, def, input string, tasks map[string][]asltest.Outcome) diffCase {
	return diffCase{Name: name, Definition: json.RawMessage(def), Input: json.RawMessage(input), Tasks: tasks}
}

// task wraps Task state T with the given extra fields into a one-task machine
// whose catchers can go to "Handled".
func oneTask(fields string) string {
	handled := ""
	if strings.Contains(fields, `"Handled"`) { // unreachable states are invalid
		handled = `,"Handled":{"Type":"Pass","End":true}`
	}
	return `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync",` + fields + `}` + handled + `}}`
}

func choiceDef(rule string) string {
	return `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[` + rule + `],"Default":"No"},
		"Yes":{"Type":"Pass","Result":"yes","End":true},"No":{"Type":"Pass","Result":"no","End":true}}}`
}

func differentialCases(t *testing.T) []diffCase {
	boom := asltest.Outcome{Error: "Boom", Cause: "it broke"}
	okRes := asltest.Outcome{Result: map[string]any{"Containers": []any{map[string]any{"ExitCode": 0}}, "StoppedReason": "done"}}
	cases := []diffCase{
		// Pass / data flow
		dc("pass through", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, `{"a":1,"b":[true,null,"s"]}`, nil),
		dc("pass Result", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"x":[1,2]},"End":true}}}`, `{"a":1}`, nil),
		dc("pass Result ResultPath", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"x":1},"ResultPath":"$.r","End":true}}}`, `{"a":1}`, nil),
		dc("pass ResultPath nested create", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"v","ResultPath":"$.a.b.c","End":true}}}`, `{"a":{"k":1}}`, nil),
		dc("pass ResultPath overwrite", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":[1],"ResultPath":"$.a","End":true}}}`, `{"a":{"old":true},"z":0}`, nil),
		dc("pass ResultPath null", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"v","ResultPath":null,"End":true}}}`, `{"a":1}`, nil),
		dc("pass ResultPath on array input", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"v","ResultPath":"$.x","End":true}}}`, `[1,2]`, nil),
		dc("pass Parameters", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"$.x.y","lit":"s","n":{"m.$":"$.x"},"arr":[{"q.$":"$.x.y"},1]},"End":true}}}`, `{"x":{"y":[1,{"z":2}]}}`, nil),
		dc("pass InputPath Parameters OutputPath", `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.in","Parameters":{"v.$":"$.v"},"ResultPath":"$.out","OutputPath":"$.out","End":true}}}`, `{"in":{"v":42}}`, nil),
		dc("pass Parameters path missing", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"$.nope"},"End":true}}}`, `{"x":1}`, nil),
		dc("pass InputPath missing", `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.nope","End":true}}}`, `{"x":1}`, nil),
		dc("pass OutputPath missing", `{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":"$.nope","End":true}}}`, `{"x":1}`, nil),
		dc("pass wildcard path", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"ids.$":"$.items[*].id"},"End":true}}}`, `{"items":[{"id":"a"},{"id":"b"}]}`, nil),
		dc("pass array index path", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"first.$":"$.items[0]","last.$":"$.items[-1:]"},"End":true}}}`, `{"items":[3,4,5]}`, nil),
		dc("pass context Execution.Input", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"orig.$":"$$.Execution.Input.a"},"End":true}}}`, `{"a":"x"}`, nil),
		dc("chain of passes", `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"ResultPath":"$.a","Next":"B"},"B":{"Type":"Pass","Parameters":{"sum.$":"States.MathAdd($.a, 41)"},"ResultPath":"$.b","Next":"C"},"C":{"Type":"Succeed","OutputPath":"$.b"}}}`, `{}`, nil),
		dc("numbers keep their form", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"f.$":"$.f","i.$":"$.i","neg.$":"$.neg","e.$":"$.e"},"End":true}}}`, `{"f":1.5,"i":7,"neg":-0.25,"e":1e3}`, nil),
		dc("hyphenated member names", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"t.$":"$.detail-type","ip.$":"$.detail.source-ip-address"},"ResultPath":"$.out-put","End":true}}}`, `{"detail-type":"Object Created","detail":{"source-ip-address":"127.0.0.1"}}`, nil),
		dc("unicode strings", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"k.$":"$['clé']"},"End":true}}}`, `{"clé":"日本語 ✓"}`, nil),
		dc("wait seconds", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"S"},"S":{"Type":"Succeed"}}}`, `{"a":1}`, nil),
		dc("wait with paths", `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","InputPath":"$.in","OutputPath":"$.s","End":true}}}`, `{"in":{"s":2}}`, nil),
		dc("succeed paths", `{"StartAt":"S","States":{"S":{"Type":"Succeed","InputPath":"$.a","OutputPath":"$.b"}}}`, `{"a":{"b":[1]}}`, nil),

		// Fail
		dc("fail static", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"MyError","Cause":"my cause"}}}`, `{}`, nil),
		dc("fail paths", `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"$.c"}}}`, `{"e":"E","c":"C"}`, nil),
		dc("fail path missing", `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.nope","Cause":"x"}}}`, `{}`, nil),

		// Choice
		dc("choice StringEquals", choiceDef(`{"Variable":"$.s","StringEquals":"abc","Next":"Yes"}`), `{"s":"abc"}`, nil),
		dc("choice StringEquals type mismatch", choiceDef(`{"Variable":"$.s","StringEquals":"1","Next":"Yes"}`), `{"s":1}`, nil),
		dc("choice StringLessThan", choiceDef(`{"Variable":"$.s","StringLessThan":"b","Next":"Yes"}`), `{"s":"a"}`, nil),
		dc("choice StringGreaterThanEquals", choiceDef(`{"Variable":"$.s","StringGreaterThanEquals":"b","Next":"Yes"}`), `{"s":"a"}`, nil),
		dc("choice StringEqualsPath", choiceDef(`{"Variable":"$.s","StringEqualsPath":"$.t","Next":"Yes"}`), `{"s":"q","t":"q"}`, nil),
		dc("choice StringMatches prefix", choiceDef(`{"Variable":"$.k","StringMatches":"demo*.txt","Next":"Yes"}`), `{"k":"demo-42.txt"}`, nil),
		dc("choice StringMatches no match", choiceDef(`{"Variable":"$.k","StringMatches":"demo*.txt","Next":"Yes"}`), `{"k":"demo-42.txt.part"}`, nil),
		dc("choice StringMatches exact", choiceDef(`{"Variable":"$.k","StringMatches":"demo.txt","Next":"Yes"}`), `{"k":"demo.txt"}`, nil),
		dc("choice StringMatches multi star", choiceDef(`{"Variable":"$.k","StringMatches":"*/in/*.csv","Next":"Yes"}`), `{"k":"a/b/in/c.csv"}`, nil),
		dc("choice StringMatches star only", choiceDef(`{"Variable":"$.k","StringMatches":"*","Next":"Yes"}`), `{"k":""}`, nil),
		dc("choice NumericEquals", choiceDef(`{"Variable":"$.n","NumericEquals":0,"Next":"Yes"}`), `{"n":0}`, nil),
		dc("choice NumericEquals float", choiceDef(`{"Variable":"$.n","NumericEquals":1.5,"Next":"Yes"}`), `{"n":1.50}`, nil),
		dc("choice NumericGreaterThan", choiceDef(`{"Variable":"$.n","NumericGreaterThan":10,"Next":"Yes"}`), `{"n":10}`, nil),
		dc("choice NumericLessThanEquals", choiceDef(`{"Variable":"$.n","NumericLessThanEquals":10,"Next":"Yes"}`), `{"n":10}`, nil),
		dc("choice NumericLessThanPath", choiceDef(`{"Variable":"$.n","NumericLessThanPath":"$.m","Next":"Yes"}`), `{"n":1,"m":2}`, nil),
		dc("choice BooleanEquals", choiceDef(`{"Variable":"$.b","BooleanEquals":false,"Next":"Yes"}`), `{"b":false}`, nil),
		dc("choice TimestampLessThan", choiceDef(`{"Variable":"$.t","TimestampLessThan":"2024-01-01T00:00:00Z","Next":"Yes"}`), `{"t":"2023-12-31T23:59:59Z"}`, nil),
		dc("choice TimestampEquals offset", choiceDef(`{"Variable":"$.t","TimestampEquals":"2024-01-01T00:00:00Z","Next":"Yes"}`), `{"t":"2024-01-01T01:00:00+01:00"}`, nil),
		dc("choice IsNull", choiceDef(`{"Variable":"$.x","IsNull":true,"Next":"Yes"}`), `{"x":null}`, nil),
		dc("choice IsPresent missing", choiceDef(`{"Variable":"$.x","IsPresent":true,"Next":"Yes"}`), `{"y":1}`, nil),
		dc("choice IsPresent present", choiceDef(`{"Variable":"$.x","IsPresent":true,"Next":"Yes"}`), `{"x":false}`, nil),
		dc("choice IsNumeric", choiceDef(`{"Variable":"$.x","IsNumeric":true,"Next":"Yes"}`), `{"x":"12"}`, nil),
		dc("choice IsString", choiceDef(`{"Variable":"$.x","IsString":true,"Next":"Yes"}`), `{"x":"12"}`, nil),
		dc("choice IsBoolean", choiceDef(`{"Variable":"$.x","IsBoolean":true,"Next":"Yes"}`), `{"x":true}`, nil),
		dc("choice IsTimestamp", choiceDef(`{"Variable":"$.x","IsTimestamp":true,"Next":"Yes"}`), `{"x":"2016-03-14T01:59:00Z"}`, nil),
		dc("choice IsTimestamp not", choiceDef(`{"Variable":"$.x","IsTimestamp":true,"Next":"Yes"}`), `{"x":"2016-03-14"}`, nil),
		dc("choice And", choiceDef(`{"And":[{"Variable":"$.a","NumericGreaterThanEquals":1},{"Variable":"$.b","StringEquals":"x"}],"Next":"Yes"}`), `{"a":1,"b":"x"}`, nil),
		dc("choice Or", choiceDef(`{"Or":[{"Variable":"$.a","NumericGreaterThan":5},{"Variable":"$.b","StringEquals":"x"}],"Next":"Yes"}`), `{"a":1,"b":"y"}`, nil),
		dc("choice Not", choiceDef(`{"Not":{"Variable":"$.a","StringEquals":"x"},"Next":"Yes"}`), `{"a":"y"}`, nil),
		dc("choice nested", choiceDef(`{"And":[{"Or":[{"Variable":"$.a","IsNull":true},{"Variable":"$.a","NumericEquals":2}]},{"Not":{"Variable":"$.b","BooleanEquals":true}}],"Next":"Yes"}`), `{"a":2,"b":false}`, nil),
		dc("choice missing variable", choiceDef(`{"Variable":"$.nope","StringEquals":"x","Next":"Yes"}`), `{"a":1}`, nil),
		dc("choice no match no default", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","StringEquals":"x","Next":"S"}]},"S":{"Type":"Succeed"}}}`, `{"a":"y"}`, nil),
		dc("choice InputPath OutputPath", `{"StartAt":"C","States":{"C":{"Type":"Choice","InputPath":"$.d","OutputPath":"$.k","Choices":[{"Variable":"$.k","StringMatches":"demo*","Next":"S"}]},"S":{"Type":"Succeed"}}}`, `{"d":{"k":"demo1"}}`, nil),

		// Task
		dc("task echo parameters", oneTask(`"Parameters":{"Cluster":"c","Env":[{"Name":"B","Value.$":"$.bucket"}]},"End":true`), `{"bucket":"b"}`, map[string][]asltest.Outcome{"T": {{Echo: true}}}),
		dc("task ResultSelector ResultPath", oneTask(`"ResultSelector":{"exitCode.$":"$.Containers[0].ExitCode","stopReason.$":"$.StoppedReason"},"ResultPath":"$.task","End":true`), `{"key":"k"}`, map[string][]asltest.Outcome{"T": {okRes}}),
		dc("task ResultSelector path missing", oneTask(`"ResultSelector":{"x.$":"$.nope"},"End":true`), `{}`, map[string][]asltest.Outcome{"T": {okRes}}),
		dc("task OutputPath", oneTask(`"ResultPath":"$.r","OutputPath":"$.r.StoppedReason","End":true`), `{}`, map[string][]asltest.Outcome{"T": {okRes}}),
		dc("task ResultPath null", oneTask(`"ResultPath":null,"End":true`), `{"keep":1}`, map[string][]asltest.Outcome{"T": {okRes}}),
		dc("task error uncaught", oneTask(`"End":true`), `{}`, map[string][]asltest.Outcome{"T": {boom}}),
		dc("task retry then success", oneTask(`"Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":2}],"End":true`), `{}`, map[string][]asltest.Outcome{"T": {boom, boom, okRes}}),
		dc("task retry exhausted", oneTask(`"Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":2}],"End":true`), `{}`, map[string][]asltest.Outcome{"T": {boom, boom, boom, okRes}}),
		dc("task MaxAttempts 0", oneTask(`"Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":0}],"End":true`), `{}`, map[string][]asltest.Outcome{"T": {boom, okRes}}),
		dc("task retry States.ALL", oneTask(`"Retry":[{"ErrorEquals":["Other"]},{"ErrorEquals":["States.ALL"],"MaxAttempts":1}],"End":true`), `{}`, map[string][]asltest.Outcome{"T": {boom, okRes}}),
		dc("task retry TaskFailed", oneTask(`"Retry":[{"ErrorEquals":["States.TaskFailed"],"MaxAttempts":1}],"End":true`), `{}`, map[string][]asltest.Outcome{"T": {boom, okRes}}),
		dc("task retriers count separately", oneTask(`"Retry":[{"ErrorEquals":["A"],"MaxAttempts":1},{"ErrorEquals":["B"],"MaxAttempts":1}],"End":true`), `{}`, map[string][]asltest.Outcome{"T": {{Error: "A"}, {Error: "B"}, okRes}}),
		dc("task exhausted retrier does not fall through", oneTask(`"Retry":[{"ErrorEquals":["A"],"MaxAttempts":1},{"ErrorEquals":["States.ALL"],"MaxAttempts":3}],"End":true`), `{}`, map[string][]asltest.Outcome{"T": {{Error: "A"}, {Error: "A"}, okRes}}),
		dc("task catch default ResultPath", oneTask(`"Catch":[{"ErrorEquals":["Boom"],"Next":"Handled"}],"End":true`), `{"in":1}`, map[string][]asltest.Outcome{"T": {boom}}),
		dc("task catch ResultPath", oneTask(`"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Handled"}],"End":true`), `{"in":1}`, map[string][]asltest.Outcome{"T": {boom}}),
		dc("task catch order", oneTask(`"Catch":[{"ErrorEquals":["X"],"ResultPath":"$.x","Next":"Handled"},{"ErrorEquals":["Boom"],"ResultPath":"$.boom","Next":"Handled"},{"ErrorEquals":["States.ALL"],"ResultPath":"$.all","Next":"Handled"}],"End":true`), `{}`, map[string][]asltest.Outcome{"T": {boom}}),
		dc("task catch not matching", oneTask(`"Catch":[{"ErrorEquals":["X"],"Next":"Handled"}],"End":true`), `{}`, map[string][]asltest.Outcome{"T": {boom}}),
		dc("task retry then catch", oneTask(`"Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":1}],"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.e","Next":"Handled"}],"End":true`), `{"a":1}`, map[string][]asltest.Outcome{"T": {boom, boom}}),
		dc("task runtime error not caught", oneTask(`"ResultSelector":{"x.$":"$.nope"},"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Handled"}],"End":true`), `{}`, map[string][]asltest.Outcome{"T": {okRes}}),
		dc("task parameters error not caught", oneTask(`"Parameters":{"x.$":"$.nope"},"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Handled"}],"End":true`), `{}`, map[string][]asltest.Outcome{"T": {okRes}}),
		dc("task ResultPath match failure caught", oneTask(`"ResultPath":"$.r","Catch":[{"ErrorEquals":["States.ResultPathMatchFailure"],"ResultPath":null,"Next":"Handled"}],"End":true`), `"scalar"`, map[string][]asltest.Outcome{"T": {okRes}}),

		// Intrinsic functions
		dc("intrinsic Format", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"s.$":"States.Format('s3://{}/{} ({} bytes)', $.b, $.k, $.n)"},"End":true}}}`, `{"b":"bkt","k":"demo.txt","n":12}`, nil),
		dc("intrinsic JSON round trip", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"s.$":"States.JsonToString($.o)","o.$":"States.StringToJson($.s)"},"End":true}}}`, `{"o":{"a":[1,"x"]},"s":"{\"q\":true}"}`, nil),
		dc("intrinsic arrays", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"States.Array(1, 'two', $.n)","len.$":"States.ArrayLength($.arr)","item.$":"States.ArrayGetItem($.arr, 1)","parts.$":"States.ArrayPartition($.arr, 2)","has.$":"States.ArrayContains($.arr, 3)","range.$":"States.ArrayRange(0, 10, 5)","uniq.$":"States.ArrayUnique($.dup)"},"End":true}}}`, `{"n":3,"arr":[1,2,3],"dup":[1,1,"a","a"]}`, nil),
		dc("intrinsic math and strings", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"sum.$":"States.MathAdd($.n, -4)","split.$":"States.StringSplit($.csv, ',')","b64.$":"States.Base64Encode($.s)","dec.$":"States.Base64Decode('aGVsbG8=')","hash.$":"States.Hash($.s, 'SHA-256')","merged.$":"States.JsonMerge($.o1, $.o2, false)"},"End":true}}}`, `{"n":10,"csv":"a,b,c","s":"hello","o1":{"a":1,"b":1},"o2":{"b":2}}`, nil),
		dc("intrinsic nested", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"n.$":"States.ArrayLength(States.StringSplit($.key, '/'))","f.$":"States.Format('{}', States.ArrayGetItem(States.StringSplit($.key, '/'), 1))"},"End":true}}}`, `{"key":"in/demo-1.txt"}`, nil),
		dc("intrinsic ArrayUnique deep equality", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"u.$":"States.ArrayUnique($.a)"},"End":true}}}`,
			`{"a":[1,1.0,"1",{"x":1,"y":[2,{"z":null}]},{"y":[2,{"z":null}],"x":1},[1,"a"],["a",1],[1,"a"],true,true,null,null,{},[],"",""]}`, nil),
		dc("intrinsic MathAdd at the int32 bounds", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"max.$":"States.MathAdd(2147483646, 1)","min.$":"States.MathAdd($.min, 0)","both.$":"States.MathAdd($.min, 2147483647)"},"End":true}}}`,
			`{"min":-2147483648}`, nil),
		dc("intrinsic runtime failure", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"States.Format('{} {}', $.a)"},"End":true}}}`, `{"a":1}`, nil),
	}

	// Map states. Task outcomes go by input (byInput) so that concurrent
	// iterations behave the same in both engines whatever their order.
	byInput := map[string][]asltest.Outcome{"T": {{ByInput: true}}}
	mapOf := func(fields, start, states string) string {
		return `{"StartAt":"M","States":{"M":{"Type":"Map",` + fields + `"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"` + start + `","States":{` + states + `}},"End":true}}}`
	}
	task := `"T":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync","End":true}`
	cases = append(cases,
		dc("map input array", mapOf(``, "P", `"P":{"Type":"Pass","End":true}`), `[1,{"a":[2]},"s",null]`, nil),
		dc("map empty array", mapOf(`"ItemsPath":"$.xs",`, "P", `"P":{"Type":"Pass","End":true}`), `{"xs":[]}`, nil),
		dc("map ItemsPath ItemSelector context", mapOf(`"ItemsPath":"$.xs","ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value","c.$":"$.common","lit":[1]},`, "P", `"P":{"Type":"Pass","End":true}`),
			`{"xs":["a",{"b":1}],"common":{"k":true}}`, nil),
		dc("map Parameters legacy", mapOf(`"ItemsPath":"$.xs","Parameters":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},`, "P", `"P":{"Type":"Pass","End":true}`), `{"xs":[3,4]}`, nil),
		dc("map Iterator legacy", `{"StartAt":"M","States":{"M":{"Type":"Map","Iterator":{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"r","End":true}}},"End":true}}}`, `[1,2]`, nil),
		dc("map InputPath ResultSelector ResultPath OutputPath", mapOf(`"InputPath":"$.in","ItemsPath":"$.xs","ResultSelector":{"all.$":"$","n.$":"States.ArrayLength($)"},"ResultPath":"$.res","OutputPath":"$.res",`, "P", `"P":{"Type":"Pass","Parameters":{"x.$":"$"},"End":true}`),
			`{"in":{"xs":[1,2,3]}}`, nil),
		dc("map ResultPath merges", mapOf(`"ItemsPath":"$.xs","ResultPath":"$.out",`, "P", `"P":{"Type":"Pass","Result":"z","End":true}`), `{"xs":[1,2],"keep":"me"}`, nil),
		dc("map MaxConcurrency 1", mapOf(`"MaxConcurrency":1,`, "T", task), `[{"a":1},{"a":2},{"a":3}]`, byInput),
		dc("map MaxConcurrencyPath", mapOf(`"ItemsPath":"$.xs","MaxConcurrencyPath":"$.mc",`, "T", task), `{"xs":[{"a":1},{"a":2}],"mc":1}`, byInput),
		dc("map ItemsPath not an array", mapOf(`"ItemsPath":"$.xs",`, "P", `"P":{"Type":"Pass","End":true}`), `{"xs":{"a":1}}`, nil),
		dc("map task error fails the Map", mapOf(``, "T", task), `[{"a":1},{"error":"BoardLost","cause":"gone"},{"a":3}]`, byInput),
		dc("map Fail inside", mapOf(``, "F", `"F":{"Type":"Fail","Error":"Bad","Cause":"item"}`), `[1]`, nil),
		dc("map Catch on the Map", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Bad","Cause":"item"}}},
			"Catch":[{"ErrorEquals":["Bad"],"ResultPath":"$.err","Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`, `[1,2]`, nil),
		dc("map Retry on the Map then Catch", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"T","States":{`+task+`}},
			"Retry":[{"ErrorEquals":["BoardLost"],"MaxAttempts":2}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`,
			`[{"error":"BoardLost","cause":"gone"}]`, byInput),
		dc("map fleet pattern", `{"StartAt":"Fleet","States":{"Fleet":{"Type":"Map","ItemsPath":"$.boards","MaxConcurrency":2,
			"ItemSelector":{"board.$":"$$.Map.Item.Value","cluster.$":"$.cluster"},
			"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"T","States":{
				"T":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync","InputPath":"$.board","ResultSelector":{"id.$":"$.id"},"ResultPath":"$.task",
					"Retry":[{"ErrorEquals":["ECS.ThrottlingException"],"MaxAttempts":2}],
					"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.failure","Next":"Failed"}],"Next":"Delivered"},
				"Delivered":{"Type":"Pass","Parameters":{"board.$":"$.task.id","status":"delivered"},"End":true},
				"Failed":{"Type":"Pass","Parameters":{"board.$":"$.board.id","status":"failed","error.$":"$.failure.Error","cause.$":"$.failure.Cause"},"End":true}}},
			"ResultPath":"$.outcomes","End":true}}}`,
			`{"cluster":"edge","boards":[{"id":"b1"},{"id":"b2","error":"ECS.TaskFailed","cause":"exit 3"},{"id":"b3","error":"ECS.ThrottlingException","cause":"slow down"}]}`, byInput),
		dc("map no $$.Map inside the iteration", mapOf(``, "P", `"P":{"Type":"Pass","Parameters":{"i.$":"$$.Map.Item.Index"},"End":true}`), `[1]`, nil),
		dc("map nested", `{"StartAt":"Outer","States":{"Outer":{"Type":"Map","ItemsPath":"$.rows","ItemSelector":{"row.$":"$$.Map.Item.Index","cells.$":"$$.Map.Item.Value"},
			"ItemProcessor":{"StartAt":"Inner","States":{"Inner":{"Type":"Map","ItemsPath":"$.cells","ItemSelector":{"row.$":"$.row","col.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value"},
				"ItemProcessor":{"StartAt":"Cell","States":{"Cell":{"Type":"Pass","End":true}}},"End":true}}},"End":true}}}`, `{"rows":[["a","b"],["c"],[]]}`, nil),
	)

	// Invalid definitions: both engines must reject them.
	cases = append(cases,
		dc("invalid map without ItemProcessor", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true}}}`, `[]`, nil),
		dc("invalid map transition out of the iteration", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"After"}}},"Next":"After"},"After":{"Type":"Succeed"}}}`, `[]`, nil),
		dc("invalid map duplicate state name", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"After","States":{"After":{"Type":"Pass","End":true}}},"Next":"After"},"After":{"Type":"Succeed"}}}`, `[]`, nil),
		dc("invalid map inner StartAt", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"Q","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`, `[]`, nil),
		dc("invalid unreachable state", `{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}`, `{}`, nil),
		dc("invalid missing Next target", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Z"}}}`, `{}`, nil),
		dc("invalid path", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"nope","End":true}}}`, `{}`, nil),
		dc("invalid Next and End", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A","End":true}}}`, `{}`, nil),
		dc("invalid Wait two durations", `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`, `{}`, nil),
		dc("invalid Task two timeouts", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync","TimeoutSeconds":1,"TimeoutSecondsPath":"$.t","End":true}}}`, `{}`, nil),
		dc("invalid unknown state type", `{"StartAt":"A","States":{"A":{"Type":"Sleep","End":true}}}`, `{}`, nil),
		dc("invalid choice without Choices", `{"StartAt":"A","States":{"A":{"Type":"Choice","Default":"B"},"B":{"Type":"Succeed"}}}`, `{}`, nil),
		dc("invalid duplicate payload field", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x":1,"x.$":"$.a"},"End":true}}}`, `{}`, nil),
	)

	event := func(key string) string { return asltest.S3Event(t, key) }
	ecs := func(exit int) asltest.Outcome {
		return asltest.Outcome{Result: asltest.StoppedTask(exit, "Essential container in task exited")}
	}
	// The definition constructs/pipeline synthesizes (its golden copy).
	// Its DeliveryFailed state uses an intrinsic CausePath (see above), so
	// only the paths that do not reach it are compared.
	pdef := asltest.ReadGolden(t, "pipeline.asl.json")
	cases = append(cases,
		dc("pipeline delivered", string(pdef), event("demo-1.txt"), map[string][]asltest.Outcome{"DownloadToBoard": {ecs(0)}}),
		dc("pipeline skipped", string(pdef), event("other.txt"), nil),
		dc("pipeline retried then delivered", string(pdef), event("demo-2.txt"), map[string][]asltest.Outcome{"DownloadToBoard": {{Error: "ECS.ThrottlingException", Cause: "Rate exceeded"}, {Error: "ECS.ServerException"}, ecs(0)}}),
		// The task's report as the state's result (what SendTaskSuccess makes it).
		dc("pipeline reported up_to_date", string(pdef), event("demo-5.txt"), map[string][]asltest.Outcome{"DownloadToBoard": {{Result: map[string]any{
			"mode": "download", "status": "up_to_date", "exitCode": 0, "summary": "up_to_date"}}}}),
		dc("pipeline reported gone", string(pdef), event("demo-6.txt"), map[string][]asltest.Outcome{"DownloadToBoard": {{Result: map[string]any{
			"mode": "download", "status": "gone", "exitCode": 4, "summary": "gone"}}}}),
	)
	return cases
}

// findNodeModules walks up from the package directory to the directory
// holding node_modules/aws-local-stepfunctions.
func findNodeModules() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "aws-local-stepfunctions", "package.json")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("node_modules/aws-local-stepfunctions not found above the package directory (run `npm ci` at the repository root)")
		}
		dir = parent
	}
}

func runNode(t *testing.T, cases []diffCase) map[string]diffResult {
	t.Helper()
	skip := os.Getenv("EDGE_DROP_SKIP_NODE") == "1"
	node, err := exec.LookPath("node")
	if err != nil {
		if skip {
			t.Skip("EDGE_DROP_SKIP_NODE=1 and node is not installed")
		}
		t.Fatalf("node is required for the differential tests (or set EDGE_DROP_SKIP_NODE=1): %v", err)
	}
	if _, err := findNodeModules(); err != nil {
		if skip {
			t.Skip("EDGE_DROP_SKIP_NODE=1: " + err.Error())
		}
		t.Fatalf("%v (or set EDGE_DROP_SKIP_NODE=1)", err)
	}
	// aws-local-stepfunctions validates each definition with a freshly
	// compiled JSON schema (~0.2 s per case), so the cases are split across
	// two node processes running concurrently.
	const workers = 2
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results []diffResult
		errs    []string
	)
	for w := 0; w < workers; w++ {
		var chunk []diffCase
		for i := w; i < len(cases); i += workers {
			chunk = append(chunk, cases[i])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := runNodeChunk(node, chunk)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err.Error())
			}
			results = append(results, res...)
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(strings.Join(errs, "\n"))
	}
	out := map[string]diffResult{}
	for _, r := range results {
		out[r.Name] = r
	}
	return out
}

func runNodeChunk(node string, cases []diffCase) ([]diffResult, error) {
	in, err := json.Marshal(cases)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "testdata/aslrun.mjs")
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("node testdata/aslrun.mjs: %v\nstderr:\n%s", err, stderr.String())
	}
	var results []diffResult
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
		return nil, fmt.Errorf("decoding node output: %v\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	return results, nil
}

func runGo(t *testing.T, c diffCase) diffResult {
	t.Helper()
	m, err := Parse(c.Definition)
	if err != nil {
		return diffResult{Name: c.Name, Status: "INVALID", Error: "Invalid", Cause: err.Error(), Output: json.RawMessage("null")}
	}
	// The npm package overrides tasks by state name; the Go handler sees the
	// resource, so map resources back to state names (resources are unique
	// per Task state in these cases).
	var def diffScope
	if err := json.Unmarshal(c.Definition, &def); err != nil {
		t.Fatal(err)
	}
	script := map[string][]asltest.Outcome{}
	var visit func(states map[string]diffState)
	visit = func(states map[string]diffState) {
		for name, st := range states {
			if st.Type == "Map" {
				for _, sub := range []*diffScope{st.ItemProcessor, st.Iterator} {
					if sub != nil {
						visit(sub.States)
					}
				}
			}
			if st.Type != "Task" {
				continue
			}
			if _, dup := script[st.Resource]; dup {
				t.Fatalf("case %q: Task resources must be unique", c.Name)
			}
			outs := c.Tasks[name]
			if outs == nil {
				outs = []asltest.Outcome{{Echo: true}}
			}
			script[st.Resource] = outs
		}
	}
	visit(def.States)
	tasks := asltest.NewTasks(script)
	input := asltest.JSON(t, string(c.Input))
	e := m.Execute(context.Background(), input, Options{Task: tasks.Handle,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	out, err := json.Marshal(e.Output)
	if err != nil {
		t.Fatal(err)
	}
	return diffResult{Name: c.Name, Status: e.Status, Output: out, Error: e.Error, Cause: e.Cause}
}

// diffScope is the part of a definition runGo needs: the Task states (also
// those inside Map states) and their resources.
type diffScope struct {
	States map[string]diffState
}

type diffState struct {
	Type, Resource          string
	ItemProcessor, Iterator *diffScope
}

func TestDifferentialAgainstAWSLocalStepFunctions(t *testing.T) {
	cases := differentialCases(t)
	nodeResults := runNode(t, cases)
	if len(nodeResults) != len(cases) {
		t.Fatalf("node returned %d results for %d cases (duplicate names?)", len(nodeResults), len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			want := nodeResults[c.Name]
			got := runGo(t, c)
			if got.Status != want.Status {
				t.Fatalf("status: go %s (%s: %s), aws-local-stepfunctions %s (%s: %s)", got.Status, got.Error, got.Cause, want.Status, want.Error, want.Cause)
			}
			if got.Error != want.Error {
				t.Errorf("error: go %q (%s), aws-local-stepfunctions %q (%s)", got.Error, got.Cause, want.Error, want.Cause)
			}
			if got.Status != "INVALID" && got.Error != "" && !strings.HasPrefix(got.Error, "States.") && got.Cause != want.Cause {
				t.Errorf("cause: go %q, aws-local-stepfunctions %q", got.Cause, want.Cause)
			}
			if g, w := asltest.Canon(t, json.RawMessage(got.Output)), asltest.Canon(t, json.RawMessage(want.Output)); g != w {
				t.Errorf("output:\n  go:   %s\n  node: %s", g, w)
			}
		})
	}
}
