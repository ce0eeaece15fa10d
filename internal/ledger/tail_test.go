package ledger

import "testing"

func row(at, board string) Row { return Row{TSK: at + "#" + board + "#demo1.txt"} }

func TestTailReadsLatenessAgainAndReturnsEachRowOnce(t *testing.T) {
	var tail Tail
	if got := tail.After(); got != "" {
		t.Fatalf("After before any row = %q, want the day's start", got)
	}
	b := row("2026-12-07T10:00:05.000Z", "b")
	if got := tail.New([]Row{b}); len(got) != 1 {
		t.Fatalf("first poll: %v", got)
	}
	if got, want := tail.After(), "2026-12-07T09:58:05"; got != want {
		t.Errorf("After = %q, want %q (Lateness before the newest)", got, want)
	}
	a := row("2026-12-07T10:00:04.000Z", "a") // recorded after b, with an earlier time
	if got := tail.New([]Row{a, b}); len(got) != 1 || got[0] != a {
		t.Errorf("second poll: %v, want only a", got)
	}
	if got := tail.New([]Row{a, b}); len(got) != 0 {
		t.Errorf("third poll: %v, want nothing new", got)
	}
	tail.New([]Row{row("2026-12-07T10:10:00.000Z", "a")})
	if len(tail.seen) != 1 {
		t.Errorf("seen keeps %d sort keys, want 1 (those older than After are forgotten)", len(tail.seen))
	}
}

func TestTailReadsTheWholeDayNearMidnight(t *testing.T) {
	var tail Tail
	tail.New([]Row{row("2026-12-07T00:01:00.000Z", "a")})
	if got := tail.After(); got != "" {
		t.Errorf("After = %q, want \"\" (Lateness reaches into the day before)", got)
	}
}
