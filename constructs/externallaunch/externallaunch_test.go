package externallaunch_test

import (
	"testing"

	"github.com/edge-drop/edge-drop/constructs/externallaunch"
)

func TestBindAddsLaunchTypeExternalAndNothingElse(t *testing.T) {
	cfg := externallaunch.New().Bind(nil, nil)
	if cfg == nil || cfg.Parameters == nil {
		t.Fatal("no parameters")
	}
	params := *cfg.Parameters
	if len(params) != 1 || params["LaunchType"] != "EXTERNAL" {
		t.Errorf("parameters %v, want only LaunchType EXTERNAL (no network configuration on a board)", params)
	}
}
