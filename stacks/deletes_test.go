package stacks

import (
	"testing"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/contract"
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
		checkTestdata(t, name, want, "TestDeleteTestdata")
	}
}
