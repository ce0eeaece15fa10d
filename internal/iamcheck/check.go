package iamcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/internal/findup"
)

// Request is one request a policy must allow or deny.
type Request struct {
	// Name says what is asked and why it must come out so ("task role
	// reads an upload").
	Name string `json:"name"`
	// Principal is a role ARN or a service principal
	// ("cloudwatch.amazonaws.com").
	Principal string `json:"principal"`
	Action    string `json:"action"`
	Resource  string `json:"resource"`
	// ResourceAccount owns the resource.
	ResourceAccount string `json:"resourceAccount"`
	// Context holds the request's condition keys: a string or []string.
	Context map[string]any `json:"context,omitempty"`
	// Identity are the principal's policies (IDs), ResourcePolicy the
	// resource's ("" = none).
	Identity       []string `json:"identity"`
	ResourcePolicy string   `json:"resourcePolicy,omitempty"`
	// Allowed is the outcome the request must have.
	Allowed bool `json:"-"`
}

// Exempt lets an action stay on Resource "*" although it takes resources,
// for a reason, in the policies of roles whose logical ID starts with
// Owner.
type Exempt struct {
	Owner  string `json:"owner"`
	Action string `json:"action"`
	Reason string `json:"reason"`
}

// Case is what is checked of one configuration.
type Case struct {
	Name     string    `json:"name"`
	Policies []Policy  `json:"policies"`
	Requests []Request `json:"requests"`
	Exempt   []Exempt  `json:"exempt,omitempty"`
}

// Result is what came of a case.
type Result struct {
	Name string `json:"name"`
	// Statements is how many statements were checked against the data.
	Statements int `json:"statements"`
	// Findings are the statements' problems, one line each.
	Findings []string        `json:"findings"`
	Requests []RequestResult `json:"requests"`
}

// RequestResult is one simulated request.
type RequestResult struct {
	Name string `json:"name"`
	// Decision is iam-simulate's: Allowed, ImplicitlyDenied,
	// ExplicitlyDenied, or "error" (Errors says why).
	Decision string `json:"decision"`
	Errors   string `json:"errors,omitempty"`
	// IgnoredContextKeys are keys of the request that do not apply to
	// the action: the request would not test what its name says.
	IgnoredContextKeys []string `json:"ignoredContextKeys,omitempty"`
}

// Allowed reports the decision as allowed (true) or denied (false).
func (r RequestResult) Allowed() bool { return r.Decision == "Allowed" }

// Problems are what is wrong with a result against its case: every
// finding, every request whose decision is not the expected one, had an
// error or set a key that does not apply, and every policy no request
// was simulated against.
func (c Case) Problems(r Result) []string {
	out := slices.Clone(r.Findings)
	used := map[string]bool{}
	for _, q := range c.Requests {
		for _, id := range q.Identity {
			used[id] = true
		}
		used[q.ResourcePolicy] = true
	}
	for _, p := range c.Policies {
		if !used[p.ID] {
			out = append(out, fmt.Sprintf("policy %s: no request is simulated against it", p.ID))
		}
	}
	want := map[string]Request{}
	for _, q := range c.Requests {
		want[q.Name] = q
	}
	for _, got := range r.Requests {
		q := want[got.Name]
		switch {
		case got.Decision == "error" || got.Errors != "":
			out = append(out, fmt.Sprintf("request %q: the simulator refused it: %s", got.Name, got.Errors))
		case len(got.IgnoredContextKeys) > 0:
			out = append(out, fmt.Sprintf("request %q: %s do not apply to %s: the request does not test what it says", got.Name, strings.Join(got.IgnoredContextKeys, ", "), q.Action))
		case got.Decision != "Allowed" && got.Decision != "ImplicitlyDenied" && got.Decision != "ExplicitlyDenied":
			out = append(out, fmt.Sprintf("request %q: unknown decision %q", got.Name, got.Decision))
		case got.Allowed() != q.Allowed:
			out = append(out, fmt.Sprintf("request %q: %s %s on %s: %s, want %s", got.Name, q.Principal, q.Action, q.Resource, got.Decision, map[bool]string{true: "Allowed", false: "denied"}[q.Allowed]))
		}
	}
	if len(r.Requests) != len(c.Requests) {
		out = append(out, fmt.Sprintf("%d requests simulated of %d", len(r.Requests), len(c.Requests)))
	}
	return out
}

// Counts are the allowed and denied requests a case expects.
func (c Case) Counts() (allowed, denied int) {
	for _, q := range c.Requests {
		if q.Allowed {
			allowed++
		} else {
			denied++
		}
	}
	return allowed, denied
}

// ErrNoNode means node or the npm packages are missing.
var ErrNoNode = errors.New("iamcheck needs node and the npm packages of package.json (npm ci)")

// Run checks the cases with check.mjs under node: one process for all.
func Run(ctx context.Context, cases []Case) ([]Result, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoNode, err)
	}
	script, err := scriptPath()
	if err != nil {
		return nil, err
	}
	for i := range cases {
		for j := range cases[i].Requests {
			if cases[i].Requests[j].Identity == nil {
				cases[i].Requests[j].Identity = []string{}
			}
		}
	}
	in, err := json.Marshal(cases)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if strings.Contains(stderr.String(), "ERR_MODULE_NOT_FOUND") {
			return nil, fmt.Errorf("%w: %s", ErrNoNode, firstLine(stderr.String()))
		}
		return nil, fmt.Errorf("node %s: %v\n%s", filepath.Base(script), err, stderr.String())
	}
	var results []Result
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
		return nil, fmt.Errorf("reading the results of %s: %v\n%s", filepath.Base(script), err, stderr.String())
	}
	if len(results) != len(cases) {
		return nil, fmt.Errorf("%s answered %d cases of %d", filepath.Base(script), len(results), len(cases))
	}
	return results, nil
}

// scriptPath is internal/iamcheck/check.mjs of the module the working
// directory is in (a test runs in its package's directory): node finds
// the packages in the module's node_modules.
func scriptPath() (string, error) {
	const script = "internal/iamcheck/check.mjs"
	dir, err := findup.Dir(script)
	if err != nil {
		return "", fmt.Errorf("iamcheck: %s: %w", script, err)
	}
	return filepath.Join(dir, filepath.FromSlash(script)), nil
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			return strings.TrimSpace(l)
		}
	}
	return s
}
