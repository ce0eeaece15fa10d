package ecstask

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
)

// The ECS API calls the state machines make through the SDK integration.
const (
	ResourceListContainerInstances     = "arn:aws:states:::aws-sdk:ecs:listContainerInstances"
	ResourceDescribeContainerInstances = "arn:aws:states:::aws-sdk:ecs:describeContainerInstances"
)

// DefaultBoard names the one board of a runner made by NewRunner.
const DefaultBoard = "board"

// maxPage is ECS's limit for MaxResults and for the ARNs one
// DescribeContainerInstances takes.
const maxPage = 100

// Board configures one board of the fleet: an ECS Anywhere container
// instance with its identity attributes, its capacity and its disk.
type Board struct {
	Name   string
	Groups []string
	// Volumes maps a host volume's source path (e.g. /data) to the local
	// directory that stands in for it on this board.
	Volumes map[string]string
	// Slots bounds how many tasks run at once on the board.
	Slots int
}

// board is a Board registered in the cluster; the fleet's mutex guards
// connected and running.
type board struct {
	Board
	ec2ID     string // "mi-" + 17 hex digits, as SSM names managed instances
	id        string // the container instance ID (32 hex digits)
	connected bool
	running   int
}

func newBoard(b Board) *board {
	sum := sha256.Sum256([]byte("edge-drop/" + b.Name))
	h := hex.EncodeToString(sum[:])
	if b.Slots < 1 {
		b.Slots = 1
	}
	return &board{Board: b, ec2ID: "mi-" + h[:17], id: h[17:49], connected: true}
}

func (b *board) attribute(name string) (string, bool) {
	if name == contract.AttrBoard {
		return b.Name, true
	}
	if g, ok := strings.CutPrefix(name, contract.AttrGroupPrefix); ok && slices.Contains(b.Groups, g) {
		return contract.GroupMember, true
	}
	if name == "ecs.os-type" {
		return "linux", true
	}
	return "", false
}

func (b *board) ec2InstanceID() string { return b.ec2ID }

// arn is the board's container instance ARN in cluster (an ARN).
func (b *board) arn(cluster string) string {
	return strings.Replace(cluster, ":cluster/", ":container-instance/", 1) + "/" + b.id
}

// fleet is the cluster's boards, in name order.
type fleet struct {
	mu     sync.Mutex
	boards []*board
	// changed is closed (and replaced) when a slot frees or a board
	// reconnects: placement waiting for a slot looks again.
	changed chan struct{}
}

// CheckBoards validates a fleet: at least one board, valid distinct names,
// valid groups (each at most once), at most contract.MaxGroups per board.
func CheckBoards(boards []Board) error {
	if len(boards) == 0 {
		return fmt.Errorf("the fleet has no boards")
	}
	seen := map[string]bool{}
	for _, b := range boards {
		if err := contract.CheckName("board", b.Name); err != nil {
			return err
		}
		if seen[b.Name] {
			return fmt.Errorf("board %q is named twice", b.Name)
		}
		seen[b.Name] = true
		if len(b.Groups) > contract.MaxGroups {
			return fmt.Errorf("board %q is in %d groups; ECS allows %d (one attribute each)", b.Name, len(b.Groups), contract.MaxGroups)
		}
		for i, g := range b.Groups {
			if err := contract.CheckName("group", g); err != nil {
				return fmt.Errorf("board %q: %w", b.Name, err)
			}
			if slices.Contains(b.Groups[:i], g) {
				return fmt.Errorf("board %q names group %q twice", b.Name, g)
			}
		}
	}
	return nil
}

func newFleet(boards []Board) (*fleet, error) {
	if err := CheckBoards(boards); err != nil {
		return nil, err
	}
	f := &fleet{changed: make(chan struct{})}
	for _, b := range boards {
		b.Groups = slices.Clone(b.Groups)
		f.boards = append(f.boards, newBoard(b))
	}
	slices.SortFunc(f.boards, func(a, b *board) int { return strings.Compare(a.Name, b.Name) })
	return f, nil
}

func (f *fleet) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// setConnected connects or disconnects a board's agent. Tasks running on
// it keep running (a disconnected agent does not stop containers); new
// tasks are not placed on it (RunTask fails with reason AGENT).
func (f *fleet) setConnected(name string, connected bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.boards {
		if b.Name == name {
			b.connected = connected
			f.notify()
			return nil
		}
	}
	return fmt.Errorf("no board is named %q (the boards: %s)", name, strings.Join(f.names(), ", "))
}

func (f *fleet) names() []string {
	var n []string
	for _, b := range f.boards {
		n = append(n, b.Name)
	}
	return n
}

// placement failure reasons, as RunTask reports them.
const (
	reasonAgent      = "AGENT"
	reasonMemory     = "RESOURCE:MEMORY"
	reasonConstraint = "MemberOf placement constraint unsatisfied."
)

// place takes a slot on a connected board matching q (nil: any board):
// the least busy, then the first by name. With no free slot it waits, or
// with reject fails as ECS does; with no connected match it fails. A
// failure has a reason, and the board it concerns if there is one.
func (f *fleet) place(ctx context.Context, q query, reject bool) (*board, string, error) {
	for {
		f.mu.Lock()
		var best, matched, connected *board
		for _, b := range f.boards {
			if q != nil && !q.match(b) {
				continue
			}
			if matched == nil {
				matched = b
			}
			if !b.connected {
				continue
			}
			if connected == nil {
				connected = b
			}
			if b.running < b.Slots && (best == nil || b.running < best.running) {
				best = b
			}
		}
		if best != nil {
			best.running++
			f.mu.Unlock()
			return best, "", nil
		}
		changed := f.changed
		f.mu.Unlock()
		switch {
		case matched == nil:
			return nil, reasonConstraint, nil
		case connected == nil:
			return matched, reasonAgent, nil
		case reject:
			return connected, reasonMemory, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
	}
}

func (f *fleet) release(b *board) {
	f.mu.Lock()
	b.running--
	f.notify()
	f.mu.Unlock()
}

// sdkError is how Step Functions names an error of an aws-sdk
// integration: Ecs.<exception>, the message with the service's suffix.
func sdkError(exception, message string) error {
	return &asl.Error{Name: "Ecs." + exception, Cause: message + " (Service: Ecs, Status Code: 400)"}
}

// cluster resolves a Cluster parameter (short name or ARN) to the ARN of a
// cluster the runner serves.
func (r *Runner) cluster(param string) (string, error) {
	if param == "" {
		param = "default"
	}
	for _, c := range r.Clusters {
		if c == param || strings.HasSuffix(c, ":cluster/"+param) {
			return c, nil
		}
	}
	if len(r.Clusters) == 0 && strings.Contains(param, ":cluster/") {
		return param, nil // tests without an assembly: any cluster ARN
	}
	return "", sdkError("ClusterNotFoundException", "Cluster not found.")
}

func decodeParams(parameters any, into any, exception func(string, string) error) error {
	raw, _ := json.Marshal(parameters)
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields() // a misspelt parameter is an error at AWS too
	if err := dec.Decode(into); err != nil {
		return exception("InvalidParameterException", "Invalid request: "+err.Error())
	}
	return nil
}

// pageToken is what a NextToken carries: where the last page ended and
// which request it belongs to. Opaque to callers (base64 JSON).
type pageToken struct {
	After   string `json:"a"`
	Request string `json:"r"`
}

func (r *Runner) listContainerInstances(parameters any) (any, error) {
	var p struct {
		Cluster, Filter, Status, NextToken string
		MaxResults                         *int
	}
	if err := decodeParams(parameters, &p, sdkError); err != nil {
		return nil, err
	}
	cluster, err := r.cluster(p.Cluster)
	if err != nil {
		return nil, err
	}
	limit := maxPage
	if p.MaxResults != nil {
		if *p.MaxResults < 1 || *p.MaxResults > maxPage {
			return nil, sdkError("InvalidParameterException", fmt.Sprintf("MaxResults must be between 1 and %d.", maxPage))
		}
		limit = *p.MaxResults
	}
	// Every board is ACTIVE: the other statuses list none.
	switch p.Status {
	case "", "ACTIVE":
	case "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED":
		return map[string]any{"ContainerInstanceArns": []string{}}, nil
	default:
		return nil, sdkError("InvalidParameterException", fmt.Sprintf("Status %q is not one of ACTIVE, DRAINING, REGISTERING, DEREGISTERING, REGISTRATION_FAILED.", p.Status))
	}
	var q query
	if p.Filter != "" {
		if q, err = parseQuery(p.Filter); err != nil {
			return nil, sdkError("InvalidParameterException", "Filter: "+err.Error())
		}
	}
	request := cluster + "\x00" + p.Filter + "\x00" + p.Status
	after := ""
	if p.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(p.NextToken)
		var t pageToken
		if err == nil {
			err = json.Unmarshal(raw, &t)
		}
		if err != nil || t.Request != request {
			return nil, sdkError("InvalidParameterException", "Invalid NextToken: it is not from a ListContainerInstances with this cluster, filter and status.")
		}
		after = t.After
	}
	arns := []string{}
	next, last := "", ""
	r.fleet.mu.Lock()
	for _, b := range r.fleet.boards {
		if b.Name <= after || (q != nil && !q.match(b)) {
			continue
		}
		if len(arns) == limit {
			t, _ := json.Marshal(pageToken{After: last, Request: request})
			next = base64.RawURLEncoding.EncodeToString(t)
			break
		}
		arns, last = append(arns, b.arn(cluster)), b.Name
	}
	r.fleet.mu.Unlock()
	out := map[string]any{"ContainerInstanceArns": arns}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

// boardOf finds a board by container instance ARN or ID (the caller holds
// the lock).
func (f *fleet) boardOf(arnOrID string) *board {
	id := arnOrID[strings.LastIndex(arnOrID, "/")+1:]
	for _, b := range f.boards {
		if b.id == id {
			return b
		}
	}
	return nil
}

// ContainerInstance is DescribeContainerInstances' view of a board (the
// fields the state machines read).
type ContainerInstance struct {
	ContainerInstanceArn string
	Ec2InstanceId        string
	AgentConnected       bool
	Status               string
	RunningTasksCount    int
	PendingTasksCount    int
	Attributes           []Attribute
}

// Attribute is a container instance attribute; capabilities have no value.
type Attribute struct {
	Name  string
	Value string `json:",omitempty"`
}

func (r *Runner) describeContainerInstances(parameters any) (any, error) {
	var p struct {
		Cluster            string
		ContainerInstances []string
		Include            []string
	}
	if err := decodeParams(parameters, &p, sdkError); err != nil {
		return nil, err
	}
	cluster, err := r.cluster(p.Cluster)
	if err != nil {
		return nil, err
	}
	if len(p.ContainerInstances) == 0 || len(p.ContainerInstances) > maxPage {
		return nil, sdkError("InvalidParameterException", fmt.Sprintf("ContainerInstances must list 1 to %d container instances, not %d.", maxPage, len(p.ContainerInstances)))
	}
	instances := []ContainerInstance{}
	failures := []map[string]string{}
	r.fleet.mu.Lock()
	defer r.fleet.mu.Unlock()
	for _, a := range p.ContainerInstances {
		b := r.fleet.boardOf(a)
		if b == nil || (strings.HasPrefix(a, "arn:") && a != b.arn(cluster)) {
			failures = append(failures, map[string]string{"Arn": a, "Reason": "MISSING"})
			continue
		}
		attrs := []Attribute{{Name: "ecs.capability.external"}, {Name: "ecs.os-type", Value: "linux"}, {Name: contract.AttrBoard, Value: b.Name}}
		for _, g := range b.Groups {
			attrs = append(attrs, Attribute{Name: contract.GroupAttr(g), Value: contract.GroupMember})
		}
		instances = append(instances, ContainerInstance{ContainerInstanceArn: b.arn(cluster), Ec2InstanceId: b.ec2ID,
			AgentConnected: b.connected, Status: "ACTIVE", RunningTasksCount: b.running, Attributes: attrs})
	}
	return map[string]any{"ContainerInstances": instances, "Failures": failures}, nil
}
