package fleetstatus

import (
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/deployment"
	"github.com/edge-drop/edge-drop/internal/ledger"
)

// FromDeployment joins a deployment's ledger, cluster and bucket. Without
// needLedger a deployment that has no ledger yet gives a Fleet whose
// Ledger is nil (the boards and the bucket still answer).
func FromDeployment(d *deployment.Deployment, needLedger bool, now func() time.Time) (*Fleet, error) {
	outs := map[string]string{}
	for _, name := range []string{contract.OutputBucketName, contract.OutputClusterName} {
		v, err := d.Output(name)
		if err != nil {
			return nil, err
		}
		outs[name] = v
	}
	delivery, err := d.Delivery()
	if err != nil {
		return nil, err
	}
	l, err := LedgerOf(d)
	if err != nil && needLedger {
		return nil, err
	}
	return &Fleet{Ledger: l, ECS: d.ECS(), Cluster: ClusterName(outs[contract.OutputClusterName]),
		S3: d.S3(), Bucket: outs[contract.OutputBucketName], Delivery: delivery, Unreachable: d.Unreachable, Now: now}, nil
}

// LedgerOf is the deployment's ledger reader.
func LedgerOf(d *deployment.Deployment) (*ledger.Reader, error) {
	table, err := d.Output(contract.OutputLedgerTable)
	if err != nil {
		return nil, err
	}
	db, err := d.DynamoDB()
	if err != nil {
		return nil, err
	}
	return &ledger.Reader{DB: db, Table: table, Unreachable: d.Unreachable}, nil
}

// ClusterName takes a cluster's name or ARN.
func ClusterName(v string) string {
	if i := strings.LastIndex(v, ":cluster/"); i >= 0 {
		return v[i+len(":cluster/"):]
	}
	return v
}
