package stacks

import (
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// taggedPipeline is the default configuration with stackTags on the app,
// as `cdk deploy --tags` or an organisation's required tags put them.
func taggedPipeline(t *testing.T) *App {
	t.Helper()
	return synthCachedWith(t, "tagged", nil, func(app awscdk.App) {
		for _, k := range slices.Sorted(maps.Keys(stackTags)) {
			awscdk.Tags_Of(app).Add(jsii.String(k), jsii.String(stackTags[k]), nil)
		}
	})
}

// With stack tags the task definition is tagged, both state machines
// propagate its tags to the task RunTask creates (tag-on-create: ECS
// authorizes ecs:TagResource), and both roles may tag exactly that: the
// tasks of this cluster, as RunTask creates them. Both name the revision
// the stack deployed, the one ARN their roles may run.
func TestStackTagsReachTheTaskAndTheRolesTagOnCreate(t *testing.T) {
	tpl := templateOf(taggedPipeline(t).Pipeline.Stack)
	tdID, td := only(t, tpl, "AWS::ECS::TaskDefinition")
	var tags []any
	for _, k := range slices.Sorted(maps.Keys(stackTags)) {
		tags = append(tags, map[string]any{"Key": k, "Value": stackTags[k]})
	}
	equalJSON(t, "task definition tags", td["Tags"], tags)

	for _, machine := range []string{"Pipeline", "Sync"} {
		var runs int
		var visit func(states map[string]any)
		visit = func(states map[string]any) {
			for name, s := range states {
				s := s.(map[string]any)
				if proc, ok := s["ItemProcessor"].(map[string]any); ok {
					visit(proc["States"].(map[string]any))
				}
				if s["Resource"] != "arn:${AWS::Partition}:states:::ecs:runTask.sync" {
					continue
				}
				runs++
				equalJSON(t, machine+" "+name+" task definition", get(t, s, "Parameters", "TaskDefinition"), "${"+tdID+"}")
				equalJSON(t, machine+" "+name+" tags", get(t, s, "Parameters", "PropagateTags"), "TASK_DEFINITION")
			}
		}
		visit(aslOf(t, tpl, machine)["States"].(map[string]any))
		if runs == 0 {
			t.Errorf("%s: no RunTask", machine)
		}
		got := reduce(t, statementsOf(t, tpl, machine+"StateMachineRole"))
		equalJSON(t, machine+" tag-on-create", got["TagTheTasksItStarts"], policyStatement{
			Sid: "TagTheTasksItStarts", Actions: []string{"ecs:TagResource"},
			Resources:  []string{"arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/edge-drop/*"},
			Conditions: `{"StringEquals":{"ecs:CreateAction":"RunTask"}}`,
		})
		equalJSON(t, machine+" run", got["RunTheDownloadTaskOnTheCluster"].Resources, []string{"${" + tdID + "}"})
	}
}
