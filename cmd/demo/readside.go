package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/deployment"
	"github.com/edge-drop/edge-drop/internal/fleetstatus"
	"github.com/edge-drop/edge-drop/internal/statuspage"
	"github.com/edge-drop/edge-drop/local/ecsapi"
	"github.com/edge-drop/edge-drop/local/endpoints"
	"github.com/edge-drop/edge-drop/local/localrun"
)

// readSide is what the edge-drop CLI (--local) and the status page talk
// to while the demo runs: the fleet's ECS calls, the endpoints file in the
// state dir, and the page itself.
type readSide struct {
	ecs  *ecsapi.Server
	page *statuspage.Server
	dir  string
}

// ledgerEndpoint is the demo's ledger, when it keeps one: its DynamoDB
// endpoint and table (the stack's LedgerTableName output).
type ledgerEndpoint struct{ URL, Table string }

// startReadSide serves the fleet's ECS calls, writes the endpoints file
// (removed by Close) and starts the status page. syncEvery, when set,
// replaces the app's schedule in the delivery configuration the CLI reads
// (the demo's -sync-every).
func startReadSide(ctx context.Context, p *localrun.Pipeline, state string, cfg config.Config, syncEvery time.Duration, sfnURL string, ledger ledgerEndpoint) (*readSide, error) {
	api, err := ecsapi.Start(p.Fleet(), ecsapi.Options{Credentials: p.Credentials, Region: localrun.Region})
	if err != nil {
		return nil, err
	}
	r := &readSide{ecs: api, dir: state}
	delivery := cfg.Delivery()
	if syncEvery > 0 && delivery.SyncEvery != "" {
		delivery.SyncEvery = syncEvery.String()
	}
	outputs := map[string]string{
		contract.OutputBucketName:  p.Buckets[0],
		contract.OutputClusterName: cfg.EffectiveClusterName(),
		contract.OutputDelivery:    delivery.JSON(),
	}
	for _, m := range p.StateMachines() {
		if strings.HasSuffix(m.Name, "-Sync") {
			outputs[contract.OutputSyncStateMachineArn] = m.ARN
		} else {
			outputs[contract.OutputStateMachineArn] = m.ARN
		}
	}
	if ledger.Table != "" {
		outputs[contract.OutputLedgerTable] = ledger.Table
	}
	e := endpoints.Endpoints{S3: p.S3.URL(), StepFunctions: sfnURL, ECS: api.URL(), DynamoDB: ledger.URL,
		Region: localrun.Region, AccessKeyID: p.Credentials.AccessKeyID, SecretAccessKey: p.Credentials.SecretAccessKey,
		Outputs: outputs, PID: os.Getpid()}
	if err := endpoints.Write(state, e); err != nil {
		r.Close()
		return nil, err
	}
	d, err := deployment.FromLocal(state)
	if err == nil {
		var f *fleetstatus.Fleet
		if f, err = fleetstatus.FromDeployment(d, false, nil); err == nil {
			r.page, err = statuspage.Start(ctx, "127.0.0.1:0", statuspage.Options{Fleet: f, Name: d.Name, Poll: 500 * time.Millisecond})
		}
	}
	if err == nil {
		e.StatusPage = r.page.URL()
		err = endpoints.Write(state, e)
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// PageURL is the status page.
func (r *readSide) PageURL() string { return r.page.URL() }

// Close stops serving and removes the endpoints file.
func (r *readSide) Close() error {
	var errs []error
	if r.page != nil {
		errs = append(errs, r.page.Close())
	}
	errs = append(errs, r.ecs.Close())
	if err := os.Remove(endpoints.Path(r.dir)); err != nil && !os.IsNotExist(err) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
