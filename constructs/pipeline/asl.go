package pipeline

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
)

// Small helpers that keep the states' definitions readable.

// at is a literal string (a state name, a comment, a path).
func at(s string) *string { return jsii.String(s) }

// str, num and list read the state's input at a JsonPath.
func str(path string) *string     { return awsstepfunctions.JsonPath_StringAt(at(path)) }
func num(path string) *float64    { return awsstepfunctions.JsonPath_NumberAt(at(path)) }
func list(path string) *[]*string { return awsstepfunctions.JsonPath_ListAt(at(path)) }

// present is IsPresent then the type test: a type test on a missing path is
// a States.Runtime error, and And stops at the first false.
func present(p string, is func(*string) awsstepfunctions.Condition) []awsstepfunctions.Condition {
	return []awsstepfunctions.Condition{awsstepfunctions.Condition_IsPresent(jsii.String(p)), is(jsii.String(p))}
}

// and joins groups of conditions into one And.
func and(conds ...[]awsstepfunctions.Condition) awsstepfunctions.Condition {
	return awsstepfunctions.Condition_And(slices.Concat(conds...)...)
}

// ptr is a pointer to m, as CDK's props want their maps.
func ptr(m map[string]any) *map[string]any { return &m }
