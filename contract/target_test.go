package contract

import (
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{
		"any": {Kind: TargetAny}, "all": {Kind: TargetAll},
		"board:shop-1": {Kind: TargetBoard, Name: "shop-1"}, "group:site_1": {Kind: TargetGroup, Name: "site_1"},
	} {
		got, err := ParseTarget(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("%s: got %+v (%q), %v", in, got, got.String(), err)
		}
	}
	for in, want := range map[string]string{
		"everyone": `must be "any", "board:<name>", "group:<name>" or "all"`, "all:x": `"all"`, "routed": `"any"`,
		"board:": "bad board name", "group:-x": "bad group name",
	} {
		if _, err := ParseTarget(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
	if s := (Target{Kind: TargetRouted, RoutePrefix: "to/"}).String(); s != "" {
		t.Errorf("routing is no deliverTo value, got %q", s)
	}
}
