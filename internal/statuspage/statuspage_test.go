package statuspage_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/browsertest"
	"github.com/edge-drop/edge-drop/internal/deployment"
	"github.com/edge-drop/edge-drop/internal/fleetstatus"
	"github.com/edge-drop/edge-drop/internal/fleettest"
	"github.com/edge-drop/edge-drop/internal/ledger"
	"github.com/edge-drop/edge-drop/internal/statuspage"
	"github.com/edge-drop/edge-drop/local/ecstask"
)

var toAll = contract.Delivery{DeliverTo: "all", KeyPattern: "demo*.txt", ListPrefix: "demo", SyncEvery: "6h0m0s", Sync: true}

// poll is how often the tests' pages read the ledger and the fleet.
var poll = 50 * time.Millisecond

// serve starts the page for e, reading every poll.
func serve(t testing.TB, e *fleettest.Env, name ...string) *statuspage.Server {
	t.Helper()
	d, err := deployment.FromLocal(e.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := d.DynamoDB()
	if err != nil {
		t.Fatal(err)
	}
	f := &fleetstatus.Fleet{Ledger: &ledger.Reader{DB: db, Table: fleettest.Table}, ECS: d.ECS(), Cluster: fleettest.Cluster,
		S3: d.S3(), Bucket: fleettest.Bucket, Delivery: e.Delivery}
	shown := d.Name
	if len(name) > 0 {
		shown = name[0]
	}
	s, err := statuspage.Start(context.Background(), "127.0.0.1:0", statuspage.Options{Fleet: f, Name: shown, Poll: poll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// browser starts headless chromium with a width × height viewport.
func browser(t testing.TB, width, height int) context.Context {
	t.Helper()
	return browsertest.Start(t, width, height, 60*time.Second)
}

// waitText waits until the element's visible text satisfies ok.
func waitText(ctx context.Context, sel string, ok func(string) bool) (string, error) {
	var text string
	for {
		t, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
		text = t
		if err == nil && ok(text) {
			return text, nil
		}
		select {
		case <-ctx.Done():
			return text, fmt.Errorf("%s: last text %q: %w", sel, text, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// What a person sees on a phone: the boards by name, a delivered cell, a
// failed cell's cause on a tap, and an offline board turning connected
// when it comes back, without reloading.
func TestPageInABrowser(t *testing.T) {
	e := fleettest.Start(t, []ecstask.Board{{Name: "a"}, {Name: "b", Groups: []string{"site1"}}}, toAll, "")
	etag, _ := e.Put("demo1.txt", "hello")
	e.Record(fleettest.Outcome{Key: "demo1.txt", Board: "a", Status: contract.OutcomeDelivered, ETag: etag})
	e.Record(fleettest.Outcome{Key: "demo1.txt", Board: "b", Status: contract.OutcomeFailed, ETag: etag, Cause: "failed (exit 6 local_io: no space left on device)", ExitCode: fleettest.Code(6)})
	e.Fleet.SetConnected("b", false)
	s := serve(t, e)
	ctx := browser(t, 375, 812)

	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL())); err != nil {
		t.Fatal(err)
	}
	boards, err := waitText(ctx, "#boards", func(s string) bool { return strings.Contains(s, "offline") })
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "b", "site1", "connected", "offline"} {
		if !strings.Contains(boards, want) {
			t.Errorf("boards show %q, want %q in it", boards, want)
		}
	}
	cell, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#grid [data-board="a"][data-key="demo1.txt"]`)))
	if err != nil {
		t.Fatal(err)
	}
	bState, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`li[data-board="b"] .state`)))
	if err != nil {
		t.Fatal(err)
	}
	if cell != "delivered" || bState != "offline" {
		t.Errorf("cell a %q, board b %q", cell, bState)
	}
	// Tap the failed cell: its cause.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#grid button[data-board="b"]`))); err != nil {
		t.Fatal(err)
	}
	if _, err := waitText(ctx, "#detail", func(s string) bool { return strings.Contains(s, "no space left on device") }); err != nil {
		t.Fatal(err)
	}
	// Readable at 375 px: nothing wider than the screen but the grid's own
	// scroller. Layout may still settle on a loaded machine (the tapped
	// cause just rendered): a real overflow stays for the whole second.
	var wide string
	for deadline := time.Now().Add(time.Second); ; {
		wide, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.scrollWidth <= window.innerWidth ? "" :
			"scrollWidth " + document.documentElement.scrollWidth + " > innerWidth " + window.innerWidth + "; widest: " +
			[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > window.innerWidth && !e.closest(".grid-wrap"))
				.map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : "") + " " + Math.round(e.getBoundingClientRect().right) + "px").slice(0, 5).join(", ")`))
		if err != nil {
			t.Fatal(err)
		}
		if wide == "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if wide != "" {
		t.Errorf("the page is wider than a 375 px screen: %s", wide)
	}
	// b comes back: the page turns it connected by itself.
	e.Fleet.SetConnected("b", true)
	if _, err := waitText(ctx, `li[data-board="b"] .state`, func(s string) bool { return s == "connected" }); err != nil {
		t.Fatal(err)
	}
	// A new outcome arrives live too.
	etag2, _ := e.Put("demo2.txt", "two")
	e.Record(fleettest.Outcome{Key: "demo2.txt", Board: "b", Status: contract.OutcomeDelivered, ETag: etag2})
	if _, err := waitText(ctx, `#grid [data-board="b"][data-key="demo2.txt"]`, func(s string) bool { return s == "delivered" }); err != nil {
		t.Fatal(err)
	}
}

// Everything the page loads comes from the page's own server.
func TestAssetsAreEmbeddedAndSelfContained(t *testing.T) {
	e := fleettest.Start(t, []ecstask.Board{{Name: "a"}}, toAll, "")
	s := serve(t, e)
	total := 0
	for _, path := range []string{"", "app.js", "app.css"} {
		resp, err := http.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		total += len(b)
		for _, bad := range []string{"http://", "https://", "//cdn", "innerHTML"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s contains %q", path, bad)
			}
		}
	}
	t.Logf("page size: %d bytes (HTML + JS + CSS)", total)
}
