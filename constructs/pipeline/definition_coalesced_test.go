package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// testdata/coalesce-all.asl.json is the batch definition this package
// synthesizes with coalesceWindow (deliverTo=all; stacks/fleet_test.go
// keeps it in step): its input is the pipe's batch of SQS records.

const allQuery = "attribute:edge-drop.board exists"

// sqsBatch is a pipe's batch: one SQS record per S3 event (key, sequencer,
// etag; an etag "deleted" makes it an Object Deleted event).
func sqsBatch(t *testing.T, events ...[3]string) []any {
	t.Helper()
	var out []any
	for i, e := range events {
		detail := map[string]any{"bucket": map[string]any{"name": "edge-drop-inbox"},
			"object": map[string]any{"key": e[0], "sequencer": e[1], "etag": e[2], "size": 5}}
		kind := "Object Created"
		if e[2] == "deleted" {
			kind = "Object Deleted"
			detail["object"] = map[string]any{"key": e[0], "sequencer": e[1]}
		}
		body, _ := json.Marshal(map[string]any{"version": "0", "detail-type": kind, "source": "aws.s3", "detail": detail})
		out = append(out, map[string]any{"messageId": fmt.Sprintf("m-%d", i), "receiptHandle": "rh", "body": string(body),
			"attributes": map[string]any{}, "eventSource": "aws:sqs"})
	}
	return out
}

func keyLists(t *testing.T, ecs *asltest.ECS) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range ecs.Calls(asltest.ResRunTask) {
		env := asltest.TaskEnv(p)
		if _, single := env[contract.EnvKey]; single {
			t.Errorf("a batch task got %s", contract.EnvKey)
		}
		if len(env[contract.EnvKeys]) > contract.MaxKeyListBytes {
			t.Errorf("a key list of %d bytes, more than %d", len(env[contract.EnvKeys]), contract.MaxKeyListBytes)
		}
		keys, err := contract.ParseKeyList(env[contract.EnvKeys])
		if err != nil {
			t.Fatalf("%s: %v", env[contract.EnvKeys], err)
		}
		id := strings.TrimPrefix(p["PlacementConstraints"].([]any)[0].(map[string]any)["Expression"].(string), "ec2InstanceId == ")
		var ks []string
		for _, k := range keys {
			ks = append(ks, fmt.Sprintf("%s@%s/%s/%v", k.Key, k.Sequencer, k.ETag, k.Deleted))
		}
		out[id] = append(out[id], strings.Join(ks, " "))
	}
	return out
}

// One task per board for the whole batch: the newest event of each key,
// the keys the pattern matches, sorted.
func TestCoalescedBatchIsOneTaskPerBoard(t *testing.T) {
	m := asltest.Definition(t, "coalesce-all")
	boards := asltest.SiteBoards([]string{"ok"}, []string{"ok"}, []string{"ok"})
	ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{allQuery: asltest.IDs(boards)}, PageSize: 10}
	batch := sqsBatch(t,
		[3]string{"demo-2.txt", "00617F0829932A0000", "e2"},
		[3]string{"demo-1.txt", "00617F08299329D1A0", "new"}, // newer than the next, though first
		[3]string{"demo-1.txt", "617F08299329D189", "old"},   // shorter: left-padded, it is older
		[3]string{"report.csv", "00617F0829932B0000", "x"},   // not demo*.txt
		[3]string{"demo-3.txt", "00617F0829932C0000", "e3"},
		[3]string{"demo-3.txt", "00617F0829932C0001", "deleted"}, // deleted after its upload
	)
	e := m.Execute(context.Background(), batch, asl.Options{Task: ecs.Handle})
	if e.Status != asl.StatusSucceeded {
		t.Fatalf("status %s %s %s", e.Status, e.Error, e.Cause)
	}
	want := "demo-1.txt@00617F08299329D1A0/new/false demo-2.txt@00617F0829932A0000/e2/false demo-3.txt@00617F0829932C0001//true"
	got := keyLists(t, ecs)
	if len(got) != 3 {
		t.Fatalf("tasks on %d boards, want 3: %v", len(got), got)
	}
	for id, lists := range got {
		if len(lists) != 1 || lists[0] != want {
			t.Errorf("board %s got %q, want one task with %q", id, lists, want)
		}
	}
	out := e.Output.(map[string]any)
	if n := asltest.Canon(t, out["count"]); n != "3" {
		t.Errorf("count %v, want 3", out["count"])
	}
}

// Long keys: several parts, each within one task's key list; a part that
// fails on a board does not stop the later parts, and fails the execution.
func TestCoalescedBatchOfLongKeysRunsInParts(t *testing.T) {
	m := asltest.Definition(t, "coalesce-all")
	boards := asltest.SiteBoards([]string{"exit 6", "ok"}, []string{"ok"})
	ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{allQuery: asltest.IDs(boards)}, PageSize: 10}
	var events [][3]string
	for i := range 40 {
		events = append(events, [3]string{fmt.Sprintf("demo-%02d-%s.txt", i, strings.Repeat("x", 300)), fmt.Sprintf("00617F08299329%04X", i), "e"})
	}
	e := m.Execute(context.Background(), sqsBatch(t, events...), asl.Options{Task: ecs.Handle})
	if e.Status != asl.StatusFailed || e.Error != contract.ErrDeliveryFailed || !strings.Contains(e.Cause, "not every key of the batch (40 keys of 40 events)") {
		t.Fatalf("status %s %s %s, want DeliveryFailed naming the batch", e.Status, e.Error, e.Cause)
	}
	got := keyLists(t, ecs)
	for id, lists := range got {
		var n int
		for _, l := range lists {
			n += len(strings.Fields(l))
		}
		if len(lists) < 2 || n != 40 {
			t.Errorf("board %s: %d tasks for %d keys, want every key in several parts", id, len(lists), n)
		}
	}
	if len(got[boards[0].Instance]) != len(got[boards[1].Instance]) {
		t.Errorf("the failing board got %d tasks, the other %d: later parts must still run", len(got[boards[0].Instance]), len(got[boards[1].Instance]))
	}
}

// Nothing the pattern Matches: no task at all.
func TestCoalescedBatchWithoutMatchingKeysIsSkipped(t *testing.T) {
	m := asltest.Definition(t, "coalesce-all")
	ecs := &asltest.ECS{Matches: map[string][]string{allQuery: nil}, PageSize: 10}
	e := m.Execute(context.Background(), sqsBatch(t, [3]string{"report.csv", "01", "x"}), asl.Options{Task: ecs.Handle})
	if e.Status != asl.StatusSucceeded || ecs.CallKinds() != 0 {
		t.Fatalf("status %s, queries %v: want Skipped without an ECS call", e.Status, ecs.Queries())
	}
}

// A batch of one: still a JSON list.
func TestCoalescedBatchOfOneKey(t *testing.T) {
	m := asltest.Definition(t, "coalesce-all")
	boards := asltest.SiteBoards([]string{"ok"})
	ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{allQuery: asltest.IDs(boards)}, PageSize: 10}
	e := m.Execute(context.Background(), sqsBatch(t, [3]string{"demo-1.txt", "01", "e1"}), asl.Options{Task: ecs.Handle})
	if e.Status != asl.StatusSucceeded {
		t.Fatalf("status %s %s %s", e.Status, e.Error, e.Cause)
	}
	if got := keyLists(t, ecs)[boards[0].Instance]; len(got) != 1 || got[0] != "demo-1.txt@01/e1/false" {
		t.Errorf("got %q", got)
	}
}
