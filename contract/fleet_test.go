package contract

import (
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"a", "shop-12", "site_1", "A9", strings.Repeat("x", 63)} {
		if err := CheckName("board", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-a", "_a", "a b", "a.b", "a/b", "a==b", "ünï", "a\n", strings.Repeat("x", 64)} {
		err := CheckName("group", bad)
		if err == nil || !strings.Contains(err.Error(), NameRule) || !strings.HasPrefix(err.Error(), "group name ") {
			t.Errorf("%q: want a one-line error naming the rule, got %v", bad, err)
		}
	}
}

func TestGroupAttr(t *testing.T) {
	if got := GroupAttr("site1"); got != "edge-drop.group.site1" {
		t.Errorf("GroupAttr = %q", got)
	}
}
