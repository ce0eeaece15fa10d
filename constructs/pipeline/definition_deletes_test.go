package pipeline_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// testdata/deletes-any.asl.json and deletes-group.asl.json are the
// delivery definitions with mirrorDeletes=true, under the default target
// (any) and under group:site1: an Object Deleted event runs the task in
// delete mode on the boards the file may be on.

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

func TestObjectDeletedRunsTheDeleteOnEveryBoard(t *testing.T) {
	for _, deletion := range []string{"Permanently Deleted", "Delete Marker Created"} {
		f := &asltest.ECS{
			Boards:  []asltest.Board{board("mi-1", "shop-1", "ok"), board("mi-2", "shop-2", "ok")},
			Matches: map[string][]string{allQuery: {"mi-1", "mi-2"}},
		}
		e := runDefinition(t, "deletes-any", f, objectDeleted("demo+1.txt", deletion))
		if e.Status != asl.StatusSucceeded {
			t.Fatalf("%s: %s %s: %s", deletion, e.Status, e.Error, e.Cause)
		}
		var got []string
		for b, env := range f.Runs() {
			got = append(got, b+" "+env[contract.EnvMode]+" "+env[contract.EnvBucket]+" "+env[contract.EnvKey])
		}
		slices.Sort(got)
		asltest.Equal(t, deletion, got, []string{"shop-1 delete edge demo+1.txt", "shop-2 delete edge demo+1.txt"})
	}
}

func TestDeletesFollowTheTargetAndThePattern(t *testing.T) {
	f := &asltest.ECS{
		Boards:  []asltest.Board{board("mi-1", "shop-1", "ok"), board("mi-2", "shop-2", "offline")},
		Matches: map[string][]string{groupQuery: {"mi-1", "mi-2"}},
	}
	e := runDefinition(t, "deletes-group", f, objectDeleted("demo1.txt", "Permanently Deleted"))
	// An offline board's delete fails as offline; the next mirrored sync
	// removes the file.
	if e.Status != asl.StatusFailed || e.Error != contract.ErrSomeBoardsFailed || len(f.Runs()) != 2 {
		t.Fatalf("%s %s: %s (runs %v)", e.Status, e.Error, e.Cause, f.Runs())
	}
	asltest.Equal(t, "queries", f.Queries(), []string{groupQuery})

	// A key the pattern does not match was never delivered: nothing runs.
	f = &asltest.ECS{}
	if e := runDefinition(t, "deletes-group", f, objectDeleted("other.bin", "Permanently Deleted")); e.Status != asl.StatusSucceeded ||
		e.Path[len(e.Path)-1].Name != "Skipped" || len(f.Queries()) != 0 {
		t.Errorf("other key: %s %s, queries %v", e.Status, e.Error, f.Queries())
	}
}

func TestObjectCreatedIsStillDeliveredBehindTheBranch(t *testing.T) {
	f := &asltest.ECS{
		Boards:  []asltest.Board{board("mi-1", "shop-1", "ok")},
		Matches: map[string][]string{groupQuery: {"mi-1"}},
	}
	var created any
	_ = json.Unmarshal([]byte(`{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"edge"},
	"object":{"key":"demo1.txt","size":5,"etag":"b1946ac92492d2347c6235b4d2611184","sequencer":"617f08299329d189"},"reason":"PutObject"}}`), &created)
	if e := runDefinition(t, "deletes-group", f, created); e.Status != asl.StatusSucceeded {
		t.Fatalf("%s %s: %s", e.Status, e.Error, e.Cause)
	}
	if env := f.Runs()["shop-1"]; env[contract.EnvMode] != "" || env[contract.EnvKey] != "demo1.txt" || env[contract.EnvEventSize] != "5" {
		t.Errorf("download ran with %v", env)
	}
}

// A mirrored delete's outcome says whether the file was deleted or kept
// (and why); kept is not a failure.
func TestDeleteOutcomesInWords(t *testing.T) {
	f := &asltest.ECS{
		Boards: []asltest.Board{
			board("mi-1", "shop-1", `report {"mode":"delete","status":"deleted","exitCode":0,"summary":"deleted","key":"demo1.txt","path":"demo1.txt"}`),
			board("mi-2", "shop-2", `report {"mode":"delete","status":"kept","exitCode":0,"summary":"kept (changed since delivery)","reason":"changed since delivery"}`),
			board("mi-3", "shop-3", "ok"),
		},
		Matches: map[string][]string{groupQuery: {"mi-1", "mi-2", "mi-3"}},
	}
	e, got := tallyOf(t, "deletes-group", f, objectDeleted("demo1.txt", "Permanently Deleted"))
	if e.Status != asl.StatusSucceeded {
		t.Fatalf("kept is not a failure: %s %s: %s", e.Status, e.Error, e.Cause)
	}
	var words []string
	for _, o := range got {
		words = append(words, o.Board+": "+o.Words())
	}
	asltest.Equal(t, "outcomes", words, []string{"shop-1: deleted", "shop-2: kept (changed since delivery)", "shop-3: deleted (exit 0, the task sent no report)"})
}
