package stacks

import (
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/config"
)

// boardCalls is what a definition asks of the cluster's boards: the
// aws-sdk ECS integrations it calls (listContainerInstances,
// describeContainerInstances), nested states included.
func boardCalls(v any, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x["Resource"].(string); ok {
			for _, call := range []string{"listContainerInstances", "describeContainerInstances"} {
				if strings.HasSuffix(r, ":aws-sdk:ecs:"+call) {
					into["ecs:"+strings.ToUpper(call[:1])+call[1:]] = true
				}
			}
		}
		for _, e := range x {
			boardCalls(e, into)
		}
	case []any:
		for _, e := range x {
			boardCalls(e, into)
		}
	}
}

// roleActions is every action of a role's inline policies.
func roleActions(t *testing.T, role map[string]any) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, p := range list(get(t, role, "Properties", "Policies")) {
		for _, st := range list(get(t, p, "PolicyDocument", "Statement")) {
			for _, a := range list(st.(map[string]any)["Action"]) {
				out[a.(string)] = true
			}
		}
	}
	return out
}

// Least privilege per state machine: a role may list or describe the
// cluster's boards only when its definition makes that call (the page
// machine of a paged delivery is given its boards' ARNs and never lists).
func TestEachStateMachineRoleAllowsOnlyTheBoardCallsItMakes(t *testing.T) {
	configs := map[string]map[string]any{
		"fleet-paged":        pagedConfig,
		"fleet-paged-routed": pagedRoutedConfig,
		"paged-deletes":      {config.KeyDeliverTo: "all", config.KeyMaxBoards: "10000", config.KeyMirrorDeletes: true},
		"sync-group":         {config.KeyDeliverTo: "group:site1", config.KeySyncEvery: "6h"},
		"any":                {},
	}
	for name, c := range fleetConfigs {
		configs[name] = c
	}
	for name, overrides := range configs {
		tpl := fleetPipeline(t, name, overrides)
		roles := resources(t, tpl, "AWS::IAM::Role")
		for id, sm := range resources(t, tpl, "AWS::StepFunctions::StateMachine") {
			props := sm["Properties"].(map[string]any)
			calls := map[string]bool{}
			boardCalls(definitionOf(t, props), calls)
			roleID := get(t, props, "RoleArn", "Fn::GetAtt", 0).(string)
			allowed := roleActions(t, roles[roleID])
			for _, a := range []string{"ecs:ListContainerInstances", "ecs:DescribeContainerInstances"} {
				if allowed[a] != calls[a] {
					t.Errorf("%s: %s's role allows %s: %v, its definition calls it: %v", name, id, a, allowed[a], calls[a])
				}
			}
		}
	}
}
