package contract

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"0123456789abc", 10, "0123456…"},
		{"ééééé", 7, "éé…"}, // never splits a rune
	} {
		got := Cut(tc.in, tc.n)
		if got != tc.want || len(got) > tc.n || !utf8.ValidString(got) {
			t.Errorf("Cut(%q, %d) = %q, want %q (at most %d bytes, valid UTF-8)", tc.in, tc.n, got, tc.want, tc.n)
		}
	}
	long := strings.Repeat("x", 2*MaxSummary)
	if got := Cut(long, MaxSummary); len(got) > MaxSummary {
		t.Errorf("Cut kept %d bytes, want at most %d", len(got), MaxSummary)
	}
}

func TestSyncWords(t *testing.T) {
	if got, want := (SyncCounts{New: 3, Updated: 1}).Words(), "3 new, 1 updated, 0 deleted"; got != want {
		t.Errorf("Words = %q, want %q", got, want)
	}
	got := (SyncCounts{Deleted: 2, Kept: 1, Conflicts: 1, SkippedUnsafe: 4, Failed: 2}).Words()
	if want := "0 new, 0 updated, 2 deleted, 1 kept, 1 conflicts, 4 skipped_unsafe, 2 failed"; got != want {
		t.Errorf("Words = %q, want %q", got, want)
	}
}

func TestOutcomeIsFailure(t *testing.T) {
	for _, o := range Outcomes {
		want := o == OutcomeFailed || o == OutcomeOffline
		if OutcomeIsFailure(o) != want {
			t.Errorf("OutcomeIsFailure(%q) = %v, want %v", o, !want, want)
		}
	}
}

func TestOutcomeWords(t *testing.T) {
	for _, tc := range []struct {
		o    Outcome
		want string
	}{
		{Outcome{Status: OutcomeDelivered}, "delivered"},
		{Outcome{Status: OutcomeUpToDate, Cause: "up_to_date"}, "up_to_date"},
		{Outcome{Status: OutcomeConflict, Cause: "conflict (copy kept as a.sync-conflict-20261206-101010.txt)"}, "conflict (copy kept as a.sync-conflict-20261206-101010.txt)"},
		{Outcome{Status: OutcomeSynced, Sync: &SyncCounts{New: 2, Updated: 1}}, "synced (2 new, 1 updated, 0 deleted)"},
		{Outcome{Status: OutcomeKept, Cause: "kept (not delivered by edge-drop)"}, "kept (not delivered by edge-drop)"},
		{Outcome{Status: OutcomeFailed, Cause: "exit 3 unsafe_key: unsafe or invalid object key"}, "failed (exit 3 unsafe_key: unsafe or invalid object key)"},
		{Outcome{Status: OutcomeFailed, Cause: "failed (exit 6 local_io: disk full)"}, "failed (exit 6 local_io: disk full)"},
		{Outcome{Status: OutcomeOffline, Cause: `AmazonECS.Unknown: {"Failures":[{"Reason":"AGENT"}]}`}, `offline (AmazonECS.Unknown: {"Failures":[{"Reason":"AGENT"}]})`},
		{Outcome{Status: OutcomeGone, Cause: "gone"}, "gone"},
		{Outcome{Status: OutcomeDelivered, Cause: "delivered_elsewhere"}, "delivered (delivered_elsewhere)"},
	} {
		if got := tc.o.Words(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.o, got, tc.want)
		}
	}
}

func TestParseOutcome(t *testing.T) {
	o, err := ParseOutcome([]byte(`{"board":"shop-1","instance":"mi-1","status":"delivered","exitCode":0,"taskArn":"arn:aws:ecs:eu-west-1:1:task/c/abc","cause":"delivered"}`))
	if err != nil || o.Board != "shop-1" || o.ExitCode == nil || *o.ExitCode != 0 || o.TaskArn == nil || *o.TaskArn != "arn:aws:ecs:eu-west-1:1:task/c/abc" {
		t.Fatalf("got %+v, %v", o, err)
	}
	// No task ran: exitCode and taskArn null or absent.
	if o, err := ParseOutcome([]byte(`{"board":"b","instance":"mi-2","status":"offline","cause":"AmazonECS.Unknown: AGENT"}`)); err != nil || o.ExitCode != nil || o.TaskArn != nil {
		t.Fatalf("offline: got %+v, %v", o, err)
	}
	for _, bad := range []string{`{"status":"done"}`, `{"board":"b"}`, `[]`, `not json`} {
		if _, err := ParseOutcome([]byte(bad)); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}
