package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/cli"
	"github.com/edge-drop/edge-drop/internal/fleettest"
	"github.com/edge-drop/edge-drop/local/ecstask"
)

var fleetAB = []ecstask.Board{{Name: "a"}, {Name: "b", Groups: []string{"site1"}}}

// toAll delivers demo*.txt to every board and syncs every 6 h.
var toAll = contract.Delivery{DeliverTo: "all", KeyPattern: "demo*.txt", ListPrefix: "demo", SyncEvery: "6h0m0s", Sync: true}

// run runs the CLI against e (--local) and returns stdout, stderr and the
// exit code.
func run(t *testing.T, e *fleettest.Env, args ...string) (string, string, int) {
	t.Helper()
	if e != nil {
		args = append([]string{"--local=" + e.StateDir}, args...)
	}
	return fleettest.Output(func(stdout, stderr io.Writer) int {
		return cli.Run(context.Background(), cli.Env{Stdout: stdout, Stderr: stderr, Dir: t.TempDir(), Poll: 20 * time.Millisecond}, args)
	})
}

type statusJSON struct {
	Key    string
	Boards []struct {
		Board, Status, Version, Cause string
		Time                          *string
	}
}

func status(t *testing.T, e *fleettest.Env, key string) statusJSON {
	t.Helper()
	out, errOut, code := run(t, e, "status", key, "-o", "json")
	if code != 0 {
		t.Fatalf("status %s: exit %d: %s", key, code, errOut)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status -o json is not JSON: %v\n%s", err, out)
	}
	return st
}

// The story: a delivered on a, b pending because it is offline,
// both delivered after b comes back; each status is one DynamoDB request.
func TestStatusDeliveredOfflineThenBoth(t *testing.T) {
	e := fleettest.Start(t, fleetAB, toAll, "")
	etag, _ := e.Put("demo1.txt", "hello")
	at := time.Now().UTC().Truncate(time.Second)
	e.Record(fleettest.Outcome{Key: "demo1.txt", Board: "a", Status: contract.OutcomeDelivered, ETag: etag, Cause: "delivered", ExitCode: fleettest.Code(0), At: at})
	if err := e.Fleet.SetConnected("b", false); err != nil {
		t.Fatal(err)
	}

	e.DB.ResetRequests()
	st := status(t, e, "demo1.txt")
	if n, q := e.DB.Requests(""), e.DB.Requests("Query"); n != 1 || q != 1 {
		t.Errorf("status made %d DynamoDB requests (%d queries); want exactly 1 query", n, q)
	}
	if st.Key != "demo1.txt" || len(st.Boards) != 2 {
		t.Fatalf("status: %+v", st)
	}
	a, b := st.Boards[0], st.Boards[1]
	if a.Board != "a" || a.Status != "delivered" || a.Version != etag || a.Time == nil || *a.Time != at.Format(time.RFC3339) || a.Cause != "" {
		t.Errorf("board a: %+v", a)
	}
	if b.Board != "b" || b.Status != "pending" || b.Time != nil || b.Version != etag ||
		!strings.HasPrefix(b.Cause, "offline (agent disconnected), then waiting for the next scheduled sync (every 6h)") {
		t.Errorf("board b: %+v", b)
	}

	table, _, code := run(t, e, "status", "demo1.txt")
	if code != 0 {
		t.Fatalf("table: exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^BOARD\s+STATUS\s+VERSION\s+WHEN\s+CAUSE$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^a\s+delivered\s+`+etag+`\s+`+at.Format(time.RFC3339)+`\s+-$`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^b\s+pending\s+`+etag+`\s+-\s+offline \(agent disconnected\)`).MatchString(lines[2]) {
		t.Errorf("table:\n%s", table)
	}

	// b is back; the next sync delivered it.
	if err := e.Fleet.SetConnected("b", true); err != nil {
		t.Fatal(err)
	}
	e.Record(fleettest.Outcome{Key: "demo1.txt", Board: "b", Status: contract.OutcomeDelivered, ETag: etag, ExitCode: fleettest.Code(0), At: at.Add(time.Minute)})
	e.DB.ResetRequests()
	st = status(t, e, "demo1.txt")
	if e.DB.Requests("") != 1 {
		t.Errorf("status made %d DynamoDB requests, want 1", e.DB.Requests(""))
	}
	for _, c := range st.Boards {
		if c.Status != "delivered" {
			t.Errorf("after b came back: %+v", st.Boards)
		}
	}
}

// A connected board without the object waits for the next sync: when,
// from its last sync (the one extra request, a BatchGetItem, is made
// only then).
func TestStatusPendingUntilTheNextSync(t *testing.T) {
	e := fleettest.Start(t, fleetAB, toAll, "")
	etag, _ := e.Put("demo1.txt", "hello")
	e.Record(fleettest.Outcome{Key: "demo1.txt", Board: "a", Status: contract.OutcomeDelivered, ETag: etag})
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	e.Sync("b", contract.OutcomeSynced, start, start.Add(time.Minute), start)
	e.DB.ResetRequests()
	st := status(t, e, "demo1.txt")
	if q, all := e.DB.Requests("Query"), e.DB.Requests(""); q != 1 || all != 2 {
		t.Errorf("%d queries, %d requests; want 1 query + 1 BatchGetItem", q, all)
	}
	want := "waiting for the next sync by " + start.Add(6*time.Hour).Format(time.RFC3339)
	if b := st.Boards[1]; b.Status != "pending" || b.Cause != want {
		t.Errorf("board b: %+v, want cause %q", b, want)
	}
}

// A failed board shows its status and cause; an older version on a board
// is pending, not delivered.
func TestStatusFailedWithCauseAndOlderVersion(t *testing.T) {
	e := fleettest.Start(t, fleetAB, toAll, "")
	old, _ := e.Put("demo2.txt", "v1")
	e.Record(fleettest.Outcome{Key: "demo2.txt", Board: "a", Status: contract.OutcomeDelivered, ETag: old})
	etag, _ := e.Put("demo2.txt", "v2")
	cause := "failed (exit 6 local_io: no space left on device)"
	e.Record(fleettest.Outcome{Key: "demo2.txt", Board: "b", Status: contract.OutcomeFailed, ETag: etag, Cause: cause, ExitCode: fleettest.Code(6)})
	st := status(t, e, "demo2.txt")
	a, b := st.Boards[0], st.Boards[1]
	if b.Status != "failed" || b.Cause != cause || b.Version != etag {
		t.Errorf("board b: %+v", b)
	}
	if a.Status != "pending" || a.Version != etag || !strings.HasPrefix(a.Cause, "has an older version "+old+" (delivered ") {
		t.Errorf("board a: %+v", a)
	}
	table, _, _ := run(t, e, "status", "demo2.txt")
	if !strings.Contains(table, cause) {
		t.Errorf("table lacks the cause:\n%s", table)
	}
}

func TestUnknownKeyAndBoard(t *testing.T) {
	e := fleettest.Start(t, fleetAB, toAll, "")
	e.Put("notes/readme.md", "x")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"status", "demo9.txt"}, cli.ExitNotFound, `unknown key "demo9.txt"`},
		{[]string{"status", "notes/readme.md"}, cli.ExitNotFound, `does not match the pipeline's keyPattern "demo*.txt"`},
		{[]string{"missing", "c"}, cli.ExitNotFound, `unknown board "c": the boards are a, b`},
		{[]string{"missing", "no/such"}, cli.ExitUsage, `board name "no/such" is not valid`},
		{[]string{"status"}, cli.ExitUsage, "status takes one KEY"},
		{[]string{"status", ""}, cli.ExitUsage, "an S3 key is 1 to 1,024 bytes"},
		{[]string{"stauts", "x"}, cli.ExitUsage, "did you mean status?"},
		{[]string{"boards", "-o", "yaml"}, cli.ExitUsage, `-o "yaml": want table or json`},
	} {
		out, errOut, code := run(t, e, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) || strings.Count(errOut, "\n") != 1 || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit %d and one line with %q", c.args, code, errOut, out, c.code, c.msg)
		}
	}
}

// missing lists the objects the board has not confirmed: without a
// successful sync every object under the pattern; with one, only those
// newer than its start.
func TestMissingWithAndWithoutASuccessfulSync(t *testing.T) {
	e := fleettest.Start(t, fleetAB, toAll, "")
	e.Put("demo1.txt", "1")
	etag2, _ := e.Put("demo2.txt", "2")
	etag3, _ := e.Put("demo3.txt", "3")
	e.Put("notes/readme.md", "not under the pattern")
	e.Record(fleettest.Outcome{Key: "demo2.txt", Board: "a", Status: contract.OutcomeUpToDate, ETag: etag2})
	e.Record(fleettest.Outcome{Key: "demo3.txt", Board: "a", Status: contract.OutcomeFailed, ETag: etag3, Cause: "failed (exit 7 network: timeout)", ExitCode: fleettest.Code(7)})

	type object struct{ Key, Version, Status, Cause string }
	missing := func() []object {
		out, errOut, code := run(t, e, "missing", "a", "-o", "json")
		if code != 0 {
			t.Fatalf("missing: exit %d: %s", code, errOut)
		}
		var list []object
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return list
	}
	got := missing()
	if len(got) != 2 || got[0].Key != "demo1.txt" || got[0].Status != "" || got[1].Key != "demo3.txt" || got[1].Status != "failed" || got[1].Cause != "failed (exit 7 network: timeout)" {
		t.Errorf("no sync yet: %+v", got)
	}
	table, _, _ := run(t, e, "missing", "a")
	if !regexp.MustCompile(`(?m)^demo1\.txt\s+\S+\s+\S+\s+not recorded\s+-$`).MatchString(table) {
		t.Errorf("table:\n%s", table)
	}

	// A sync that ended synced after these uploads: all of them are there;
	// an upload after its start is not, until the ledger confirms it.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond))) // S3 times have whole seconds
	_, lm4 := e.Put("demo4.txt", "4")
	e.Sync("a", contract.OutcomeSynced, lm4.Add(-time.Millisecond), lm4, lm4.Add(-time.Millisecond))
	got = missing()
	if len(got) != 1 || got[0].Key != "demo4.txt" {
		t.Errorf("after a successful sync: %+v", got)
	}
	out, _, _ := run(t, e, "missing", "b", "-o", "json")
	var list []object
	json.Unmarshal([]byte(out), &list)
	if len(list) != 4 {
		t.Errorf("board b (never synced, nothing recorded) misses %d objects, want 4: %s", len(list), out)
	}
}

func TestBoardsListsNamesGroupsAndState(t *testing.T) {
	e := fleettest.Start(t, fleetAB, toAll, "")
	etag, _ := e.Put("demo1.txt", "1")
	e.Record(fleettest.Outcome{Key: "demo1.txt", Board: "a", Status: contract.OutcomeDelivered, ETag: etag})
	start := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	e.Sync("b", contract.OutcomeOffline, start, start.Add(time.Minute), time.Time{})
	e.Fleet.SetConnected("b", false)
	out, errOut, code := run(t, e, "boards", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var boards []struct {
		Board          string
		Groups         []string
		AgentConnected bool
		RunningTasks   int
		LastSync       *string
		LastSyncStatus string
		Missing        int
	}
	if err := json.Unmarshal([]byte(out), &boards); err != nil {
		t.Fatal(err, out)
	}
	if len(boards) != 2 || boards[0].Board != "a" || len(boards[0].Groups) != 0 || !boards[0].AgentConnected || boards[0].Missing != 0 || boards[0].LastSync != nil ||
		boards[1].Board != "b" || len(boards[1].Groups) != 1 || boards[1].Groups[0] != "site1" || boards[1].AgentConnected ||
		boards[1].LastSync == nil || *boards[1].LastSync != "2026-12-06T12:00:00Z" || boards[1].LastSyncStatus != "offline" || boards[1].Missing != 1 {
		t.Errorf("boards: %s", out)
	}
	table, _, _ := run(t, e, "boards")
	if !regexp.MustCompile(`(?m)^b\s+site1\s+no\s+0\s+2026-12-06T12:00:00Z offline\s+1$`).MatchString(table) {
		t.Errorf("table:\n%s", table)
	}
}

func TestSetupErrors(t *testing.T) {
	e := fleettest.Start(t, fleetAB, toAll, "")
	e.SetOutput(contract.OutputLedgerTable, "Nope")
	_, errOut, code := run(t, e, "status", "demo1.txt")
	if code != cli.ExitNotFound || !strings.Contains(errOut, "ledger table Nope not found") {
		t.Errorf("missing table: exit %d, %q", code, errOut)
	}
	_, errOut, code = run(t, nil, "--local", t.TempDir(), "boards")
	if code != cli.ExitSetup || !strings.Contains(errOut, "no demo is running") || !strings.Contains(errOut, "make demo") {
		t.Errorf("no demo: exit %d, %q", code, errOut)
	}
}

// ui serves the page on loopback only and says where; Ctrl-C ends it.
func TestUIServesOnLoopback(t *testing.T) {
	e := fleettest.Start(t, fleetAB, toAll, "")
	_, errOut, code := run(t, e, "ui", "--addr", "0.0.0.0:0")
	if code != cli.ExitUsage || !strings.Contains(errOut, "loopback only") {
		t.Errorf("--addr 0.0.0.0:0: exit %d %q", code, errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan int)
	go func() {
		done <- cli.Run(ctx, cli.Env{Stdout: w, Stderr: io.Discard, Dir: t.TempDir()}, []string{"--local=" + e.StateDir, "ui", "-o", "json"})
		w.Close()
	}()
	var got struct{ StatusPage string }
	if err := json.NewDecoder(r).Decode(&got); err != nil || !strings.HasPrefix(got.StatusPage, "http://127.0.0.1:") {
		t.Fatalf("ui printed %+v (%v)", got, err)
	}
	resp, err := http.Get(got.StatusPage + "api/state")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"name":"a"`) {
		t.Errorf("state: %s", body)
	}
	cancel()
	go io.Copy(io.Discard, r)
	if code := <-done; code != 0 {
		t.Errorf("ui ended with %d", code)
	}
}
