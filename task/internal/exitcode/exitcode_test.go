package exitcode

import (
	"errors"
	"fmt"
	"testing"
)

func TestOf(t *testing.T) {
	base := errors.New("boom")
	cases := []struct {
		name string
		err  error
		want Code
	}{
		{"nil", nil, OK},
		{"plain", base, Network},
		{"usage", New(Usage, base), Usage},
		{"wrapped", fmt.Errorf("ctx: %w", New(Integrity, base)), Integrity},
		{"outermost wins", New(Canceled, New(Network, base)), Canceled},
		{"errorf", Errorf(LocalIO, "disk: %w", base), LocalIO},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Of(c.err); got != c.want {
				t.Fatalf("Of(%v) = %d, want %d", c.err, got, c.want)
			}
		})
	}
	if New(Usage, nil) != nil {
		t.Fatal("New(nil) must be nil")
	}
}

func TestValuesAreTheContract(t *testing.T) {
	want := map[Code]int{OK: 0, Usage: 2, UnsafeKey: 3, NotFound: 4, Denied: 5, LocalIO: 6, Network: 7, Integrity: 8, Canceled: 9, TooLarge: 10, Partial: 11}
	for c, v := range want {
		if int(c) != v {
			t.Errorf("%s = %d, want %d", c, int(c), v)
		}
		if c.String() == "" {
			t.Errorf("%d has no name", v)
		}
	}
}
