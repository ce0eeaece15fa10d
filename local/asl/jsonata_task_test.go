package asl

import (
	"context"
	"testing"
)

// A JSONata Task: Arguments from $states.input and the context, Output
// from the result; a Catch's Output sees the error; without it the
// output is the error output.
func TestJSONataTask(t *testing.T) {
	def := `{"StartAt":"T","States":{
	  "T":{"Type":"Task","QueryLanguage":"JSONata","Resource":"r","Arguments":"{% {'k': $decodeUrlComponent($replace($states.input.key, '+', ' ')), 'at': $states.context.State.EnteredTime} %}",
	       "Output":"{% {'in': $states.input, 'got': $states.result} %}","Next":"U"},
	  "U":{"Type":"Task","QueryLanguage":"JSONata","Resource":"fail","Arguments":{"x":"{% $states.input.got.k %}","gone":"{% $states.input.nothing %}"},
	       "Catch":[{"ErrorEquals":["Bad"],"Next":"V","Output":"{% {'kept': $states.input.in, 'error': $states.errorOutput} %}"}],"End":true},
	  "V":{"Type":"Pass","OutputPath":"$.kept","End":true}}}`
	m, err := Parse([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	var seen []any
	ex := m.Execute(context.Background(), map[string]any{"key": "a+b%2Bc.txt"}, Options{Task: func(_ context.Context, res string, p any) (any, error) {
		seen = append(seen, p)
		if res == "fail" {
			return nil, &Error{Name: "Bad", Cause: "no"}
		}
		return p, nil
	}})
	if ex.Status != StatusSucceeded {
		t.Fatalf("%s %s %s", ex.Status, ex.Error, ex.Cause)
	}
	if got := toJSONString(ex.Output); got != `{"key":"a+b%2Bc.txt"}` {
		t.Errorf("output %s", got)
	}
	if k := seen[0].(map[string]any)["k"]; k != "a b+c.txt" {
		t.Errorf("decoded key %v", k)
	}
	if got := toJSONString(seen[1]); got != `{"x":"a b+c.txt"}` {
		t.Errorf("arguments %s (an undefined field is left out)", got)
	}
}

func TestJSONataTaskInAMap(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"P","States":{
	  "P":{"Type":"Pass","Parameters":{"board.$":"$"},"Next":"T"},
	  "T":{"Type":"Task","QueryLanguage":"JSONata","Resource":"r","Arguments":"{% {'b': $states.input.board, 'k': $states.context.Execution.Input.detail.object.key} %}",
	       "Output":"{% $states.input %}","Retry":[{"ErrorEquals":["X"],"MaxAttempts":1}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"F","Output":"{% {'o': $states.input} %}"}],"End":true},
	  "F":{"Type":"Pass","OutputPath":"$.o","End":true}}},"End":true}}}`
	m, err := Parse([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	ex := m.Execute(context.Background(), map[string]any{"items": []any{"a", "b"}, "detail": map[string]any{"object": map[string]any{"key": "k"}}},
		Options{Task: func(_ context.Context, res string, p any) (any, error) {
			if p.(map[string]any)["b"] == "b" {
				return nil, &Error{Name: "X"}
			}
			return p, nil
		}})
	if ex.Status != StatusSucceeded || toJSONString(ex.Output) != `[{"board":"a"},{"board":"b"}]` {
		t.Fatalf("%s %s %s %s", ex.Status, ex.Error, ex.Cause, toJSONString(ex.Output))
	}
}
