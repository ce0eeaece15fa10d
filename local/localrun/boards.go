package localrun

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/edge-drop/edge-drop/local/ecstask"
)

// Board is one board of a local fleet: its name and the groups it is in.
type Board struct {
	Name   string
	Groups []string
}

// MaxLocalBoards caps a local fleet: 10,000 boards is the largest fleet
// one delivery serves (constructs/pipeline), and each local board is a
// data directory and a registered container instance in memory.
const MaxLocalBoards = 10_000

// boardsSyntax is the fix every -boards error names.
const boardsSyntax = "write boards as a,b@site1,c@site1+eu or ranges as b[1-2000]@site1"

// ParseBoards reads a fleet as the demo's -boards flag spells it:
// comma-separated boards, each a name with optional @groups joined by +,
// e.g. "a,b@site1,c@site1+eu". A name may hold one range, b[1-2000]
// (b1…b2000) or b[001-100] (b001…b100: a leading zero pads to its width).
// Names follow contract.NameRule; a board is named once, in at most
// contract.MaxGroups groups, and a fleet has at most MaxLocalBoards.
func ParseBoards(spec string) ([]Board, error) {
	var boards []Board
	var check []ecstask.Board
	for _, item := range strings.Split(spec, ",") {
		name, groups, hasGroups := strings.Cut(strings.TrimSpace(item), "@")
		var gs []string
		if hasGroups {
			gs = strings.Split(groups, "+")
		}
		names, err := expandRange(name, MaxLocalBoards-len(boards))
		if err != nil {
			return nil, fmt.Errorf("-boards %q: %w (%s)", spec, err, boardsSyntax)
		}
		for _, n := range names {
			boards = append(boards, Board{Name: n, Groups: gs})
			check = append(check, ecstask.Board{Name: n, Groups: gs})
		}
	}
	if err := ecstask.CheckBoards(check); err != nil {
		return nil, fmt.Errorf("-boards %q: %w (%s)", spec, err, boardsSyntax)
	}
	return boards, nil
}

// expandRange turns "b[1-3]" into b1, b2, b3 and a name without brackets
// into itself; room is how many more boards the fleet may take.
func expandRange(name string, room int) ([]string, error) {
	open := strings.IndexByte(name, '[')
	if open < 0 {
		if strings.ContainsRune(name, ']') {
			return nil, fmt.Errorf("board %q has a ] without its [", name)
		}
		if room < 1 {
			return nil, fmt.Errorf("more than %d boards", MaxLocalBoards)
		}
		return []string{name}, nil
	}
	end := strings.IndexByte(name[open:], ']')
	if end < 0 {
		return nil, fmt.Errorf("board range %q has no closing ]", name)
	}
	end += open
	prefix, body, suffix := name[:open], name[open+1:end], name[end+1:]
	if strings.ContainsAny(suffix, "[]") || strings.ContainsAny(body, "[") {
		return nil, fmt.Errorf("board range %q: one [first-last] range per name", name)
	}
	from, to, ok := strings.Cut(body, "-")
	lo, err1 := strconv.Atoi(from)
	hi, err2 := strconv.Atoi(to)
	if !ok || err1 != nil || err2 != nil || lo < 0 || !digits(from) || !digits(to) {
		return nil, fmt.Errorf("board range %q: want [first-last], two whole numbers such as [1-2000]", name)
	}
	if hi < lo {
		return nil, fmt.Errorf("board range %q counts down: %d is below %d", name, hi, lo)
	}
	if hi-lo+1 > room {
		return nil, fmt.Errorf("board range %q makes %d boards; a local fleet has at most %d", name, hi-lo+1, MaxLocalBoards)
	}
	width := 0
	if len(from) > 1 && from[0] == '0' {
		width = len(from)
	}
	names := make([]string, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		names = append(names, fmt.Sprintf("%s%0*d%s", prefix, width, i, suffix))
	}
	return names, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
