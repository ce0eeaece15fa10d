package stacks

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/constructs/alarms"
	"github.com/edge-drop/edge-drop/contract"
	statemachine "github.com/edge-drop/edge-drop/local/asl" // named so: stacks has its own asl helper
)

// Sync configurations: the default (syncEvery 6h, no mirroring), both
// features off, on-demand only with mirroring, a group target and routing
// by key.
var syncConfigs = map[string]map[string]any{
	"sync-off":       {config.KeySyncEvery: "off", config.KeyMirrorDeletes: "false"},
	"sync-on-demand": {config.KeySyncEvery: "off", config.KeyMirrorDeletes: "true", config.KeyRuleKeyPrefix: "demo"},
	"sync-group":     {config.KeyDeliverTo: "group:site1", config.KeyMirrorDeletes: "true", config.KeySyncEvery: "30m"},
	"sync-routed":    {config.KeyRoutePrefix: "to/", config.KeyKeyPattern: "to/*"},
}

func syncPipeline(t *testing.T, name string) assertions.Template {
	t.Helper()
	return assertions.Template_FromStack(synthCached(t, name, syncConfigs[name]).Pipeline.Stack, nil)
}

// syncTaskEnv is the sync task's environment: name → value or "path.$".
func syncTaskEnv(t *testing.T, def map[string]any) map[string]any {
	t.Helper()
	run := get(t, def, "States", "ChooseBoards", "Next")
	if run != "ListBoards" {
		t.Fatalf("ChooseBoards goes to %v", run)
	}
	iter := get(t, def, "States", "DeliverToEachBoard", "ItemProcessor", "States", "DeliverToBoard", "Parameters", "Overrides", "ContainerOverrides", 0)
	out := map[string]any{}
	for _, e := range get(t, iter, "Environment").([]any) {
		e := e.(map[string]any)
		if v, ok := e["Value"]; ok {
			out[e["Name"].(string)] = v
		} else {
			out[e["Name"].(string)+".$"] = e["Value.$"]
		}
	}
	return out
}

func TestSyncStateMachineAndItsSchedule(t *testing.T) {
	tpl := defaultPipeline(t)
	smID, sm := onlyOf(t, tpl, "AWS::StepFunctions::StateMachine", "Sync")
	equalJSON(t, "name", sm["StateMachineName"], "EdgeDrop-Sync")
	equalJSON(t, "type", sm["StateMachineType"], "STANDARD")
	def := aslOf(t, tpl, "Sync")
	equalJSON(t, "start", def["StartAt"], "WhichBoards")
	equalJSON(t, "every board (deliverTo any)", get(t, def, "States", "SyncEveryBoard", "Parameters", "filter"), "attribute:edge-drop.board exists")
	equalJSON(t, "one board", get(t, def, "States", "SyncOneBoard", "Parameters", "filter.$"),
		"States.Format('attribute:edge-drop.board exists and attribute:edge-drop.board == {}', $.board)")
	bucketID := dropBucketID(t, tpl)
	equalJSON(t, "sync environment", syncTaskEnv(t, def), map[string]any{
		contract.EnvMode:             contract.ModeSync,
		contract.EnvBucket:           "${" + bucketID + "}",
		contract.EnvKeyPrefix:        "demo", // what the task role may list: demo*.txt's literal start
		contract.EnvKeyPattern:       "demo*.txt",
		contract.EnvMirrorDeletes:    "false",
		contract.EnvTaskToken + ".$": "$$.Task.Token",
	})

	_, rule := onlyOf(t, tpl, "AWS::Events::Rule", "Sync")
	equalJSON(t, "schedule", rule["ScheduleExpression"], "rate(6 hours)")
	dlqID, _ := onlyOf(t, tpl, "AWS::SQS::Queue", "Pipeline")
	roleID, _ := onlyOf(t, tpl, "AWS::IAM::Role", "SyncTargetRole")
	target := get(t, rule, "Targets", 0)
	equalJSON(t, "target", target, map[string]any{
		"Arn": map[string]any{"Ref": smID}, "Id": "Target0", "Input": "{}",
		"RoleArn":          map[string]any{"Fn::GetAtt": []any{roleID, "Arn"}},
		"DeadLetterConfig": map[string]any{"Arn": map[string]any{"Fn::GetAtt": []any{dlqID, "Arn"}}},
		"RetryPolicy":      map[string]any{"MaximumEventAgeInSeconds": 21600, "MaximumRetryAttempts": 185},
	})
	// The schedule's role may start the sync, nothing else.
	equalJSON(t, "schedule role", withRenderedResources(t, statementsOf(t, tpl, "SyncTargetRole")), []map[string]any{
		{"Action": "states:StartExecution", "Effect": "Allow", "Resource": "${" + smID + "}"},
	})
	// The sync's role: the fleet role (list, describe, run on this cluster).
	got := reduce(t, statementsOf(t, tpl, "SyncStateMachineRole"))
	want := reduce(t, statementsOf(t, fleetPipeline(t, "fleet-group", fleetConfigs["fleet-group"]), "PipelineStateMachineRole"))
	if len(got) != len(want) || got["ListTheBoardsOfTheCluster"].Sid == "" || got["DescribeTheBoardsOfTheCluster"].Sid == "" {
		t.Errorf("sync role %v, want the fleet role's statements %v", got, want)
	}

	names := map[string]bool{}
	for _, a := range resources(t, tpl, "AWS::CloudWatch::Alarm") {
		names[render(t, get(t, a, "Properties", "AlarmName"))] = true
	}
	for _, n := range []string{alarms.SyncFailed, alarms.SyncTimedOut} {
		if !names["EdgeDrop-Pipeline-"+n] {
			t.Errorf("no alarm %s among %v", n, names)
		}
	}
	tpl.HasOutput(jsii.String("SyncStateMachineArn"), assertions.Match_ObjectLike(&map[string]any{"Value": map[string]any{"Ref": smID}}))
}

func TestNoSyncWhenBothFeaturesAreOff(t *testing.T) {
	tpl := syncPipeline(t, "sync-off")
	tpl.ResourceCountIs(jsii.String("AWS::StepFunctions::StateMachine"), jsii.Number(1))
	tpl.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(1))
	if outs := *tpl.FindOutputs(jsii.String("SyncStateMachineArn"), nil); len(outs) != 0 {
		t.Errorf("output SyncStateMachineArn without a sync: %v", outs)
	}
	sts := statementsOf(t, tpl, "DownloadTaskTaskRole")
	if len(sts) != 2 || sts[0]["Action"] != "s3:GetObject" || sts[1]["Action"] != "states:SendTaskSuccess" {
		t.Errorf("task role %s, want s3:GetObject and the report only", mustJSON(t, sts))
	}
	for _, a := range resources(t, tpl, "AWS::CloudWatch::Alarm") {
		if name := render(t, get(t, a, "Properties", "AlarmName")); strings.Contains(name, "Sync") {
			t.Errorf("alarm %s without a sync", name)
		}
	}
}

func TestOnDemandSyncWithMirroring(t *testing.T) {
	tpl := syncPipeline(t, "sync-on-demand")
	onlyOf(t, tpl, "AWS::StepFunctions::StateMachine", "Sync")
	tpl.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(1)) // the upload rule, no schedule
	env := syncTaskEnv(t, aslOf(t, tpl, "Sync"))
	equalJSON(t, "prefix", env[contract.EnvKeyPrefix], "demo")
	equalJSON(t, "mirror", env[contract.EnvMirrorDeletes], "true")
	bucketID := dropBucketID(t, tpl)
	equalJSON(t, "task role", withRenderedResources(t, statementsOf(t, tpl, "DownloadTaskTaskRole")), []map[string]any{
		{"Sid": "ReadUploadedObjects", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "${" + bucketID + ".Arn}/demo*"},
		{"Sid": "ListUploadedKeys", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "${" + bucketID + ".Arn}",
			"Condition": map[string]any{"StringLike": map[string]any{"s3:prefix": "demo*"}}},
		{"Sid": "ReportTheOutcome", "Effect": "Allow", "Action": "states:SendTaskSuccess", "Resource": "*",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": map[string]any{"Ref": "AWS::Region"}}}},
	})
}

func TestSyncTargetsFollowDeliverTo(t *testing.T) {
	group := aslOf(t, syncPipeline(t, "sync-group"), "Sync")
	equalJSON(t, "group", get(t, group, "States", "SyncEveryBoard", "Parameters", "filter"), "attribute:edge-drop.group.site1 exists")
	_, rule := onlyOf(t, syncPipeline(t, "sync-group"), "AWS::Events::Rule", "Sync")
	equalJSON(t, "schedule", rule["ScheduleExpression"], "rate(30 minutes)")
	equalJSON(t, "event age", get(t, rule, "Targets", 0, "RetryPolicy", "MaximumEventAgeInSeconds"), 1800)

	routed := aslOf(t, syncPipeline(t, "sync-routed"), "Sync")
	env := syncTaskEnv(t, routed)
	equalJSON(t, "routed prefix", env[contract.EnvKeyPrefix+".$"], "States.Format('to/{}/', States.ArrayGetItem($.names, 0))")
	equalJSON(t, "routed strip", env[contract.EnvStripComponents], "2")
	equalJSON(t, "routed pattern", env[contract.EnvKeyPattern], "to/*")
}

// The sync definitions the local pipeline runs; stacks/testdata keeps
// copies for it (a test keeps them equal to what synth renders).
var syncTestdata = []string{"sync-group", "sync-routed"}

func TestSyncTestdataMatchesTheSynthesizedDefinition(t *testing.T) {
	for _, name := range syncTestdata {
		want := indentJSON(t, normalizeASL(aslOf(t, syncPipeline(t, name), "Sync")))
		checkTestdata(t, "testdata/"+name+".asl.json", want, "TestSyncTestdata")
	}
}

// syncECS is a scripted cluster for the sync definition: boards by
// instance id, each "ok", "offline", "exit N" or "report {...}" (the task's
// Report, sent with its task token); queries map to the
// instances they select (any other query is an error, so the test pins
// the exact query).
type syncECS struct {
	boards  map[string][2]string // instance → {name, behaviour}
	queries map[string][]string

	mu   sync.Mutex
	runs map[string]map[string]string // board name → its task environment
	asks []string                     // the queries asked
}

func (f *syncECS) handle(_ context.Context, resource string, params any) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := params.(map[string]any)
	switch {
	case strings.HasSuffix(resource, ":listContainerInstances"):
		q := p["Filter"].(string)
		f.asks = append(f.asks, q)
		ids, ok := f.queries[q]
		if !ok {
			return nil, &statemachine.Error{Name: "Ecs.InvalidParameterException", Cause: "unexpected query " + q}
		}
		arns := []any{}
		for _, id := range ids {
			arns = append(arns, "arn:aws:ecs:eu-west-1:123456789012:container-instance/edge-drop/"+id)
		}
		return map[string]any{"ContainerInstanceArns": arns}, nil
	case strings.HasSuffix(resource, ":describeContainerInstances"):
		var out []any
		for _, arn := range p["ContainerInstances"].([]any) {
			id := arn.(string)[strings.LastIndex(arn.(string), "/")+1:]
			out = append(out, map[string]any{"Ec2InstanceId": id, "Attributes": []any{
				map[string]any{"Name": contract.AttrBoard, "Value": f.boards[id][0]},
			}})
		}
		return map[string]any{"ContainerInstances": out}, nil
	case strings.HasSuffix(resource, ":runTask.sync"):
		id := strings.TrimPrefix(p["PlacementConstraints"].([]any)[0].(map[string]any)["Expression"].(string), "ec2InstanceId == ")
		b := f.boards[id]
		env := map[string]string{}
		overrides := p["Overrides"].(map[string]any)["ContainerOverrides"].([]any)[0].(map[string]any)
		for _, e := range overrides["Environment"].([]any) {
			env[e.(map[string]any)["Name"].(string)] = e.(map[string]any)["Value"].(string)
		}
		if f.runs == nil {
			f.runs = map[string]map[string]string{}
		}
		f.runs[b[0]] = env
		task := map[string]any{"TaskArn": "arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/" + id, "LastStatus": "STOPPED",
			"Containers": []any{map[string]any{"ExitCode": 0}}}
		switch {
		case strings.HasPrefix(b[1], "report "):
			// What SendTaskSuccess with the state's token makes the result.
			var report any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(b[1], "report ")), &report); err != nil {
				return nil, err
			}
			return report, nil
		case b[1] == "ok":
			return task, nil
		case b[1] == "offline":
			return nil, &statemachine.Error{Name: contract.ErrPlacement, Cause: `{"Failures":[{"Reason":"AGENT"}]}`}
		default:
			var code int
			fmt.Sscanf(b[1], "exit %d", &code)
			task["Containers"] = []any{map[string]any{"ExitCode": code}}
			cause, _ := json.Marshal(task)
			return nil, &statemachine.Error{Name: "States.TaskFailed", Cause: string(cause)}
		}
	}
	return nil, &statemachine.Error{Name: "States.Runtime", Cause: "unexpected " + resource}
}

func runSync(t *testing.T, name string, f *syncECS, input string) *statemachine.Execution {
	t.Helper()
	var in any
	if err := json.Unmarshal([]byte(input), &in); err != nil {
		t.Fatal(err)
	}
	return runDefinition(t, name, f, in)
}

const siteQuery = "attribute:edge-drop.group.site1 exists"

func TestSyncDefinitionRunsTheTaskInSyncModeOnEveryBoard(t *testing.T) {
	f := &syncECS{
		boards:  map[string][2]string{"mi-1": {"shop-1", "ok"}, "mi-2": {"shop-2", "ok"}},
		queries: map[string][]string{siteQuery: {"mi-1", "mi-2"}},
	}
	e := runSync(t, "sync-group", f, `{}`)
	if e.Status != statemachine.StatusSucceeded {
		t.Fatalf("%s %s: %s", e.Status, e.Error, e.Cause)
	}
	equalJSON(t, "queries", f.asks, []string{siteQuery})
	for _, b := range []string{"shop-1", "shop-2"} {
		env := f.runs[b]
		if env[contract.EnvMode] != contract.ModeSync || env[contract.EnvMirrorDeletes] != "true" || env[contract.EnvKeyPattern] != "demo*.txt" ||
			env[contract.EnvKeyPrefix] != "demo" || env[contract.EnvBucket] == "" {
			t.Errorf("%s ran with %v", b, env)
		}
	}
	equalJSON(t, "outcomes", len(e.Output.([]any)), 2)
}

func TestSyncOfOneBoardStaysInsideTheTarget(t *testing.T) {
	one := siteQuery + " and attribute:edge-drop.board == shop-2"
	f := &syncECS{
		boards:  map[string][2]string{"mi-2": {"shop-2", "ok"}},
		queries: map[string][]string{one: {"mi-2"}, siteQuery + " and attribute:edge-drop.board == elsewhere": {}},
	}
	if e := runSync(t, "sync-group", f, `{"board": "shop-2"}`); e.Status != statemachine.StatusSucceeded {
		t.Fatalf("%s %s: %s", e.Status, e.Error, e.Cause)
	}
	equalJSON(t, "query", f.asks, []string{one})
	if _, ok := f.runs["shop-2"]; !ok || len(f.runs) != 1 {
		t.Errorf("runs %v", f.runs)
	}
	// A board outside the group matches nothing: NoBoards, nothing ran.
	f.runs = nil
	e := runSync(t, "sync-group", f, `{"board": "elsewhere"}`)
	if e.Status != statemachine.StatusFailed || e.Error != contract.ErrNoBoards || len(f.runs) != 0 {
		t.Errorf("outside the target: %s %s %v", e.Status, e.Error, f.runs)
	}
}

func TestSyncRefusesABoardThatIsNotAName(t *testing.T) {
	for _, input := range []string{
		`{"board": "shop-1 or attribute:edge-drop.board exists"}`,
		`{"board": "shop'1"}`, `{"board": "-shop"}`, `{"board": "_shop"}`, `{"board": 7}`, `{"board": ""}`, `{"board": null}`,
		`{"board": "` + strings.Repeat("x", 64) + `"}`, // names are 1-63 characters
	} {
		f := &syncECS{}
		e := runSync(t, "sync-group", f, input)
		if e.Status != statemachine.StatusFailed || e.Error != contract.ErrBadTarget || len(f.asks) != 0 {
			t.Errorf("%s: %s %s, queries %v", input, e.Status, e.Error, f.asks)
		}
	}
}

func TestSyncReportsEveryBoardsOutcome(t *testing.T) {
	f := &syncECS{
		boards:  map[string][2]string{"mi-1": {"shop-1", "ok"}, "mi-2": {"shop-2", "offline"}, "mi-3": {"shop-3", "exit 11"}},
		queries: map[string][]string{siteQuery: {"mi-1", "mi-2", "mi-3"}},
	}
	e := runSync(t, "sync-group", f, `{}`)
	if e.Status != statemachine.StatusFailed || e.Error != contract.ErrSomeBoardsFailed {
		t.Fatalf("%s %s: %s", e.Status, e.Error, e.Cause)
	}
	for _, want := range []string{`offline ["shop-2"]`, `failed ["shop-3"]`, "2 of the 3 boards"} {
		if !strings.Contains(e.Cause, want) {
			t.Errorf("cause %q lacks %q", e.Cause, want)
		}
	}
}

func TestRoutedSyncListsEachBoardsRoute(t *testing.T) {
	all := "attribute:edge-drop.board exists"
	f := &syncECS{
		boards:  map[string][2]string{"mi-1": {"shop-1", "ok"}, "mi-2": {"kiosk_2", "ok"}},
		queries: map[string][]string{all: {"mi-1", "mi-2"}},
	}
	if e := runSync(t, "sync-routed", f, `{}`); e.Status != statemachine.StatusSucceeded {
		t.Fatalf("%s %s: %s", e.Status, e.Error, e.Cause)
	}
	var got []string
	for b, env := range f.runs {
		got = append(got, b+" "+env[contract.EnvKeyPrefix]+" "+env[contract.EnvStripComponents])
	}
	slices.Sort(got)
	equalJSON(t, "routes", got, []string{"kiosk_2 to/kiosk_2/ 2", "shop-1 to/shop-1/ 2"})
}

// nagSuppressions counts the cdk-nag suppressions of a stack by rule.
func nagSuppressions(t *testing.T, tpl assertions.Template) map[string]int {
	t.Helper()
	out := map[string]int{}
	resources, _ := (*tpl.ToJSON())["Resources"].(map[string]any)
	for _, r := range resources {
		meta, _ := r.(map[string]any)["Metadata"].(map[string]any)
		nag, _ := meta["cdk_nag"].(map[string]any)
		list, _ := nag["rules_to_suppress"].([]any)
		for _, s := range list {
			out[s.(map[string]any)["id"].(string)]++
		}
	}
	return out
}

// The sync adds one suppression: its state machine role's IAM5 (task
// ARNs and container instances of this cluster, log delivery and X-Ray),
// the same reason as the pipeline's role. s3:ListBucket needs none.
func TestSyncNagSuppressions(t *testing.T) {
	off := nagSuppressions(t, syncPipeline(t, "sync-off"))
	on := nagSuppressions(t, defaultPipeline(t))
	want := map[string]int{}
	for k, v := range off {
		want[k] = v
	}
	want["AwsSolutions-IAM5"]++
	equalJSON(t, "suppressions with the sync", on, want)
	t.Logf("pipeline stack suppressions: without sync %v, with %v", off, on)
}

// tallyOf runs a definition and returns its outcomes: the output, or for
// a failed execution TallyOutcomes' (where make sync reads them).
func tallyOf(t *testing.T, name string, f *syncECS, event any) (*statemachine.Execution, []contract.Outcome) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name + ".asl.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := statemachine.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes any
	e := m.Execute(context.Background(), event, statemachine.Options{
		Task:  f.handle,
		Sleep: func(context.Context, time.Duration) error { return nil },
		Observer: func(ev statemachine.Event) {
			if ev.Kind == statemachine.EventStateExited && strings.HasSuffix(ev.State, contract.StateTally) {
				outcomes = ev.Output.(map[string]any)["fleet"].(map[string]any)["outcomes"]
			}
		},
	})
	b, _ := json.Marshal(outcomes)
	var out []contract.Outcome
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b contract.Outcome) int { return strings.Compare(a.Board, b.Board) })
	return e, out
}

// Outcomes in words (issue 17): a sync's board says what it synced, with
// the counts; a failed sync's cause names its first failed keys, so it
// reads without the task's log; a task without a report is synced by its
// exit code.
func TestSyncOutcomesInWords(t *testing.T) {
	f := &syncECS{
		boards: map[string][2]string{
			"mi-1": {"shop-1", `report {"mode":"sync","status":"synced","exitCode":0,"summary":"synced (3 new, 1 updated, 2 deleted)",
				"sync":{"listed":9,"new":3,"updated":1,"upToDate":5,"deleted":2,"kept":0,"conflicts":0,"skippedUnsafe":0,"failed":0,"folders":0}}`},
			"mi-2": {"shop-2", `report {"mode":"sync","status":"failed","exitCode":11,"class":"partial","summary":"failed (exit 11 partial: 2 of 10 objects failed)",
				"sync":{"listed":10,"new":8,"updated":0,"upToDate":0,"deleted":0,"kept":0,"conflicts":0,"skippedUnsafe":0,"failed":2,"folders":0},
				"failedKeys":["demo-a.txt","demo-b.txt"]}`},
			"mi-3": {"shop-3", "ok"},
		},
		queries: map[string][]string{siteQuery: {"mi-1", "mi-2", "mi-3"}},
	}
	e, got := tallyOf(t, "sync-group", f, map[string]any{})
	if e.Status != statemachine.StatusFailed || e.Error != contract.ErrSomeBoardsFailed || !strings.Contains(e.Cause, `failed ["shop-2"]`) {
		t.Fatalf("%s %s: %s", e.Status, e.Error, e.Cause)
	}
	if len(got) != 3 {
		t.Fatalf("outcomes %+v", got)
	}
	want := []struct{ status, cause, words string }{
		{contract.OutcomeSynced, "synced (3 new, 1 updated, 2 deleted)", "synced (3 new, 1 updated, 2 deleted)"},
		{contract.OutcomeFailed, `failed (exit 11 partial: 2 of 10 objects failed); failed keys: ["demo-a.txt","demo-b.txt"]`,
			`failed (exit 11 partial: 2 of 10 objects failed); failed keys: ["demo-a.txt","demo-b.txt"]`},
		{contract.OutcomeSynced, "synced (exit 0, the task sent no report)", "synced (exit 0, the task sent no report)"},
	}
	for i, w := range want {
		if got[i].Status != w.status || got[i].Cause != w.cause || got[i].Words() != w.words {
			t.Errorf("%s: %+v (words %q), want %s %q", got[i].Board, got[i], got[i].Words(), w.status, w.cause)
		}
	}
	if got[0].Sync == nil || got[0].Sync.New != 3 || got[0].Sync.Deleted != 2 || got[2].Sync != nil {
		t.Errorf("sync counts: %+v %+v", got[0].Sync, got[2].Sync)
	}
}

// A mirrored delete's outcome says whether the file was deleted or kept
// (and why); kept is not a failure.
func TestDeleteOutcomesInWords(t *testing.T) {
	f := &syncECS{
		boards: map[string][2]string{
			"mi-1": {"shop-1", `report {"mode":"delete","status":"deleted","exitCode":0,"summary":"deleted","key":"demo1.txt","path":"demo1.txt"}`},
			"mi-2": {"shop-2", `report {"mode":"delete","status":"kept","exitCode":0,"summary":"kept (changed since delivery)","reason":"changed since delivery"}`},
			"mi-3": {"shop-3", "ok"},
		},
		queries: map[string][]string{siteQuery: {"mi-1", "mi-2", "mi-3"}},
	}
	e, got := tallyOf(t, "deletes-group", f, objectDeleted("demo1.txt", "Permanently Deleted"))
	if e.Status != statemachine.StatusSucceeded {
		t.Fatalf("kept is not a failure: %s %s: %s", e.Status, e.Error, e.Cause)
	}
	var words []string
	for _, o := range got {
		words = append(words, o.Board+": "+o.Words())
	}
	equalJSON(t, "outcomes", words, []string{"shop-1: deleted", "shop-2: kept (changed since delivery)", "shop-3: deleted (exit 0, the task sent no report)"})
}
