package localrun

import (
	"fmt"
	"strings"

	"github.com/edge-drop/edge-drop/local/ecstask"
)

// Board is one board of a local fleet: its name and the groups it is in.
type Board struct {
	Name   string
	Groups []string
}

// ParseBoards reads a fleet as the demo's -boards flag spells it:
// comma-separated boards, each a name with optional @groups joined by +,
// e.g. "a,b@site1,c@site1+eu". Names follow contract.NameRule; a board is
// named once and in at most contract.MaxGroups groups.
func ParseBoards(spec string) ([]Board, error) {
	var boards []Board
	var check []ecstask.Board
	for _, item := range strings.Split(spec, ",") {
		name, groups, hasGroups := strings.Cut(strings.TrimSpace(item), "@")
		b := Board{Name: name}
		if hasGroups {
			b.Groups = strings.Split(groups, "+")
		}
		boards = append(boards, b)
		check = append(check, ecstask.Board{Name: b.Name, Groups: b.Groups})
	}
	if err := ecstask.CheckBoards(check); err != nil {
		return nil, fmt.Errorf("-boards %q: %w (write boards as a,b@site1,c@site1+eu)", spec, err)
	}
	return boards, nil
}
