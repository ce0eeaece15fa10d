package asl_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	. "github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// A JSONata Choice in a JSONPath machine: what JSONPath cannot test (a
// string's length, a regular expression) decides the branch; the state's
// output is its input.
const jsonataChoice = `{"StartAt":"IsAName","States":{
	"IsAName":{"Type":"Choice","QueryLanguage":"JSONata","Choices":[
		{"Condition":"{% $type($states.input.name) = 'string' and $contains($string($states.input.name), /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/) %}","Next":"Good"}],
		"Default":"Bad"},
	"Good":{"Type":"Pass","End":true},
	"Bad":{"Type":"Fail","Error":"Bad"}}}`

func TestJSONataChoiceTestsWhatJSONPathCannot(t *testing.T) {
	m := asltest.MustParse(t, jsonataChoice)
	for name, want := range map[string]string{
		"shop-1":                 StatusSucceeded,
		strings.Repeat("x", 63):  StatusSucceeded,
		strings.Repeat("x", 64):  StatusFailed,
		"-x":                     StatusFailed,
		"a b":                    StatusFailed,
		"ünï":                    StatusFailed,
		"":                       StatusFailed,
		"shop\nattribute:x == 1": StatusFailed,
	} {
		e := m.Execute(context.Background(), asltest.JSON(t, `{"name":`+strconv.Quote(name)+`,"n":12345678901234567890}`), Options{})
		if e.Status != want {
			t.Errorf("%q: %s %s, want %s", name, e.Status, e.Cause, want)
		}
		if want == StatusSucceeded {
			asltest.AssertJSON(t, e.Output, `{"name":`+strconv.Quote(name)+`,"n":12345678901234567890}`)
		}
	}
	if e := m.Execute(context.Background(), map[string]any{"name": 7}, Options{}); e.Status != StatusFailed || e.Error != "Bad" {
		t.Errorf("a number: %s %s", e.Status, e.Error)
	}
}

func TestJSONataChoiceErrors(t *testing.T) {
	notBool := strings.Replace(jsonataChoice, "$type($states.input.name) = 'string' and $contains($string($states.input.name), /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/)", "$states.input.name", 1)
	e := asltest.MustParse(t, notBool).Execute(context.Background(), map[string]any{"name": "x"}, Options{})
	if e.Status != StatusFailed || e.Error != ErrQueryEvaluation || !strings.Contains(e.Cause, "boolean") {
		t.Errorf("a non-boolean condition: %s %s %s", e.Status, e.Error, e.Cause)
	}
	for _, bad := range []string{
		strings.Replace(jsonataChoice, `"QueryLanguage":"JSONata",`, `"QueryLanguage":"JSONata","InputPath":"$.x",`, 1),
		strings.Replace(jsonataChoice, `{% $type`, `$type`, 1),
		strings.Replace(jsonataChoice, `"Condition"`, `"Variable":"$.x","Condition"`, 1),
		strings.Replace(jsonataChoice, `"Good":{"Type":"Pass",`, `"Good":{"Type":"Wait","Seconds":1,"QueryLanguage":"JSONata",`, 1),
		strings.Replace(jsonataChoice, `$contains(`, `$contains((`, 1),
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("parsed: %s", bad)
		}
	}
}
