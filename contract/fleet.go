package contract

import (
	"fmt"
	"regexp"
)

// Board identity on ECS Anywhere: custom container-instance attributes, set
// in /etc/ecs/ecs.config (ECS_INSTANCE_ATTRIBUTES) before a board's first
// registration, or later with ecs:PutAttributes.
const (
	// AttrBoard holds the board's name: edge-drop.board = <name>.
	AttrBoard = "edge-drop.board"
	// AttrGroupPrefix starts one attribute per group the board belongs to:
	// edge-drop.group.<group> = GroupMember. One attribute per group (not a
	// list in one value) lets the cluster query language select a group
	// with "attribute:edge-drop.group.<group> exists".
	AttrGroupPrefix = "edge-drop.group."
	GroupMember     = "member"
	// MaxGroups: ECS allows 10 custom attributes per container instance,
	// one of which is the board's name.
	MaxGroups = 9
)

// GroupAttr is the attribute that marks membership of group g.
func GroupAttr(g string) string { return AttrGroupPrefix + g }

// NamePattern is what a board or group name may be: it must fit both an
// attribute value and (for groups) an attribute name, and be safe in a
// cluster query expression, a shell command and a path component.
// scripts/register.sh holds the same expression (register_test.go checks).
const NamePattern = `^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`

var namePattern = regexp.MustCompile(NamePattern)

// NameRule says in words what namePattern accepts.
const NameRule = "1-63 letters, digits, '-' or '_', starting with a letter or digit"

// CheckName validates a board or group name; what is "board" or "group".
func CheckName(what, name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%s name %q is not valid: use %s", what, name, NameRule)
	}
	return nil
}

// ErrNoBoards fails an execution whose target matched no registered board.
const ErrNoBoards = "EdgeDrop.NoBoards"

// ErrSomeBoardsFailed fails a fleet execution in which at least one board
// did not get the file; the cause names the boards.
const ErrSomeBoardsFailed = "EdgeDrop.SomeBoardsFailed"

// ErrBadTarget fails a routed delivery whose key names no valid target
// (not under the routing prefix, an empty or unsafe board or group name):
// nothing was asked of ECS.
const ErrBadTarget = "EdgeDrop.BadTarget"
