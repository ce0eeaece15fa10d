package ecstask

import (
	"strings"
	"testing"
)

type fakeInstance struct {
	attrs map[string]string
	ec2   string
}

func (f fakeInstance) attribute(n string) (string, bool) { v, ok := f.attrs[n]; return v, ok }
func (f fakeInstance) ec2InstanceID() string             { return f.ec2 }

func TestQueryMatches(t *testing.T) {
	b := fakeInstance{ec2: "mi-0123456789abcdef0", attrs: map[string]string{
		"edge-drop.board": "b", "edge-drop.group.site1": "member", "ecs.os-type": "linux"}}
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{"attribute:edge-drop.board == b", true},
		{"attribute:edge-drop.board == a", false},
		{"attribute:edge-drop.board != a", true},
		{"attribute:edge-drop.board != b", false},
		{"attribute:missing != a", true},
		{"attribute:edge-drop.board exists", true},
		{"attribute:edge-drop.group.eu exists", false},
		{"attribute:edge-drop.group.eu !exists", true},
		{"attribute:edge-drop.group.site1 !exists", false},
		{"ec2InstanceId == mi-0123456789abcdef0", true},
		{"ec2InstanceId == mi-0123456789abcdef1", false},
		{"attribute:edge-drop.board == site1 or attribute:edge-drop.group.site1 exists", true},
		{"attribute:edge-drop.board == eu || attribute:edge-drop.group.eu exists", false},
		{"attribute:edge-drop.board exists and attribute:edge-drop.group.eu exists", false},
		{"attribute:edge-drop.board exists && attribute:ecs.os-type == linux", true},
		// and binds tighter than or
		{"attribute:x exists and attribute:y exists or attribute:edge-drop.board == b", true},
		{"attribute:x exists and (attribute:y exists or attribute:edge-drop.board == b)", false},
		{"((attribute:edge-drop.board == b))", true},
	} {
		q, err := parseQuery(tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got := q.match(b); got != tc.want {
			t.Errorf("%s: matched %v, want %v", tc.expr, got, tc.want)
		}
	}
}

func TestQueryRefusesWhatTheLocalRunDoesNotKnow(t *testing.T) {
	for _, tc := range []struct{ expr, names string }{
		{"", "empty"},
		{"attribute:a =~ x.*", `"=~"`},
		{"attribute:a in [x,y]", `"in"`},
		{"not attribute:a exists", `"not"`},
		{"runningTasksCount == 0", `"runningTasksCount"`},
		{"ec2InstanceId != mi-1", `"!="`},
		{"attribute:a == 'x'", `"'x'"`},
		{"attribute:a == x%2F", `"x%2F"`},
		{"attribute:a == ", "value is missing"},
		{"attribute:a", "no operator"},
		{"(attribute:a exists", "missing ')'"},
		{"attribute:a exists)", `unexpected ")"`},
		{"attribute:a exists and", "ends"},
		{"attribute:a exists attribute:b exists", `unexpected "attribute:b"`},
		{"attribute:a*b exists", `"a*b"`},
	} {
		_, err := parseQuery(tc.expr)
		if err == nil || !strings.Contains(err.Error(), tc.names) {
			t.Errorf("%q: error %v, want one naming %s", tc.expr, err, tc.names)
		}
	}
}
