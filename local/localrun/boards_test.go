package localrun

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/local/assembly"
)

func TestParseBoards(t *testing.T) {
	got, err := ParseBoards("a,b@site1, c@site1+eu")
	want := []Board{{Name: "a"}, {Name: "b", Groups: []string{"site1"}}, {Name: "c", Groups: []string{"site1", "eu"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v", got, err)
	}
	for spec, why := range map[string]string{
		"":                                 `board name ""`,
		"a,,b":                             `board name ""`,
		"a,a@x":                            `"a" is named twice`,
		"a.b":                              `board name "a.b"`,
		"a@":                               `group name ""`,
		"a@x+":                             `group name ""`,
		"a@x+x":                            `group "x" twice`,
		"a@g1+g2+g3+g4+g5+g6+g7+g8+g9+g10": "10 groups",
		"a@site 1":                         `group name "site 1"`,
		"-a":                               `board name "-a"`,
	} {
		_, err := ParseBoards(spec)
		if err == nil || !strings.Contains(err.Error(), why) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line naming %s", spec, err, why)
		}
	}
}

func TestEachBoardHasItsOwnDataDir(t *testing.T) {
	defs := map[string]assembly.TaskDefinition{"d": {HostPaths: map[string]string{"data": "/data"}}}
	abs, _ := filepath.Abs("data")
	boards, dirs, _, err := fleetVolumes(defs, "data", []Board{{Name: "a"}, {Name: "b", Groups: []string{"g"}}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if boards[0].Volumes["/data"] != filepath.Join(abs, "a") || boards[1].Volumes["/data"] != filepath.Join(abs, "b") ||
		dirs[1].Dir != filepath.Join(abs, "b") || boards[1].Slots != 2 || boards[1].Groups[0] != "g" {
		t.Errorf("fleet: %+v %+v", boards, dirs)
	}
	// No fleet: one board, the data dir as it is (today's layout).
	boards, dirs, _, err = fleetVolumes(defs, "data", nil, 2)
	if err != nil || len(boards) != 1 || boards[0].Name != "board" || boards[0].Volumes["/data"] != abs || dirs[0].Dir != abs {
		t.Errorf("single board: %+v %+v %v", boards, dirs, err)
	}
}
