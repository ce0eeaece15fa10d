package stacks

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/contract"
	statemachine "github.com/edge-drop/edge-drop/local/asl" // named so: stacks has its own asl helper
)

// Deletes under the default target (any) and under a group.
var deleteConfigs = map[string]map[string]any{
	"deletes-any":   {config.KeyMirrorDeletes: "true"},
	"deletes-group": {config.KeyMirrorDeletes: "true", config.KeyDeliverTo: "group:site1"},
}

func TestRuleMatchesDeletesOnlyWhenMirrored(t *testing.T) {
	for name, want := range map[string][]string{
		"default":       {"Object Created"},
		"deletes-any":   {"Object Created", "Object Deleted"},
		"deletes-group": {"Object Created", "Object Deleted"},
	} {
		app := synthCached(t, name, deleteConfigs[name])
		tpl := templateOf(app.Pipeline.Stack)
		_, rule := onlyOf(t, tpl, "AWS::Events::Rule", "Pipeline")
		// No deletion-type filter: both "Permanently Deleted" and
		// "Delete Marker Created" (and lifecycle expirations) match.
		equalJSON(t, name+" pattern", get(t, rule, "EventPattern"), map[string]any{
			"source": []string{"aws.s3"}, "detail-type": want,
			"detail": map[string]any{"bucket": map[string]any{"name": []any{map[string]any{"Ref": dropBucketID(t, tpl)}}}},
		})
	}
}

func TestDeleteBranchComesFirstAndRunsTheTaskInDeleteMode(t *testing.T) {
	def := aslOf(t, templateOf(synthCached(t, "deletes-any", deleteConfigs["deletes-any"]).Pipeline.Stack), "Pipeline")
	equalJSON(t, "start", def["StartAt"], "CreatedOrDeleted")
	equalJSON(t, "default", get(t, def, "States", "CreatedOrDeleted", "Default"), "Extract")
	equalJSON(t, "extract", get(t, def, "States", "ExtractDeleted", "Parameters"), map[string]any{
		"bucket.$": "$.detail.bucket.name", "key.$": "$.detail.object.key", "sequencer.$": "$.detail.object.sequencer",
	})
	// any: every board, as the file may be on any of them.
	equalJSON(t, "boards", get(t, def, "States", "DeleteChooseBoards", "Parameters", "filter"), "attribute:edge-drop.board exists")
	env := get(t, def, "States", "DeleteDeliverToEachBoard", "ItemProcessor", "States", "DeleteDeliverToBoard",
		"Parameters", "Overrides", "ContainerOverrides", 0, "Environment")
	equalJSON(t, "delete environment", env, []any{
		map[string]any{"Name": contract.EnvMode, "Value": contract.ModeDelete},
		map[string]any{"Name": contract.EnvBucket, "Value.$": "$.bucket"},
		map[string]any{"Name": contract.EnvKey, "Value.$": "$.key"},
		map[string]any{"Name": contract.EnvTaskToken, "Value.$": "$$.Task.Token"},
	})
	// The delivery path is unchanged behind the branch.
	equalJSON(t, "download", get(t, def, "States", "DownloadToBoard", "Type"), "Task")
	// The role lists the boards, as a fleet's does.
	got := reduce(t, statementsOf(t, templateOf(synthCached(t, "deletes-any", deleteConfigs["deletes-any"]).Pipeline.Stack), "PipelineStateMachineRole"))
	if got["ListTheBoardsOfTheCluster"].Sid == "" || got["DescribeTheBoardsOfTheCluster"].Sid == "" {
		t.Errorf("role %v lacks the fleet statements", got)
	}
}

var deleteTestdata = []string{"deletes-any", "deletes-group"}

func TestDeleteTestdataMatchesTheSynthesizedDefinition(t *testing.T) {
	for _, name := range deleteTestdata {
		want := indentJSON(t, normalizeASL(aslOf(t, templateOf(synthCached(t, name, deleteConfigs[name]).Pipeline.Stack), "Pipeline")))
		checkTestdata(t, "testdata/"+name+".asl.json", want, "TestDeleteTestdata")
	}
}

// objectDeleted is the S3 event as EventBridge delivers it (S3 User
// Guide, "EventBridge event message structure"): no size, no etag.
func objectDeleted(key, deletionType string) any {
	var v any
	_ = json.Unmarshal([]byte(`{"version":"0","id":"2ee9cc15-d022-99ea-1fb8-1b1bac4850f9","detail-type":"Object Deleted","source":"aws.s3",
	"account":"111122223333","time":"2021-11-12T00:00:00Z","region":"ca-central-1","resources":["arn:aws:s3:::edge"],
	"detail":{"version":"0","bucket":{"name":"edge"},"object":{"key":"`+key+`","sequencer":"617f0837b476e463"},
	"request-id":"0BH729840619AG5K","requester":"123456789012","source-ip-address":"1.2.3.4","reason":"DeleteObject","deletion-type":"`+deletionType+`"}}`), &v)
	return v
}

// runDefinition runs testdata/<name>.asl.json on input against the scripted
// cluster f, retrying without waiting.
func runDefinition(t *testing.T, name string, f *syncECS, event any) *statemachine.Execution {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name + ".asl.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := statemachine.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m.Execute(context.Background(), event, statemachine.Options{
		Task:  f.handle,
		Sleep: func(context.Context, time.Duration) error { return nil },
	})
}

func TestObjectDeletedRunsTheDeleteOnEveryBoard(t *testing.T) {
	for _, deletion := range []string{"Permanently Deleted", "Delete Marker Created"} {
		f := &syncECS{
			boards:  map[string][2]string{"mi-1": {"shop-1", "ok"}, "mi-2": {"shop-2", "ok"}},
			queries: map[string][]string{"attribute:edge-drop.board exists": {"mi-1", "mi-2"}},
		}
		e := runDefinition(t, "deletes-any", f, objectDeleted("demo+1.txt", deletion))
		if e.Status != statemachine.StatusSucceeded {
			t.Fatalf("%s: %s %s: %s", deletion, e.Status, e.Error, e.Cause)
		}
		var got []string
		for b, env := range f.runs {
			got = append(got, b+" "+env[contract.EnvMode]+" "+env[contract.EnvBucket]+" "+env[contract.EnvKey])
		}
		slices.Sort(got)
		equalJSON(t, deletion, got, []string{"shop-1 delete edge demo+1.txt", "shop-2 delete edge demo+1.txt"})
	}
}

func TestDeletesFollowTheTargetAndThePattern(t *testing.T) {
	f := &syncECS{
		boards:  map[string][2]string{"mi-1": {"shop-1", "ok"}, "mi-2": {"shop-2", "offline"}},
		queries: map[string][]string{siteQuery: {"mi-1", "mi-2"}},
	}
	e := runDefinition(t, "deletes-group", f, objectDeleted("demo1.txt", "Permanently Deleted"))
	// An offline board's delete fails as offline; the next mirrored sync
	// removes the file.
	if e.Status != statemachine.StatusFailed || e.Error != contract.ErrSomeBoardsFailed || len(f.runs) != 2 {
		t.Fatalf("%s %s: %s (runs %v)", e.Status, e.Error, e.Cause, f.runs)
	}
	equalJSON(t, "queries", f.asks, []string{siteQuery})

	// A key the pattern does not match was never delivered: nothing runs.
	f = &syncECS{}
	if e := runDefinition(t, "deletes-group", f, objectDeleted("other.bin", "Permanently Deleted")); e.Status != statemachine.StatusSucceeded ||
		e.Path[len(e.Path)-1].Name != "Skipped" || len(f.asks) != 0 {
		t.Errorf("other key: %s %s, queries %v", e.Status, e.Error, f.asks)
	}
}

func TestObjectCreatedIsStillDeliveredBehindTheBranch(t *testing.T) {
	f := &syncECS{
		boards:  map[string][2]string{"mi-1": {"shop-1", "ok"}},
		queries: map[string][]string{siteQuery: {"mi-1"}},
	}
	var created any
	_ = json.Unmarshal([]byte(`{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"edge"},
	"object":{"key":"demo1.txt","size":5,"etag":"b1946ac92492d2347c6235b4d2611184","sequencer":"617f08299329d189"},"reason":"PutObject"}}`), &created)
	if e := runDefinition(t, "deletes-group", f, created); e.Status != statemachine.StatusSucceeded {
		t.Fatalf("%s %s: %s", e.Status, e.Error, e.Cause)
	}
	if env := f.runs["shop-1"]; env[contract.EnvMode] != "" || env[contract.EnvKey] != "demo1.txt" || env[contract.EnvEventSize] != "5" {
		t.Errorf("download ran with %v", env)
	}
}
