// Package asl is a small interpreter for AWS Step Functions state
// machines written in the Amazon States Language with the JSONPath query
// language. It runs the subset that edge-drop's CDK-synthesized definition
// uses so the same definition can run on one machine, with Task states served
// by a local TaskHandler.
//
// Supported: Pass, Task, Choice, Wait, Succeed, Fail and inline Map states;
// InputPath, Parameters (nested objects/arrays, "key.$" paths and intrinsic
// functions),
// ResultSelector, ResultPath (null, "$", nested paths created on demand) and
// OutputPath; the context object ($$.Execution.Id/Name/StartTime/Input,
// $$.State.Name/EnteredTime/RetryCount, $$.StateMachine.Id/Name, and in Task
// states $$.Task.Token: one per attempt, which ends the pending state
// through TaskTokens' SendTaskSuccess/SendTaskFailure, as AWS allows for
// callback and .sync states alike; the first of the token and the handler
// decides, and a token is good once); every Choice
// comparison operator (String*/Numeric*/Boolean*/Timestamp* and their Path
// variants, StringMatches, Is*, And/Or/Not); Retry (IntervalSeconds,
// MaxAttempts, BackoffRate, MaxDelaySeconds, JitterStrategy) and Catch with
// States.ALL and States.TaskFailed; Task TimeoutSeconds/TimeoutSecondsPath
// (HeartbeatSeconds is validated, then ignored); the top-level TimeoutSeconds;
// Fail Error/Cause/ErrorPath/CausePath (paths or intrinsic functions); all 18
// JSONPath intrinsic functions (States.Format ... States.UUID).
//
// Map states run inline: ItemsPath (default "$", must select an array,
// else States.Runtime), ItemSelector or its legacy name Parameters (with
// $$.Map.Item.Index and $$.Map.Item.Value), ItemProcessor or the legacy
// Iterator (ProcessorConfig Mode INLINE; its states form their own scope:
// transitions stay inside, names are unique in the whole machine),
// MaxConcurrency or MaxConcurrencyPath (0 = no limit; at most 40 run at once,
// as in AWS), ResultSelector, ResultPath, OutputPath, Retry and Catch on the
// Map state and on the states inside. Results keep item order. The first
// iteration that fails fails the Map state with its error (a Fail state
// inside included, which the Map's Catch may handle) and cancels the others.
// An execution runs at most MaxMapItems (10,000) Map items, all its Map
// states (nested, retried) together; more fail with States.Runtime.
// Iterations run concurrently: the Task handler, Sleep, Now and Rand are then
// called concurrently; Observer calls are serialized. Events of iterations carry
// Event.Iteration ("Fleet[2]"); Step.Iterations holds each iteration's path.
//
// Parse enforces the AWS limits that keep every duration within
// time.Duration: TimeoutSeconds, HeartbeatSeconds (below TimeoutSeconds),
// Wait Seconds, Retry IntervalSeconds and MaxAttempts up to 99999999,
// MaxDelaySeconds up to 31622400. Durations that come from the input
// (SecondsPath, TimeoutSecondsPath) and retry backoff saturate instead of
// overflowing. Intrinsic functions round non-integer arguments where AWS
// does (States.MathAdd, States.MathRandom, States.ArrayRange,
// States.ArrayPartition; halves up) and States.MathAdd takes 32-bit integers.
//
// Errors follow AWS: a path that selects nothing, a bad intrinsic call or an
// unusable SecondsPath is States.Runtime, which fails the execution and is
// never retried or caught (not even by States.ALL); ResultPath that cannot be
// applied is States.ResultPathMatchFailure; a Choice without a match and
// without Default is States.NoChoiceMatched. Causes are cut at 32,768 characters,
// the AWS limit. A Task handler that panics or returns a typed nil error
// fails its state with States.TaskFailed; an Observer that panics fails the
// execution with States.Runtime. Neither takes the process down.
//
// JSONata in Choice states ("QueryLanguage": "JSONata" on the state,
// rules {"Condition": "{% … %}", "Next"}, $states.input and
// $states.context bound; a non-boolean result or a failing expression is
// States.QueryEvaluationError), for what JSONPath cannot test, such as a
// string's length. JSONata Pass states too: Output ({% … %}, the same
// bindings, Step Functions' $parse registered) is the state's output (a
// coalesced batch's read, constructs/pipeline ReadBatch).
//
// Not supported, rejected by Parse with an error naming the state and field:
// QueryLanguage JSONata elsewhere (top level, other states, Assign),
// Parallel states, Distributed Map states (Mode
// DISTRIBUTED, ItemReader, ItemBatcher, ResultWriter, ToleratedFailure*,
// Label), variables (Assign), Arguments and Output, Credentials, unknown
// comparison operators and intrinsic functions. Parse also rejects what AWS rejects: unknown fields, missing
// or empty transition targets, unreachable states, States.ALL not alone and last.
//
// JSONPath is RFC 9535 (github.com/theory/jsonpath). Definite paths select one
// value; indefinite paths (wildcards, slices, filters, "..") select an array,
// as with the Jayway implementation AWS uses. Dot-notation names RFC 9535 does
// not allow in shorthand but AWS does ("$.detail-type") are accepted. Jayway
// functions such as length() are not.
//
// Each state kind is its own type with its own parse and run (pass.go,
// task.go, choice.go, wait.go, terminal.go for Succeed and Fail, map.go);
// what they share is in states.go (transitions, Retry and Catch),
// dataflow.go (InputPath to OutputPath), stateparser.go and recovery.go.
//
// Values are generic JSON: map[string]any, []any, json.Number, string, bool
// and nil. Inputs (pass decoded values or a json.RawMessage) and task results
// of other Go types are normalized through encoding/json; numbers are kept as
// json.Number so they are output exactly as they came in.
package asl
