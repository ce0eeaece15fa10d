package ecstask

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/assembly"
)

const clusterARN = "arn:aws:ecs:eu-west-1:1:cluster/boards"

// newTestFleet: boards a (no group), b and c (site1), c also in eu, each
// with its own data dir under the returned directory.
func newTestFleet(t *testing.T, extra ...Board) (*Runner, string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "task.sh")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	boards := []Board{{Name: "c", Groups: []string{"site1", "eu"}}, {Name: "a"}, {Name: "b", Groups: []string{"site1"}}}
	boards = append(boards, extra...)
	for i := range boards {
		boards[i].Volumes = map[string]string{"/data": filepath.Join(dir, boards[i].Name)}
	}
	r, err := NewFleetRunner(map[string]assembly.TaskDefinition{"dl": def}, bin, nil, boards)
	if err != nil {
		t.Fatal(err)
	}
	r.Clusters = []string{clusterARN}
	r.StopTimeout = 2 * time.Second
	return r, dir
}

// call runs resource and returns its output as generic JSON (what the
// state machine sees).
func call(t *testing.T, r *Runner, resource string, params map[string]any) (map[string]any, error) {
	t.Helper()
	out, err := r.Handle(context.Background(), resource, params)
	if err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(out)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m, nil
}

func errName(err error) string {
	var se *asl.Error
	if errors.As(err, &se) {
		return se.Name
	}
	return fmt.Sprint(err)
}

func strs(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

var instanceARN = regexp.MustCompile(`^arn:aws:ecs:eu-west-1:1:container-instance/boards/[0-9a-f]{32}$`)

func TestListContainerInstancesFiltersAndPages(t *testing.T) {
	r, _ := newTestFleet(t, Board{Name: "d"}, Board{Name: "e", Groups: []string{"site1"}})
	list := func(filter string, max int, token string) (map[string]any, error) {
		p := map[string]any{"Cluster": clusterARN, "Filter": filter, "Status": "ACTIVE", "MaxResults": max}
		if token != "" {
			p["NextToken"] = token
		}
		return call(t, r, ResourceListContainerInstances, p)
	}
	names := func(arns []string) string {
		out, err := call(t, r, ResourceDescribeContainerInstances, map[string]any{"Cluster": "boards", "ContainerInstances": arns})
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, ci := range out["ContainerInstances"].([]any) {
			for _, a := range ci.(map[string]any)["Attributes"].([]any) {
				if a.(map[string]any)["Name"] == contract.AttrBoard {
					n = append(n, a.(map[string]any)["Value"].(string))
				}
			}
		}
		return strings.Join(n, ",")
	}
	for _, tc := range []struct{ filter, want string }{
		{"attribute:edge-drop.board exists", "a,b,c,d,e"},
		{"attribute:edge-drop.board == c", "c"},
		{"attribute:edge-drop.group.site1 exists", "b,c,e"},
		{"attribute:edge-drop.board == eu or attribute:edge-drop.group.eu exists", "c"},
		{"attribute:edge-drop.board == nobody", ""},
	} {
		// Two per page: every page but the last has a NextToken.
		var all []string
		token := ""
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatalf("%s: pagination does not end", tc.filter)
			}
			out, err := list(tc.filter, 2, token)
			if err != nil {
				t.Fatalf("%s: %v", tc.filter, err)
			}
			arns := strs(out["ContainerInstanceArns"])
			for _, a := range arns {
				if !instanceARN.MatchString(a) {
					t.Errorf("ARN %q is not a container instance ARN", a)
				}
			}
			all = append(all, arns...)
			next, _ := out["NextToken"].(string)
			if next == "" {
				break
			}
			if len(arns) != 2 {
				t.Errorf("%s: a page of %d with a NextToken", tc.filter, len(arns))
			}
			token = next
		}
		got := ""
		if len(all) > 0 {
			got = names(all)
		}
		if got != tc.want {
			t.Errorf("%s: listed %q, want %q", tc.filter, got, tc.want)
		}
	}

	// A token belongs to its request.
	out, _ := list("attribute:edge-drop.board exists", 1, "")
	if _, err := list("attribute:edge-drop.group.site1 exists", 1, out["NextToken"].(string)); errName(err) != "Ecs.InvalidParameterException" {
		t.Errorf("a token from another filter: %v", err)
	}
	for name, p := range map[string]map[string]any{
		"unknown cluster":   {"Cluster": "arn:aws:ecs:eu-west-1:1:cluster/other"},
		"unknown short":     {"Cluster": "other"},
		"max 0":             {"Cluster": clusterARN, "MaxResults": 0},
		"max 101":           {"Cluster": clusterARN, "MaxResults": 101},
		"bad status":        {"Cluster": clusterARN, "Status": "active"},
		"bad token":         {"Cluster": clusterARN, "NextToken": "x"},
		"unsupported query": {"Cluster": clusterARN, "Filter": "attribute:a =~ b.*"},
		"misspelt param":    {"Cluster": clusterARN, "Filters": "attribute:a exists"},
	} {
		_, err := call(t, r, ResourceListContainerInstances, p)
		want := "Ecs.InvalidParameterException"
		if strings.HasPrefix(name, "unknown") {
			want = "Ecs.ClusterNotFoundException"
		}
		if errName(err) != want {
			t.Errorf("%s: got %v, want %s", name, err, want)
		}
	}
	if out, err := list("", 100, ""); err != nil || len(strs(out["ContainerInstanceArns"])) != 5 {
		t.Errorf("no filter lists every board: %v %v", out, err)
	}
	out, err := call(t, r, ResourceListContainerInstances, map[string]any{"Cluster": "boards", "Status": "DRAINING"})
	if err != nil || len(out["ContainerInstanceArns"].([]any)) != 0 {
		t.Errorf("no board drains: %v %v", out, err)
	}
}

func TestDescribeContainerInstancesShapes(t *testing.T) {
	r, _ := newTestFleet(t)
	out, _ := call(t, r, ResourceListContainerInstances, map[string]any{"Cluster": clusterARN, "Filter": "attribute:edge-drop.board == c"})
	arn := strs(out["ContainerInstanceArns"])[0]
	missing := "arn:aws:ecs:eu-west-1:1:container-instance/boards/00000000000000000000000000000000"
	if err := r.SetConnected("c", false); err != nil {
		t.Fatal(err)
	}
	out, err := call(t, r, ResourceDescribeContainerInstances, map[string]any{"Cluster": clusterARN, "ContainerInstances": []string{arn, missing}})
	if err != nil {
		t.Fatal(err)
	}
	ci := out["ContainerInstances"].([]any)[0].(map[string]any)
	if ci["ContainerInstanceArn"] != arn || ci["AgentConnected"] != false || ci["Status"] != "ACTIVE" ||
		!regexp.MustCompile(`^mi-[0-9a-f]{17}$`).MatchString(ci["Ec2InstanceId"].(string)) {
		t.Errorf("instance: %v", ci)
	}
	attrs := map[string]any{}
	for _, a := range ci["Attributes"].([]any) {
		attrs[a.(map[string]any)["Name"].(string)] = a.(map[string]any)["Value"]
	}
	if attrs[contract.AttrBoard] != "c" || attrs[contract.GroupAttr("site1")] != contract.GroupMember ||
		attrs[contract.GroupAttr("eu")] != contract.GroupMember || len(attrs) != 5 {
		t.Errorf("attributes: %v", attrs)
	}
	f := out["Failures"].([]any)
	if len(f) != 1 || f[0].(map[string]any)["Arn"] != missing || f[0].(map[string]any)["Reason"] != "MISSING" {
		t.Errorf("failures: %v", f)
	}
	// Stable identity: the same name is the same instance.
	r2, _ := newTestFleet(t)
	out2, _ := call(t, r2, ResourceDescribeContainerInstances, map[string]any{"Cluster": clusterARN, "ContainerInstances": []string{arn}})
	if ci2 := out2["ContainerInstances"].([]any)[0].(map[string]any); ci2["Ec2InstanceId"] != ci["Ec2InstanceId"] {
		t.Errorf("identity changed: %v vs %v", ci2["Ec2InstanceId"], ci["Ec2InstanceId"])
	}
	tooMany := make([]string, 101)
	for i := range tooMany {
		tooMany[i] = arn
	}
	if _, err := call(t, r, ResourceDescribeContainerInstances, map[string]any{"Cluster": clusterARN, "ContainerInstances": tooMany}); errName(err) != "Ecs.InvalidParameterException" {
		t.Errorf("101 instances: %v", err)
	}
	if _, err := call(t, r, ResourceDescribeContainerInstances, map[string]any{"Cluster": "x", "ContainerInstances": []string{arn}}); errName(err) != "Ecs.ClusterNotFoundException" {
		t.Errorf("unknown cluster: %v", err)
	}
}

func ec2ID(t *testing.T, r *Runner, name string) string {
	t.Helper()
	r.fleet.mu.Lock()
	defer r.fleet.mu.Unlock()
	for _, b := range r.fleet.boards {
		if b.Name == name {
			return b.ec2ID
		}
	}
	t.Fatalf("no board %s", name)
	return ""
}

func onBoard(p map[string]any, expr string) map[string]any {
	p["PlacementConstraints"] = []any{map[string]any{"Type": "memberOf", "Expression": expr}}
	return p
}

func TestRunTaskPlacesOnTheMatchingBoard(t *testing.T) {
	r, dir := newTestFleet(t)
	var mu sync.Mutex
	dirs := map[string]string{}
	r.OnLog = func(id, line string) { mu.Lock(); dirs[id] = line; mu.Unlock() }
	out, err := call(t, r, ResourceRunTaskSync, onBoard(params(), "ec2InstanceId == "+ec2ID(t, r, "b")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fmt.Sprint(dirs), "dir="+filepath.Join(dir, "b")+" ") {
		t.Errorf("the task did not get board b's data dir: %v", dirs)
	}
	if !instanceARN.MatchString(out["ContainerInstanceArn"].(string)) {
		t.Errorf("ContainerInstanceArn: %v", out["ContainerInstanceArn"])
	}

	// Disconnected: AGENT, with the failures as the cause.
	if err := r.SetConnected("b", false); err != nil {
		t.Fatal(err)
	}
	_, err = r.Handle(context.Background(), ResourceRunTaskSync, onBoard(params(), "ec2InstanceId == "+ec2ID(t, r, "b")))
	var se *asl.Error
	if !errors.As(err, &se) || se.Name != contract.ErrPlacement {
		t.Fatalf("offline board: %v", err)
	}
	var cause struct {
		Failures []struct{ Arn, Reason string }
	}
	if json.Unmarshal([]byte(se.Cause), &cause) != nil || len(cause.Failures) != 1 || cause.Failures[0].Reason != "AGENT" ||
		!instanceARN.MatchString(cause.Failures[0].Arn) {
		t.Errorf("cause: %s", se.Cause)
	}
	// A group with one board offline places on the other.
	if _, err := call(t, r, ResourceRunTaskSync, onBoard(params(), "attribute:edge-drop.group.site1 exists")); err != nil {
		t.Errorf("group with c connected: %v", err)
	}
	if err := r.SetConnected("b", true); err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, r, ResourceRunTaskSync, onBoard(params(), "ec2InstanceId == "+ec2ID(t, r, "b"))); err != nil {
		t.Errorf("back online: %v", err)
	}

	_, err = r.Handle(context.Background(), ResourceRunTaskSync, onBoard(params(), "ec2InstanceId == mi-00000000000000000"))
	if !errors.As(err, &se) || se.Name != contract.ErrPlacement || !strings.Contains(se.Cause, "MemberOf placement constraint unsatisfied") {
		t.Errorf("no matching board: %v", err)
	}
	_, err = r.Handle(context.Background(), ResourceRunTaskSync, onBoard(params(), "attribute:a in [x]"))
	if !errors.As(err, &se) || se.Name != "ECS.InvalidParameterException" || !strings.Contains(se.Cause, `"in"`) {
		t.Errorf("unsupported expression: %v", err)
	}
	if err := r.SetConnected("zz", false); err == nil || !strings.Contains(err.Error(), "a, b, c") {
		t.Errorf("unknown board: %v", err)
	}
}

func TestDisconnectedBoardsRunningTaskFinishes(t *testing.T) {
	r, _ := newTestFleet(t)
	started := make(chan struct{})
	var once sync.Once
	r.OnLog = func(string, string) { once.Do(func() { close(started) }) }
	done := make(chan error, 1)
	go func() {
		_, err := r.Handle(context.Background(), ResourceRunTaskSync, onBoard(params("SLEEP", "0.3"), "attribute:edge-drop.board == a"))
		done <- err
	}()
	<-started
	if err := r.SetConnected("a", false); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("a running task keeps running when its agent disconnects: %v", err)
	}
}

func TestConcurrentRunTasksOverTheFleet(t *testing.T) {
	r, dir := newTestFleet(t)
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := []string{"a", "b", "c"}[i%3]
			if i%10 == 0 {
				_ = r.SetConnected(name, i%20 == 0)
			}
			_, err := r.Handle(context.Background(), ResourceRunTaskSync, onBoard(params(), "attribute:edge-drop.board == "+name))
			var se *asl.Error
			if err != nil && (!errors.As(err, &se) || se.Name != contract.ErrPlacement || !strings.Contains(se.Cause, `"AGENT"`)) {
				t.Errorf("board %s: %v (want success, or AGENT while it is offline)", name, err)
			}
			if _, err := call(t, r, ResourceListContainerInstances, map[string]any{"Cluster": clusterARN}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	r.fleet.mu.Lock()
	defer r.fleet.mu.Unlock()
	for _, b := range r.fleet.boards {
		if b.running != 0 {
			t.Errorf("board %s still counts %d running tasks", b.Name, b.running)
		}
	}
	for _, n := range []string{"a", "c"} { // connected throughout
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("board %s never ran a task: %v", n, err)
		}
	}
}

func TestFleetConfigIsValidated(t *testing.T) {
	groups := make([]string, contract.MaxGroups+1)
	for i := range groups {
		groups[i] = fmt.Sprintf("g%d", i)
	}
	for name, tc := range map[string]struct {
		boards []Board
		want   string
	}{
		"none":       {nil, "no boards"},
		"bad name":   {[]Board{{Name: "a.b"}}, `board name "a.b"`},
		"duplicate":  {[]Board{{Name: "a"}, {Name: "a"}}, `"a" is named twice`},
		"bad group":  {[]Board{{Name: "a", Groups: []string{"x y"}}}, `group name "x y"`},
		"too many":   {[]Board{{Name: "a", Groups: groups}}, "10 groups"},
		"empty name": {[]Board{{Name: ""}}, `board name ""`},
	} {
		_, err := NewFleetRunner(nil, "", nil, tc.boards)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// A full board is busy for its own tasks even when another has room: the
// constraint decides where, the slots only when.
func TestPlacementHonoursConstraintWhenBusy(t *testing.T) {
	r, _ := newTestFleet(t)
	r.RejectWhenBusy = true
	a, _, err := r.fleet.place(context.Background(), attrQuery{name: contract.AttrBoard, op: "==", value: "a"}, true)
	if err != nil || a == nil || a.Name != "a" {
		t.Fatalf("place on a: %v %v", a, err)
	}
	_, err = r.Handle(context.Background(), ResourceRunTaskSync, onBoard(params(), "attribute:edge-drop.board == a"))
	var se *asl.Error
	if !errors.As(err, &se) || se.Name != contract.ErrPlacement || !strings.Contains(se.Cause, "RESOURCE:MEMORY") || !strings.Contains(se.Cause, a.arn(clusterARN)) {
		t.Errorf("a full: %v", err)
	}
	// Any board: the free ones take it.
	out, err := call(t, r, ResourceRunTaskSync, params())
	if err != nil || out["ContainerInstanceArn"] == a.arn(clusterARN) {
		t.Errorf("no constraint, a full: %v on %v", err, out["ContainerInstanceArn"])
	}
	r.fleet.release(a)
	if _, err := call(t, r, ResourceRunTaskSync, onBoard(params(), "attribute:edge-drop.board == a")); err != nil {
		t.Errorf("a free again: %v", err)
	}
}
