package cli

import (
	"context"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/deployment"
	"github.com/edge-drop/edge-drop/internal/fault"
	"github.com/edge-drop/edge-drop/internal/fleetstatus"
	"github.com/edge-drop/edge-drop/internal/ledger"
)

// session finds the deployment once per run, from the global flags.
type session struct {
	env  Env
	opts *options
	dep  *deployment.Deployment
}

func (s *session) deployment(ctx context.Context) (*deployment.Deployment, error) {
	if s.dep != nil {
		return s.dep, nil
	}
	var err error
	if s.opts.local != "" {
		s.dep, err = deployment.FromLocal(s.opts.local)
	} else {
		stack := s.opts.stack
		if stack == "" {
			stack = deployment.DefaultStack(s.env.Dir)
		}
		s.dep, err = deployment.FromStack(ctx, stack, s.opts.profile, s.opts.region)
	}
	return s.dep, err
}

func (s *session) poll() time.Duration {
	if s.env.Poll > 0 {
		return s.env.Poll
	}
	if s.opts.local != "" {
		return 250 * time.Millisecond
	}
	return 2 * time.Second
}

func (s *session) json() bool { return s.opts.output == "json" }

// ledger is the deployment's ledger reader.
func (s *session) ledger(ctx context.Context) (*ledger.Reader, error) {
	d, err := s.deployment(ctx)
	if err != nil {
		return nil, err
	}
	return fleetstatus.LedgerOf(d)
}

// fleet joins the ledger, the cluster and the bucket.
func (s *session) fleet(ctx context.Context) (*fleetstatus.Fleet, error) {
	return s.fleetWith(ctx, true)
}

// fleetWith is fleet, without the ledger (nil) when it is not needed and
// the deployment has none.
func (s *session) fleetWith(ctx context.Context, needLedger bool) (*fleetstatus.Fleet, error) {
	d, err := s.deployment(ctx)
	if err != nil {
		return nil, err
	}
	return fleetstatus.FromDeployment(d, needLedger, s.env.now)
}

// checkBoardName rejects a name no board can have before asking anyone.
func checkBoardName(name string) error {
	if err := contract.CheckName("board", name); err != nil {
		return fault.Usagef("%v", err)
	}
	return nil
}

// checkKey rejects what no S3 object key can be.
func checkKey(key string) error {
	if key == "" || len(key) > 1024 {
		return fault.Usagef("key %q: an S3 key is 1 to 1,024 bytes", contract.Cut(key, 60))
	}
	return nil
}
