// Package fleetstatus answers the operator's questions about a
// deployment by joining what the ledger recorded, what ECS says about the
// boards and what the bucket holds, under the deployment's delivery
// configuration: where is an object, which boards are there, what is a
// board missing.
package fleetstatus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/fault"
	"github.com/edge-drop/edge-drop/internal/ledger"
)

// StatusPending is a target board's status when the ledger has no
// outcome of the object's current version for it yet.
const StatusPending = "pending"

// Fleet is a deployment's sources.
type Fleet struct {
	Ledger   *ledger.Reader
	ECS      *ecs.Client
	Cluster  string
	S3       *s3.Client
	Bucket   string
	Delivery contract.Delivery
	// Unreachable says what to do when an endpoint does not answer.
	Unreachable string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (f *Fleet) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// Board is a registered board as ECS sees it.
type Board struct {
	Name         string   `json:"board"`
	Groups       []string `json:"groups"`
	Connected    bool     `json:"agentConnected"`
	RunningTasks int      `json:"runningTasks"`
	Instance     string   `json:"instance"`
}

// Boards lists the cluster's named boards, by name: ListContainerInstances
// (attribute edge-drop.board exists) and DescribeContainerInstances, 100
// at a time.
func (f *Fleet) Boards(ctx context.Context) ([]Board, error) {
	what := "ECS ListContainerInstances in cluster " + f.Cluster
	var arns []string
	p := ecs.NewListContainerInstancesPaginator(f.ECS, &ecs.ListContainerInstancesInput{
		Cluster: aws.String(f.Cluster), Filter: aws.String("attribute:" + contract.AttrBoard + " exists")})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			var nf *ecstypes.ClusterNotFoundException
			if errors.As(err, &nf) {
				return nil, fault.NotFoundf("ECS cluster %s not found: deploy the cluster stack (make deploy) or check --stack and --region", f.Cluster)
			}
			return nil, fault.AWS(err, what, f.Unreachable)
		}
		arns = append(arns, out.ContainerInstanceArns...)
	}
	var boards []Board
	for start := 0; start < len(arns); start += 100 {
		out, err := f.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{
			Cluster: aws.String(f.Cluster), ContainerInstances: arns[start:min(start+100, len(arns))]})
		if err != nil {
			return nil, fault.AWS(err, "ECS DescribeContainerInstances in cluster "+f.Cluster, f.Unreachable)
		}
		for _, ci := range out.ContainerInstances {
			b := Board{Connected: ci.AgentConnected, RunningTasks: int(ci.RunningTasksCount), Instance: aws.ToString(ci.Ec2InstanceId), Groups: []string{}}
			for _, a := range ci.Attributes {
				name := aws.ToString(a.Name)
				if name == contract.AttrBoard {
					b.Name = aws.ToString(a.Value)
				} else if g, ok := strings.CutPrefix(name, contract.AttrGroupPrefix); ok {
					b.Groups = append(b.Groups, g)
				}
			}
			if b.Name != "" {
				slices.Sort(b.Groups)
				boards = append(boards, b)
			}
		}
	}
	slices.SortFunc(boards, func(a, b Board) int { return strings.Compare(a.Name, b.Name) })
	return boards, nil
}

// Object is what the bucket holds under a key now.
type Object struct {
	Key          string
	ETag         string
	VersionID    string
	LastModified time.Time
	Size         int64
	Exists       bool
}

// Version is the object's version id, else its ETag.
func (o Object) Version() string {
	if o.VersionID != "" {
		return o.VersionID
	}
	return o.ETag
}

// Head reads the object's current version (HeadObject); a missing object
// is Exists false.
func (f *Fleet) Head(ctx context.Context, key string) (Object, error) {
	out, err := f.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(key)})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchKey") {
			return Object{Key: key}, nil
		}
		if errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket" {
			return Object{}, fault.NotFoundf("bucket %s not found: check --stack (the stack's BucketName output)", f.Bucket)
		}
		return Object{}, fault.AWS(err, fmt.Sprintf("S3 HeadObject s3://%s/%s", f.Bucket, key), f.Unreachable)
	}
	return Object{Key: key, ETag: strings.Trim(aws.ToString(out.ETag), `"`), VersionID: aws.ToString(out.VersionId),
		LastModified: aws.ToTime(out.LastModified), Size: aws.ToInt64(out.ContentLength), Exists: true}, nil
}

// list lists the objects under prefix that the pipeline delivers.
func (f *Fleet) list(ctx context.Context, prefix string) ([]Object, error) {
	var objs []Object
	p := s3.NewListObjectsV2Paginator(f.S3, &s3.ListObjectsV2Input{Bucket: aws.String(f.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			var nb *s3types.NoSuchBucket
			if errors.As(err, &nb) {
				return nil, fault.NotFoundf("bucket %s not found: check --stack (the stack's BucketName output)", f.Bucket)
			}
			return nil, fault.AWS(err, "S3 ListObjectsV2 s3://"+f.Bucket+"/"+prefix, f.Unreachable)
		}
		for _, o := range out.Contents {
			key := aws.ToString(o.Key)
			if f.Delivery.Delivered(key) {
				objs = append(objs, Object{Key: key, ETag: strings.Trim(aws.ToString(o.ETag), `"`), LastModified: aws.ToTime(o.LastModified), Size: aws.ToInt64(o.Size), Exists: true})
			}
		}
	}
	return objs, nil
}

// UnknownBoard is the error for a board neither ECS nor the ledger knows.
func UnknownBoard(name string, boards []Board) error {
	var names []string
	for _, b := range boards {
		names = append(names, b.Name)
	}
	known := "none is registered"
	if len(names) > 0 {
		known = "the boards are " + strings.Join(names, ", ")
	}
	return fault.NotFoundf("unknown board %q: %s (edge-drop boards)", name, known)
}

// FindBoard finds a board by name.
func FindBoard(boards []Board, name string) (Board, bool) {
	for _, b := range boards {
		if b.Name == name {
			return b, true
		}
	}
	return Board{}, false
}
