package fleetstatus

import (
	"testing"
	"time"
)

func TestEvery(t *testing.T) {
	for d, want := range map[time.Duration]string{6 * time.Hour: "6h", 30 * time.Minute: "30m", 90 * time.Minute: "1h30m", 10 * time.Second: "10s", 61 * time.Second: "1m1s"} {
		if got := Every(d); got != want {
			t.Errorf("Every(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestClusterName(t *testing.T) {
	if ClusterName("arn:aws:ecs:eu-west-1:1:cluster/edge-drop") != "edge-drop" || ClusterName("edge-drop") != "edge-drop" {
		t.Error("ClusterName")
	}
}
