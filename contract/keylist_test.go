package contract

import (
	"strings"
	"testing"
)

func TestParseKeyListKeepsTheNewestEventOfEachKey(t *testing.T) {
	keys, err := ParseKeyList(`[{"k":"a.txt","q":"0A","e":"e1","z":1},{"k":"b.txt","q":"05","z":2},` +
		`{"k":"a.txt","q":"00B","e":"e2","z":3},{"k":"b.txt","q":"4","d":true},{"k":"a.txt","q":"9","e":"old","z":9}]`)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("got %d entries, want one per key: %+v", len(keys), keys)
	}
	// 00B > 0A > 9 once left-padded; the delete of b.txt (4) is older than its upload (05).
	if keys[0].Key != "a.txt" || keys[0].ETag != "e2" || *keys[0].Size != 3 {
		t.Errorf("a.txt: got %+v, want the event with sequencer 00B", keys[0])
	}
	if keys[1].Key != "b.txt" || keys[1].Deleted || *keys[1].Size != 2 {
		t.Errorf("b.txt: got %+v, want the upload (05), not the older delete (4)", keys[1])
	}
}

func TestNewestPerKeyWithoutSequencersKeepsTheLaterEntry(t *testing.T) {
	got := NewestPerKey([]ListedKey{{Key: "a", ETag: "1"}, {Key: "a", ETag: "2"}})
	if len(got) != 1 || got[0].ETag != "2" {
		t.Fatalf("got %+v, want the later entry", got)
	}
}

func TestParseKeyListRefusesBadLists(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{``, "not a JSON list"},
		{`{"k":"a"}`, "not a JSON list"},
		{`[]`, "empty"},
		{`[{"k":""}]`, "no key"},
		{`[{"k":"a","z":-1}]`, "negative"},
		{`[{"k":"a","x":1}]`, "unknown field"},
		{`[` + strings.Repeat(`{"k":"a"},`, MaxKeysPerTask) + `{"k":"b"}]`, "more than the 100"},
	} {
		_, err := ParseKeyList(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), EnvKeys) {
			t.Errorf("ParseKeyList(%.40q) = %v, want an error naming %s and containing %q", tc.in, err, EnvKeys, tc.want)
		}
	}
}

func TestWorstExitAndOutcome(t *testing.T) {
	for _, tc := range []struct {
		codes []ExitCode
		want  ExitCode
	}{
		{nil, ExitOK},
		{[]ExitCode{ExitOK, ExitOK}, ExitOK},
		{[]ExitCode{ExitOK, ExitNotFound}, ExitNotFound},
		{[]ExitCode{ExitNotFound, ExitIntegrity, ExitOK}, ExitIntegrity},
		{[]ExitCode{ExitNetwork, ExitUnsafeKey}, ExitNetwork},
		{[]ExitCode{ExitOK, 42}, 42},
	} {
		if got := WorstExit(tc.codes...); got != tc.want {
			t.Errorf("WorstExit(%v) = %d, want %d", tc.codes, got, tc.want)
		}
	}
	if got := WorstOutcome(OutcomeDelivered, OutcomeUpToDate, OutcomeGone); got != OutcomeDelivered {
		t.Errorf("WorstOutcome = %q, want delivered (a gone key is no failure)", got)
	}
	if got := WorstOutcome(); got != "" {
		t.Errorf("WorstOutcome() = %q, want \"\"", got)
	}
	if got := WorstOutcome(OutcomeGone, OutcomeGone); got != OutcomeGone {
		t.Errorf("WorstOutcome = %q, want gone", got)
	}
	if got := WorstOutcome(OutcomeDelivered, OutcomeFailed, OutcomeConflict); got != OutcomeFailed {
		t.Errorf("WorstOutcome = %q, want failed", got)
	}
	if got := WorstOutcome(OutcomeUpToDate, OutcomeDelivered); got != OutcomeDelivered {
		t.Errorf("WorstOutcome = %q, want delivered", got)
	}
}

func TestMaxKeyListLeavesRoomForTheOtherOverrides(t *testing.T) {
	if MaxKeyListBytes+2048 > 8192-256 {
		t.Fatalf("MaxKeyListBytes %d leaves no room for a task token (2,048) and the other variables", MaxKeyListBytes)
	}
}
