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
		// Ranges: bad ones name what is wrong.
		"b[1-2":                 "no closing ]",
		"b1-2]":                 "] without its [",
		"b[2-1]":                "counts down",
		"b[1-]":                 "two whole numbers",
		"b[-3]":                 "two whole numbers",
		"b[x-y]":                "two whole numbers",
		"b[1-2][3-4]":           "one [first-last] range",
		"b[+1-3]":               "two whole numbers",
		"b[1-10001]":            "at most 10000",
		"a[1-9000],b[1-1001]":   "at most 10000",
		"b[1-5000],c[1-5000],d": "more than 10000",
		"b[1-2],b2":             `"b2" is named twice`,
		"[1-2]@x+x":             `group "x" twice`,
		"_[1-2]":                `board name "_1"`,
	} {
		_, err := ParseBoards(spec)
		if err == nil || !strings.Contains(err.Error(), why) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "b[1-2000]@site1") {
			t.Errorf("%q: %v, want one line naming %s", spec, err, why)
		}
	}
}

func TestParseBoardRanges(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		n     int
		first Board
		last  Board
	}{
		{"b[1-2000]@site1", 2000, Board{Name: "b1", Groups: []string{"site1"}}, Board{Name: "b2000", Groups: []string{"site1"}}},
		{"b[001-100]", 100, Board{Name: "b001"}, Board{Name: "b100"}},
		{"shop-[7-7]-eu@a+b", 1, Board{Name: "shop-7-eu", Groups: []string{"a", "b"}}, Board{Name: "shop-7-eu", Groups: []string{"a", "b"}}},
		{"x, b[1-3]@g, y@h", 5, Board{Name: "x"}, Board{Name: "y", Groups: []string{"h"}}},
		{"[0-9999]", 10000, Board{Name: "0"}, Board{Name: "9999"}},
	} {
		got, err := ParseBoards(tc.spec)
		if err != nil || len(got) != tc.n || !reflect.DeepEqual(got[0], tc.first) || !reflect.DeepEqual(got[len(got)-1], tc.last) {
			t.Errorf("%q: %d boards %v, want %d from %+v to %+v", tc.spec, len(got), err, tc.n, tc.first, tc.last)
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
