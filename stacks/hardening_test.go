package stacks

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/constructs/pipeline"
	"github.com/edge-drop/edge-drop/contract"
)

// The security review of issue 13, one assertion per finding.

// Every role a service assumes names this account and a resource pattern
// of that service in this account and region (confused-deputy conditions).
func TestServiceTrustPoliciesCarryConfusedDeputyConditions(t *testing.T) {
	sourceArn := map[string]string{
		"ssm.amazonaws.com":       "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:*",
		"ecs-tasks.amazonaws.com": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*",
		"states.amazonaws.com":    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:*",
		"events.amazonaws.com":    "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/*",
	}
	for name, overrides := range map[string]map[string]any{"default": nil, "imported": imported} {
		seen := map[string]int{}
		for _, stack := range synthCached(t, name, overrides).Stacks() {
			for id, role := range resources(t, assertions.Template_FromStack(stack, nil), "AWS::IAM::Role") {
				sts := get(t, role, "Properties", "AssumeRolePolicyDocument", "Statement").([]any)
				if len(sts) != 1 {
					t.Fatalf("%s %s: want one trust statement, got %s", name, id, mustJSON(t, sts))
				}
				service, _ := get(t, sts[0], "Principal").(map[string]any)["Service"].(string)
				want, ok := sourceArn[service]
				if !ok {
					if service != "lambda.amazonaws.com" { // CDK's notifications handler: Lambda documents no such keys
						t.Errorf("%s %s: unexpected principal %s", name, id, service)
					}
					continue
				}
				seen[service]++
				cond := get(t, sts[0], "Condition").(map[string]any)
				equalJSON(t, id+" SourceAccount", render(t, get(t, cond, "StringEquals", "aws:SourceAccount")), "${AWS::AccountId}")
				equalJSON(t, id+" SourceArn", render(t, get(t, cond, "ArnLike", "aws:SourceArn")), want)
				if len(cond) != 2 {
					t.Errorf("%s: conditions %s", id, mustJSON(t, cond))
				}
			}
		}
		// Two state machines (pipeline, sync) and two rule targets (the
		// upload rule, the sync schedule).
		want := map[string]int{"ecs-tasks.amazonaws.com": 2, "states.amazonaws.com": 2, "events.amazonaws.com": 2}
		if name == "default" {
			want["ssm.amazonaws.com"] = 1
		}
		equalJSON(t, name+" trusted services", seen, want)
	}
}

// policyStatement is a statement reduced to what the review checks.
type policyStatement struct {
	Sid        string
	Actions    []string
	Resources  []string
	Conditions string
}

func reduce(t *testing.T, sts []map[string]any) map[string]policyStatement {
	t.Helper()
	out := map[string]policyStatement{}
	for _, st := range sts {
		if st["Effect"] != "Allow" {
			t.Errorf("unexpected %v statement", st["Effect"])
		}
		p := policyStatement{Sid: st["Sid"].(string)}
		for _, a := range list(st["Action"]) {
			p.Actions = append(p.Actions, a.(string))
		}
		for _, r := range list(st["Resource"]) {
			p.Resources = append(p.Resources, render(t, r))
		}
		slices.Sort(p.Actions)
		slices.Sort(p.Resources)
		if c, ok := st["Condition"].(map[string]any); ok {
			rendered := map[string]map[string]string{}
			for op, kv := range c {
				rendered[op] = map[string]string{}
				for k, v := range kv.(map[string]any) {
					rendered[op][k] = render(t, v)
				}
			}
			p.Conditions = mustJSON(t, rendered)
		}
		out[p.Sid] = p
	}
	return out
}

const clusterArn = "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/edge-drop"

// The boards' role: the agents' calls on this cluster and its instances,
// the rest bound to the region; no parameter reads, no ECR, no logs.
func TestBoardPolicyIsScopedToTheClusterAndRegion(t *testing.T) {
	tpl := assertions.Template_FromStack(synthCached(t, "default", nil).Cluster.Stack, nil)
	clusterID, _ := only(t, tpl, "AWS::ECS::Cluster")
	roleID, _ := only(t, tpl, "AWS::IAM::Role")
	inRegion := `{"StringEquals":{"aws:RequestedRegion":"${AWS::Region}"}}`
	got := reduce(t, statements(t, tpl)["${"+roleID+"}"])
	equalJSON(t, "board policy", got, map[string]policyStatement{
		"EcsAgentOnThisCluster": {Sid: "EcsAgentOnThisCluster",
			Actions: []string{"ecs:DeregisterContainerInstance", "ecs:RegisterContainerInstance",
				"ecs:SubmitAttachmentStateChanges", "ecs:SubmitContainerStateChange", "ecs:SubmitTaskStateChange"},
			Resources: []string{"${" + clusterID + ".Arn}"}},
		"EcsAgentOnItsContainerInstances": {Sid: "EcsAgentOnItsContainerInstances",
			Actions:   []string{"ecs:Poll", "ecs:StartTelemetrySession"},
			Resources: []string{"arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:container-instance/edge-drop/*"}},
		"AgentCallsWithoutResourceTypes": {Sid: "AgentCallsWithoutResourceTypes",
			Actions: []string{"ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
				"ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply", "ecs:DiscoverPollEndpoint",
				"ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
				"ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"},
			Resources: []string{"*"}, Conditions: inRegion},
	})
	for _, st := range got {
		for _, a := range st.Actions {
			if strings.HasPrefix(a, "ssm:GetParameter") || strings.HasPrefix(a, "ecr:") || strings.HasPrefix(a, "logs:") || a == "ecs:CreateCluster" {
				t.Errorf("board policy grants %s", a)
			}
		}
	}
}

// boardPolicy=managed is the documented fallback: AWS's two policies only.
func TestManagedBoardPolicyFallback(t *testing.T) {
	tpl := assertions.Template_FromStack(synthCached(t, "customized", customized).Cluster.Stack, nil)
	roleID, role := only(t, tpl, "AWS::IAM::Role")
	var managed []string
	for _, p := range role["ManagedPolicyArns"].([]any) {
		managed = append(managed, render(t, p))
	}
	equalJSON(t, "managed policies", managed, []string{
		"arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore",
		"arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
	})
	if sts := statements(t, tpl)["${"+roleID+"}"]; len(sts) != 0 {
		t.Errorf("managed: no own statements, got %s", mustJSON(t, sts))
	}
}

// The state machine role: RunTask, DescribeTasks and StopTask only on the
// one cluster, TagResource only on its tasks as RunTask creates them,
// PassRole only to ECS tasks, nothing else on "*" but log
// delivery and X-Ray, and exactly the actions CDK's runTask.sync, logging
// and tracing grants would hold.
func TestStateMachineRoleIsBoundToTheCluster(t *testing.T) {
	for name, overrides := range map[string]map[string]any{"default": nil, "imported": imported} {
		tpl := assertions.Template_FromStack(synthCached(t, name, overrides).Pipeline.Stack, nil)
		cluster := clusterArn
		if name == "imported" {
			cluster = strings.Replace(clusterArn, "edge-drop", "existing-edge-cluster", 1)
		}
		clusterName := cluster[strings.LastIndex(cluster, "/")+1:]
		onCluster := `{"ArnEquals":{"ecs:cluster":"` + cluster + `"}}`
		tdID, _ := only(t, tpl, "AWS::ECS::TaskDefinition")
		got := reduce(t, statementsOf(t, tpl, "PipelineStateMachineRole"))
		var anyActions []string
		anyActions = append(anyActions, pipeline.StateMachineAnyResourceActions...)
		slices.Sort(anyActions)
		var roles []string
		for id := range resources(t, tpl, "AWS::IAM::Role") {
			if strings.Contains(id, "DownloadTask") {
				roles = append(roles, "${"+id+".Arn}")
			}
		}
		slices.Sort(roles)
		equalJSON(t, name+" state machine policy", got, map[string]policyStatement{
			"RunTheDownloadTaskOnTheCluster": {Sid: "RunTheDownloadTaskOnTheCluster", Actions: []string{"ecs:RunTask"},
				Resources: []string{"${" + tdID + "}"}, Conditions: onCluster},
			"WatchAndStopItsTasks": {Sid: "WatchAndStopItsTasks", Actions: []string{"ecs:DescribeTasks", "ecs:StopTask"},
				Resources:  []string{"arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/" + clusterName + "/*"},
				Conditions: onCluster},
			// RunTask with PropagateTags is tag-on-create: ECS authorizes
			// ecs:TagResource on the new task (stack tags break it otherwise).
			"TagTheTasksItStarts": {Sid: "TagTheTasksItStarts", Actions: []string{"ecs:TagResource"},
				Resources:  []string{"arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/" + clusterName + "/*"},
				Conditions: `{"StringEquals":{"ecs:CreateAction":"RunTask"}}`},
			"PassTheTaskRolesToEcsTasksOnly": {Sid: "PassTheTaskRolesToEcsTasksOnly", Actions: []string{"iam:PassRole"},
				Resources: roles, Conditions: `{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}`},
			"ManagedRuleOfRunTaskSync": {Sid: "ManagedRuleOfRunTaskSync", Actions: []string{"events:DescribeRule", "events:PutRule", "events:PutTargets"},
				Resources: []string{"arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForECSTaskRule"}},
			"LogDeliveryAndTracing": {Sid: "LogDeliveryAndTracing", Actions: anyActions, Resources: []string{"*"}},
		})
		// The actions CDK granted itself before the role was written out
		// (runTask.sync, logging, tracing): none may go missing.
		var all []string
		for _, st := range got {
			all = append(all, st.Actions...)
		}
		for _, a := range []string{"ecs:RunTask", "ecs:DescribeTasks", "ecs:StopTask", "iam:PassRole", "events:PutTargets", "events:PutRule",
			"events:DescribeRule", "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
			"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
			"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"} {
			if !slices.Contains(all, a) {
				t.Errorf("%s: the state machine role lacks %s", name, a)
			}
		}
		// CDK's own default policy does not come back next to it.
		for owner := range statements(t, tpl) {
			if strings.Contains(owner, "StateMachineRoleDefaultPolicy") {
				t.Errorf("%s: CDK added %s", name, owner)
			}
		}
	}
}

// The pipeline imports the cluster by name: no cross-stack reference, no
// export in the cluster stack; the stack dependency orders deploys.
func TestClusterIsImportedByNameWithoutCrossStackReferences(t *testing.T) {
	app := synthCached(t, "default", nil)
	for _, stack := range app.Stacks() {
		text := mustJSON(t, assertions.Template_FromStack(stack, nil).ToJSON())
		for _, fn := range []string{"Fn::GetStackOutput", "Fn::ImportValue", `"Export"`} {
			if strings.Contains(text, fn) {
				t.Errorf("%s uses %s", *stack.StackName(), fn)
			}
		}
	}
	deps := app.Pipeline.Dependencies()
	if len(*deps) != 1 || *(*deps)[0].StackName() != *app.Cluster.StackName() {
		t.Errorf("the pipeline stack must depend on the cluster stack (deploy order), got %d dependencies", len(*deps))
	}
}

// A slow board must end in a state with a Catch, never TIMED_OUT: the
// execution timeout exceeds the worst-case Retry waits plus the task's
// timeout, computed here from the synthesized ASL, for every config, and
// stays far below the one-year ceiling of STANDARD executions.
func TestExecutionTimeoutCoversEveryRetryAndTheTask(t *testing.T) {
	configs := map[string]map[string]any{
		"default": nil, "customized": customized,
		"shortest task": {config.KeyTaskTimeout: "1m"},
		"longest task":  {config.KeyTaskTimeout: "24h"},
	}
	for name, overrides := range configs {
		def := asl(t, assertions.Template_FromStack(synthCached(t, name, overrides).Pipeline.Stack, nil))
		execution := get(t, def, "TimeoutSeconds").(float64)
		task := get(t, def, "States", contract.StateDownload).(map[string]any)
		worst := task["TimeoutSeconds"].(float64)
		attempts := 1.0
		for _, r := range task["Retry"].([]any) {
			rule := r.(map[string]any)
			wait := rule["IntervalSeconds"].(float64)
			for range int(rule["MaxAttempts"].(float64)) {
				worst += math.Min(wait, rule["MaxDelaySeconds"].(float64))
				wait *= rule["BackoffRate"].(float64)
				attempts++
			}
		}
		t.Logf("%s: task %.0f s, worst case %.0f s over %.0f attempts, execution timeout %.0f s", name, task["TimeoutSeconds"], worst, attempts, execution)
		// Each failed attempt gets at least a minute of its own on top.
		if execution < worst+attempts*60 {
			t.Errorf("%s: execution timeout %.0f s < worst case %.0f s + %.0f attempts × 60 s: a slow board ends TIMED_OUT", name, execution, worst, attempts)
		}
		if execution > 2*24*3600 { // far below the 1-year STANDARD ceiling
			t.Errorf("%s: execution timeout %.0f s is not sane", name, execution)
		}
	}
}

// Every log group has the configured retention; the state machine's is a
// vended-logs name; every Lambda function (CDK's notifications handler)
// logs to such a group instead of an unbounded /aws/lambda/... one.
func TestEveryLogGroupHasRetention(t *testing.T) {
	for name, overrides := range map[string]map[string]any{"default": nil, "customized": customized, "imported": imported} {
		days := 30
		if name == "customized" {
			days = 7
		}
		app := synthCached(t, name, overrides)
		tpl := assertions.Template_FromStack(app.Pipeline.Stack, nil)
		groups := resources(t, tpl, "AWS::Logs::LogGroup")
		for id, lg := range groups {
			equalJSON(t, name+" "+id+" retention", get(t, lg, "Properties", "RetentionInDays"), days)
		}
		_, sm := onlyOf(t, tpl, "AWS::StepFunctions::StateMachine", "Pipeline")
		smGroup := render(t, get(t, sm, "LoggingConfiguration", "Destinations", 0, "CloudWatchLogsLogGroup", "LogGroupArn"))
		smGroupID := strings.TrimSuffix(strings.TrimPrefix(smGroup, "${"), ".Arn}")
		// /aws/vendedlogs/states/<stack>-<stack GUID>: unique per stack instance.
		equalJSON(t, name+" state machine log group", get(t, groups[smGroupID], "Properties", "LogGroupName"), map[string]any{"Fn::Join": []any{"", []any{
			"/aws/vendedlogs/states/" + *app.Pipeline.StackName() + "-",
			map[string]any{"Fn::Select": []any{2, map[string]any{"Fn::Split": []any{"/", map[string]any{"Ref": "AWS::StackId"}}}}},
		}}})
		functions := resources(t, tpl, "AWS::Lambda::Function")
		if len(functions) == 0 && name == "imported" {
			t.Errorf("%s: expected CDK's notifications handler", name)
		}
		for id, fn := range functions {
			ref := render(t, get(t, fn, "Properties", "LoggingConfig", "LogGroup"))
			if _, ok := groups[strings.Trim(ref, "${}")]; !ok {
				t.Errorf("%s %s logs to %s, not to a log group with retention", name, id, ref)
			}
		}
	}
}
