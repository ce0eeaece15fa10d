package asl

import (
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, def string
		want      []string // substrings of the error
	}{
		{"not json", `{`, []string{"not a JSON object"}},
		{"missing StartAt", `{"States":{"A":{"Type":"Succeed"}}}`, []string{"StartAt"}},
		{"StartAt unknown", `{"StartAt":"X","States":{"A":{"Type":"Succeed"}}}`, []string{`StartAt "X"`}},
		{"no States", `{"StartAt":"A"}`, []string{"States"}},
		{"JSONata top-level", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, []string{"QueryLanguage", "JSONata"}},
		{"JSONata state", `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"QueryLanguage":"JSONata","End":true}}}`, []string{`state "A"`, "QueryLanguage"}},
		{"Map without ItemProcessor", `{"StartAt":"A","States":{"A":{"Type":"Map","End":true}}}`, []string{`state "A"`, "field ItemProcessor", "missing"}},
		{"Parallel", `{"StartAt":"A","States":{"A":{"Type":"Parallel","End":true}}}`, []string{"Parallel states are not supported"}},
		{"unknown type", `{"StartAt":"A","States":{"A":{"Type":"Foo","End":true}}}`, []string{`unknown state type "Foo"`}},
		{"Assign unsupported", `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"x":1},"End":true}}}`, []string{`state "A"`, "field Assign", "not supported"}},
		{"Arguments unsupported", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Arguments":{},"End":true}}}`, []string{"field Arguments"}},
		{"Result on Task", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Result":{},"End":true}}}`, []string{"field Result", "Task"}},
		{"Next target missing", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`, []string{`state "A"`, "field Next", `"B" does not exist`}},
		{"Default target missing", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"A"}],"Default":"Z"}}}`, []string{"field Default", `"Z"`}},
		{"Choice Next missing target", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"Q"}]}}}`, []string{"Choices[0].Next", `"Q"`}},
		{"Catch target missing", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Next":"H"}],"End":true}}}`, []string{"Catch[0].Next", `"H"`}},
		{"Next and End", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A","End":true}}}`, []string{"both Next and End"}},
		{"neither Next nor End", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, []string{"must have Next or End"}},
		{"unknown operator", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","StringContains":"a","Next":"A"}]}}}`, []string{`state "A"`, "Choices[0].StringContains", "unsupported comparison operator"}},
		{"nested unknown operator", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.x","IsPresent":true},{"Variable":"$.x","Foo":1}],"Next":"A"}]}}}`, []string{"Choices[0].And[1].Foo"}},
		{"two operators", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","StringEquals":"a","IsPresent":true,"Next":"A"}]}}}`, []string{"exactly one comparison operator"}},
		{"wrong operand type", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":"1","Next":"A"}]}}}`, []string{"NumericEquals", "must be a number"}},
		{"bad timestamp operand", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","TimestampEquals":"yesterday","Next":"A"}]}}}`, []string{"RFC 3339"}},
		{"Next inside nested rule", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.x","IsPresent":true,"Next":"A"},"Next":"A"}]}}}`, []string{"Choices[0].Not.Next"}},
		{"unsupported intrinsic", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope($.a)"},"End":true}}}`, []string{`state "A"`, "Parameters", "x.$", `unsupported intrinsic function "States.Nope"`}},
		{"intrinsic arity", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.MathAdd(1)"},"End":true}}}`, []string{"States.MathAdd takes exactly 2"}},
		{"bad JSONPath", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"$.a[["},"End":true}}}`, []string{"Parameters", "x.$", "invalid JSONPath"}},
		{"path not starting with $", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"a.b","End":true}}}`, []string{"field InputPath", "must start with '$'"}},
		{"ResultPath wildcard", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`, []string{"field ResultPath", "reference path"}},
		{"ResultPath descendant", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$..a","End":true}}}`, []string{"field ResultPath"}},
		{"States.ALL not alone", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["States.ALL","X"]}],"End":true}}}`, []string{"field Retry", "States.ALL must appear alone"}},
		{"States.ALL not last", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Next":"A"},{"ErrorEquals":["X"],"Next":"A"}],"End":true}}}`, []string{"field Catch", "States.ALL"}},
		{"bad JitterStrategy", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["X"],"JitterStrategy":"HALF"}],"End":true}}}`, []string{"JitterStrategy"}},
		{"BackoffRate < 1", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["X"],"BackoffRate":0.5}],"End":true}}}`, []string{"BackoffRate"}},
		{"IntervalSeconds 0", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["X"],"IntervalSeconds":0}],"End":true}}}`, []string{"IntervalSeconds"}},
		{"unknown retrier field", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["X"],"Foo":1}],"End":true}}}`, []string{"Retry", "[0].Foo"}},
		{"TimeoutSeconds 0", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","TimeoutSeconds":0,"End":true}}}`, []string{"TimeoutSeconds", ">= 1"}},
		{"Timeout and TimeoutPath", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","TimeoutSeconds":5,"TimeoutSecondsPath":"$.t","End":true}}}`, []string{"TimeoutSecondsPath"}},
		{"Task without Resource", `{"StartAt":"A","States":{"A":{"Type":"Task","End":true}}}`, []string{"field Resource"}},
		{"Wait with two durations", `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`, []string{"exactly one of Seconds"}},
		{"Fail Cause and CausePath", `{"StartAt":"A","States":{"A":{"Type":"Fail","Cause":"x","CausePath":"$.c"}}}`, []string{"CausePath", "together with Cause"}},
		{"Fail with InputPath", `{"StartAt":"A","States":{"A":{"Type":"Fail","InputPath":"$"}}}`, []string{"field InputPath", "Fail"}},
		{"duplicate output key", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x":1,"x.$":"$.a"},"End":true}}}`, []string{"both produce"}},
		{"unreachable state", `{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}`, []string{`state "B" is not reachable`}},
		{"Heartbeat and HeartbeatPath", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","HeartbeatSeconds":5,"HeartbeatSecondsPath":"$.h","End":true}}}`, []string{"HeartbeatSecondsPath"}},
		{"End not boolean", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":"yes"}}}`, []string{"field End"}},
		{"End false without Next", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":false}}}`, []string{"must have Next or End"}},
		// Was accepted, and ran as End: AWS rejects a Next that names no state.
		{"empty Next", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":""}}}`, []string{`state "A"`, "field Next", "must name a state"}},
		{"unknown top-level field", `{"StartAt":"A","States":{"A":{"Type":"Succeed"}},"Foo":1}`, []string{`top-level field "Foo"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.def))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseAcceptsCommonFields(t *testing.T) {
	def := `{"Comment":"c","Version":"1.0","TimeoutSeconds":60,"QueryLanguage":"JSONPath","StartAt":"A","States":{
		"A":{"Type":"Task","Comment":"c","QueryLanguage":"JSONPath","Resource":"r","HeartbeatSecondsPath":"$.h","End":false,"InputPath":"$","OutputPath":"$","ResultPath":"$.r","ResultSelector":{"a":1},"Parameters":{"b":2},"Retry":[{"ErrorEquals":["X"],"Comment":"c","IntervalSeconds":1,"MaxAttempts":2,"BackoffRate":1.5,"MaxDelaySeconds":3,"JitterStrategy":"NONE"}],"Catch":[{"ErrorEquals":["States.ALL"],"Comment":"c","ResultPath":null,"Next":"B"}],"Next":"B"},
		"B":{"Type":"Wait","Timestamp":"2024-01-01T00:00:00Z","Next":"C"},
		"C":{"Type":"Choice","Choices":[{"Comment":"c","Variable":"$.x","IsPresent":true,"Next":"D"}],"Default":"E"},
		"D":{"Type":"Succeed"},"E":{"Type":"Fail","ErrorPath":"States.Format('{}', $.e)","CausePath":"$$.State.Name"}}}`
	if _, err := Parse([]byte(def)); err != nil {
		t.Fatal(err)
	}
}
