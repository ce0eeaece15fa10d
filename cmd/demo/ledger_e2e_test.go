package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/chromedp"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/browsertest"
	"github.com/edge-drop/edge-drop/internal/cli"
	"github.com/edge-drop/edge-drop/local/endpoints"
)

// The ledger end to end (issue 20): the demo with boards a and b
// (deliverTo=all), the state machine writing dynalite, the CLI reading it.
// After the sample both boards delivered; with b offline a new upload is
// delivered on a and pending on b; after "online b" and the retry, both.
func TestDemoLedgerShowsEachBoardsOutcome(t *testing.T) {
	t.Parallel()
	bin, task := buildBinaries(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cmd := demoCommand(t, bin, "-task", task, "-state", state, "-data", filepath.Join(dir, "data"),
		"-boards", "a,b@site1", "-c", "deliverTo=all")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	var (
		mu   sync.Mutex
		seen strings.Builder
	)
	go func() {
		for lines.Scan() {
			mu.Lock()
			seen.WriteString(lines.Text() + "\n")
			mu.Unlock()
		}
	}()
	output := func() string { mu.Lock(); defer mu.Unlock(); return seen.String() }
	// command types a line into the demo and waits for its answer: the
	// demo reads its input on its own, so an upload typed right after
	// "offline b" could otherwise start before b is offline.
	command := func(line, answer string) {
		t.Helper()
		fmt.Fprintln(stdin, line)
		for deadline := time.Now().Add(time.Minute); !strings.Contains(output(), answer); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%q: the demo never said %q:\n%s", line, answer, output())
			}
		}
	}

	edgeDrop := func(args ...string) (string, int) {
		var out, errOut bytes.Buffer
		code := cli.Run(context.Background(), cli.Env{Stdout: &out, Stderr: &errOut, Dir: "../..", Poll: 50 * time.Millisecond},
			append([]string{"--local=" + state}, args...))
		return out.String() + errOut.String(), code
	}
	type row struct{ Board, Status, Version, Cause string }
	status := func(key string) map[string]row {
		out, code := edgeDrop("status", key, "-o", "json")
		var s struct {
			Key    string
			Boards []row
		}
		if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
			return map[string]row{"": {Cause: fmt.Sprintf("exit %d: %s", code, out)}}
		}
		m := map[string]row{}
		for _, b := range s.Boards {
			m[b.Board] = b
		}
		return m
	}
	// eventually waits until want holds for key's rows (the executions
	// write the ledger as each board's outcome comes).
	eventually := func(what, key string, want func(map[string]row) bool) {
		t.Helper()
		var got map[string]row
		for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if got = status(key); want(got) {
				return
			}
		}
		t.Fatalf("%s: status %s: %+v\ndemo output:\n%s\n%s", what, key, got, output(), stderr.String())
	}
	is := func(rows map[string]row, board, status string) bool { return rows[board].Status == status }

	eventually("after the sample", "demo1.txt", func(r map[string]row) bool {
		return is(r, "a", contract.OutcomeDelivered) && is(r, "b", contract.OutcomeDelivered)
	})
	out, code := edgeDrop("boards", "-o", "json")
	var boards []struct {
		Board  string
		Groups []string
	}
	if code != 0 || json.Unmarshal([]byte(out), &boards) != nil || len(boards) != 2 ||
		boards[0].Board != "a" || len(boards[0].Groups) != 0 || boards[1].Board != "b" || strings.Join(boards[1].Groups, ",") != "site1" {
		t.Errorf("boards: exit %d\n%s", code, out)
	}

	command("offline b", "board b is offline")
	uploadTo(t, state, "demo-offline.txt", "while b was away\n")
	eventually("b offline", "demo-offline.txt", func(r map[string]row) bool {
		return is(r, "a", contract.OutcomeDelivered) && is(r, "b", "pending")
	})
	// The page shows the same, in a real browser.
	e, err := endpoints.Read(state)
	if err != nil {
		t.Fatal(err)
	}
	page := pageIn(t, e.StatusPage)
	cell := func(board, key string) string {
		return `#grid [data-board="` + board + `"][data-key="` + key + `"]`
	}
	page.wait(cell("a", "demo1.txt"), contract.OutcomeDelivered)
	page.wait(cell("b", "demo1.txt"), contract.OutcomeDelivered)
	page.wait(cell("a", "demo-offline.txt"), contract.OutcomeDelivered)
	page.wait(cell("b", "demo-offline.txt"), "pending")

	command("online b", "board b is online")
	eventually("b back", "demo-offline.txt", func(r map[string]row) bool {
		return is(r, "a", contract.OutcomeDelivered) && is(r, "b", contract.OutcomeDelivered)
	})
	page.wait(cell("b", "demo-offline.txt"), contract.OutcomeDelivered)
	_ = cmd.Process.Signal(syscall.SIGINT)
}

// browserPage is the status page in headless chromium.
type browserPage struct {
	t   *testing.T
	ctx context.Context
}

func pageIn(t *testing.T, url string) *browserPage {
	t.Helper()
	ctx := browsertest.Start(t, 375, 812, 4*time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	return &browserPage{t: t, ctx: ctx}
}

// wait waits until the element shows text (the page updates itself).
func (p *browserPage) wait(sel, text string) {
	p.t.Helper()
	var got string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
		cancel()
		if err == nil {
			if got = strings.TrimSpace(s); got == text {
				return
			}
		}
	}
	p.t.Fatalf("the page's %s shows %q, want %q", sel, got, text)
}

// uploadTo uploads key to the demo's bucket with the demo's credentials.
func uploadTo(t *testing.T, state, key, body string) {
	t.Helper()
	e, err := endpoints.Read(state)
	if err != nil {
		t.Fatal(err)
	}
	c := s3.New(s3.Options{
		Region: e.Region, BaseEndpoint: aws.String(e.S3), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(e.AccessKeyID, e.SecretAccessKey, ""),
	})
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(e.Outputs[contract.OutputBucketName]), Key: aws.String(key), Body: strings.NewReader(body),
	}); err != nil {
		t.Fatal(err)
	}
}
