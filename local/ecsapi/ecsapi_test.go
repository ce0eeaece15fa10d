package ecsapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/ecstask"
	"github.com/edge-drop/edge-drop/local/sigv4"
)

const cluster = "arn:aws:ecs:eu-west-1:000000000000:cluster/edge-drop"

func start(t *testing.T) (*ecs.Client, *ecstask.Runner) {
	t.Helper()
	r, err := ecstask.NewFleetRunner(nil, "", nil, []ecstask.Board{{Name: "a"}, {Name: "b", Groups: []string{"site1", "eu"}}})
	if err != nil {
		t.Fatal(err)
	}
	r.Clusters = []string{cluster}
	s, err := Start(r, Options{Credentials: sigv4.Credentials{AccessKeyID: "k", SecretAccessKey: "s"}, Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return ecs.New(ecs.Options{Region: "eu-west-1", BaseEndpoint: aws.String(s.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")}), r
}

// The SDK's own client lists and describes the fleet: names, groups,
// connectivity and running tasks as attributes and fields, as ECS has them.
func TestTheSDKSeesTheFleet(t *testing.T) {
	c, fleet := start(t)
	ctx := context.Background()
	list, err := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("edge-drop"),
		Filter: aws.String("attribute:" + contract.AttrBoard + " exists")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.ContainerInstanceArns) != 2 {
		t.Fatalf("listed %v", list.ContainerInstanceArns)
	}
	if err := fleet.SetConnected("b", false); err != nil {
		t.Fatal(err)
	}
	desc, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("edge-drop"),
		ContainerInstances: list.ContainerInstanceArns})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]types.ContainerInstance{}
	for _, ci := range desc.ContainerInstances {
		for _, a := range ci.Attributes {
			if aws.ToString(a.Name) == contract.AttrBoard {
				got[aws.ToString(a.Value)] = ci
			}
		}
	}
	if len(got) != 2 || !got["a"].AgentConnected || got["b"].AgentConnected || got["a"].RunningTasksCount != 0 {
		t.Fatalf("described %+v", got)
	}
	groups := 0
	for _, a := range got["b"].Attributes {
		if strings.HasPrefix(aws.ToString(a.Name), contract.AttrGroupPrefix) && aws.ToString(a.Value) == contract.GroupMember {
			groups++
		}
	}
	if groups != 2 || !strings.HasPrefix(aws.ToString(got["a"].Ec2InstanceId), "mi-") {
		t.Errorf("board b's groups %d, a's instance %q", groups, aws.ToString(got["a"].Ec2InstanceId))
	}

	// A page of one, then the rest with the token.
	page, err := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster), MaxResults: aws.Int32(1)})
	if err != nil || len(page.ContainerInstanceArns) != 1 || page.NextToken == nil {
		t.Fatalf("first page %+v, %v", page, err)
	}
	page, err = c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster), NextToken: page.NextToken})
	if err != nil || len(page.ContainerInstanceArns) != 1 || page.NextToken != nil {
		t.Fatalf("second page %+v, %v", page, err)
	}
}

// ECS's errors reach the SDK as its modelled exceptions.
func TestErrorsAreECSExceptions(t *testing.T) {
	c, _ := start(t)
	_, err := c.ListContainerInstances(context.Background(), &ecs.ListContainerInstancesInput{Cluster: aws.String("nope")})
	if nf := (*types.ClusterNotFoundException)(nil); !errors.As(err, &nf) {
		t.Fatalf("unknown cluster: %v", err)
	}
	_, err = c.ListContainerInstances(context.Background(), &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster), Filter: aws.String("attribute:x ==")})
	if ip := (*types.InvalidParameterException)(nil); !errors.As(err, &ip) {
		t.Fatalf("bad filter: %v", err)
	}
	_, err = c.RunTask(context.Background(), &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("x")})
	if err == nil || !strings.Contains(err.Error(), "UnknownOperationException") {
		t.Fatalf("RunTask through the read-only endpoint: %v", err)
	}
}

func TestOnlyPost(t *testing.T) {
	s := httptest.NewServer(Handler(nil)) // the protocol, behind the signature check
	defer s.Close()
	resp, err := http.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

// Like the demo's other endpoints, only requests signed with its
// credentials are answered: unsigned and wrongly signed ones get 403.
func TestUnsignedAndWronglySignedRequestsAreRefused(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	in := &ecs.ListContainerInstancesInput{Cluster: aws.String("edge-drop")}
	if _, err := c.ListContainerInstances(ctx, in); err != nil {
		t.Errorf("signed: %v", err)
	}
	wrong := ecs.New(ecs.Options{Region: "eu-west-1", BaseEndpoint: c.Options().BaseEndpoint,
		Credentials: credentials.NewStaticCredentialsProvider("k", "not-the-secret", "")})
	if _, err := wrong.ListContainerInstances(ctx, in); err == nil || !strings.Contains(err.Error(), "StatusCode: 403") {
		t.Errorf("wrongly signed: %v, want a 403", err)
	}
	url := *c.Options().BaseEndpoint
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"cluster":"edge-drop"}`))
	req.Header.Set("X-Amz-Target", targetPrefix+"ListContainerInstances")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned: %d, want 403", resp.StatusCode)
	}
}
