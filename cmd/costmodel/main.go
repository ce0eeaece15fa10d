// Command costmodel is the bill in advance: it runs the delivery
// definitions the app synthesizes (their golden copies in
// constructs/pipeline/testdata, kept equal to the synth by the stacks
// tests; make golden rewrites them) in the local interpreter against fleetsim's
// stand-in fleet, counts state transitions, RunTask calls, ledger writes
// and executions per delivery for each target and fleet size, and writes
// docs/cost.md: dollars per 1,000 deliveries and per board-month from the
// named, dated prices below, and the quotas that bind at each size.
//
//	make cost            # or: go run ./cmd/costmodel -o docs/cost.md
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/edge-drop/edge-drop/internal/fleetsim"
	"github.com/edge-drop/edge-drop/local/asl"
)

func main() {
	testdata := flag.String("testdata", "constructs/pipeline/testdata", "the synthesized definitions (*.asl.json): their golden copies")
	out := flag.String("o", "", "write the Markdown here (default: standard output)")
	flag.Parse()
	rows, err := Measure(*testdata)
	if err != nil {
		fmt.Fprintln(os.Stderr, "costmodel:", err)
		os.Exit(1)
	}
	w := io.Writer(os.Stdout)
	if *out != "" {
		f, err := os.CreateTemp(filepath.Dir(*out), ".cost-*.md")
		if err != nil {
			fmt.Fprintln(os.Stderr, "costmodel:", err)
			os.Exit(1)
		}
		defer os.Remove(f.Name())
		w = f
		defer func() {
			if err := f.Close(); err == nil {
				err = os.Rename(f.Name(), *out)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "costmodel:", err)
				os.Exit(1)
			}
		}()
	}
	if err := Write(w, rows); err != nil {
		fmt.Fprintln(os.Stderr, "costmodel:", err)
		os.Exit(1)
	}
}

// Case is one delivery to measure: a target over a fleet, and the
// definitions that carry it.
type Case struct {
	Target string // in the words of deliverTo / routePrefix
	Boards int    // the fleet; the boards the target reaches are measured
	Parent string // testdata name
	Child  string // testdata name of the page machine, for paged deliveries
	Key    string
	// Batch, when set, is a coalesced batch of that many uploads
	// (coalesceWindow): one execution for all of them.
	Batch int
}

// Cases: every target kind at 10, 300 (one execution) and 10,000 boards
// (paged, maxBoards=10000). A board target reaches one board at any fleet
// size and "any" one board ECS picks; a group is taken as the whole fleet
// (its worst case), and a routed key names a group. At 10,000 a group's
// paged definition differs from all's only in its cluster query.
var Cases = []Case{
	{"any", 1, "pipeline", "", "demo1.txt", 0},
	{"board:shop-1", 1, "fleet-board", "", "demo1.txt", 0},
	{"group:site1", 10, "fleet-group", "", "demo1.txt", 0},
	{"group:site1", 300, "fleet-group", "", "demo1.txt", 0},
	{"group:site1", 10_000, "fleet-paged", "fleet-page", "demo1.txt", 0},
	{"all", 10, "fleet-all", "", "demo1.txt", 0},
	{"all", 300, "fleet-all", "", "demo1.txt", 0},
	{"all", 10_000, "fleet-paged", "fleet-page", "demo1.txt", 0},
	{"routed to/site1/…", 10, "fleet-routed", "", "to/site1/demo1.txt", 0},
	{"routed to/site1/…", 300, "fleet-routed", "", "to/site1/demo1.txt", 0},
	{"routed to/site1/…", 10_000, "fleet-paged-routed", "fleet-page-routed", "to/site1/demo1.txt", 0},
	// Coalesced bursts (coalesceWindow): a batch of 1, 10 and 40 (the
	// pipe's BatchSize) uploads in one execution.
	{"all", 10, "coalesce-all", "", "demo1.txt", 1},
	{"all", 10, "coalesce-all", "", "demo1.txt", 10},
	{"all", 10, "coalesce-all", "", "demo1.txt", 40},
	{"all", 300, "coalesce-all", "", "demo1.txt", 1},
	{"all", 300, "coalesce-all", "", "demo1.txt", 10},
	{"all", 300, "coalesce-all", "", "demo1.txt", 40},
}

// pageMachineRef is how a paged definition names its child.
const pageMachineRef = "${PipelinePageStateMachine42EFD0AD}"

// Row is one measured delivery.
type Row struct {
	Case
	Reached, Transitions, RunTasks, LedgerWrites, Executions, MostHistory int
}

// Measure runs every case.
func Measure(testdata string) ([]Row, error) {
	load := func(name string) (*asl.Machine, error) {
		def, err := os.ReadFile(filepath.Join(testdata, name+".asl.json"))
		if err != nil {
			return nil, err
		}
		return asl.Parse(def)
	}
	var rows []Row
	for _, c := range Cases {
		parent, err := load(c.Parent)
		if err != nil {
			return nil, err
		}
		children := map[string]*asl.Machine{}
		if c.Child != "" {
			if children[pageMachineRef], err = load(c.Child); err != nil {
				return nil, err
			}
		}
		var input any = fleetsim.UploadEvent(c.Key)
		if c.Batch > 0 {
			keys := make([]string, c.Batch)
			for i := range keys {
				keys[i] = fmt.Sprintf("demo%d.txt", i+1)
			}
			input = fleetsim.UploadBatch(keys)
		}
		s := (&fleetsim.Fleet{Boards: c.Boards}).Run(context.Background(), parent, children, input)
		if s.Status != asl.StatusSucceeded {
			return nil, fmt.Errorf("%s on %d boards: %s %v", c.Target, c.Boards, s.Status, s.Output)
		}
		r := Row{Case: c, Reached: len(s.TasksPerBoard), Transitions: s.Transitions, RunTasks: s.RunTasks,
			LedgerWrites: s.LedgerWrites, Executions: s.Executions}
		for _, h := range s.History {
			r.MostHistory = max(r.MostHistory, h)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// Write renders docs/cost.md.
func Write(w io.Writer, rows []Row) error {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("\n## Per delivery, measured\n\n")
	b.WriteString("One upload, every board of the target healthy (one attempt each). Counted by running the synthesized definitions\n")
	b.WriteString("in the local interpreter (`make cost`); a board that is offline adds one transition and one RunTask per retry\n")
	b.WriteString("(up to 11 with `offlineWait=30m`).\n\n")
	b.WriteString("| target | fleet | boards reached | executions | state transitions | per board | RunTask calls | ledger writes | most history events in one execution | Step Functions $ per 1,000 deliveries |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		if r.Batch > 0 {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %.1f | %s | %s | %s | %s |\n", r.Target, num(r.Boards), num(r.Reached), r.Executions,
			num(r.Transitions), float64(r.Transitions)/float64(max(1, r.Reached)), num(r.RunTasks), num(r.LedgerWrites), num(r.MostHistory),
			dollars(float64(r.Transitions)*1000*TransitionPrice))
	}
	b.WriteString("\nLedger writes are every `dynamodb:` task call the definitions make: two per board reached (its current\n")
	b.WriteString("item and a history item, docs/cli.md); `deliverTo=any` records nothing, as no state knows the board ECS picked.\n")
	b.WriteString("Their DynamoDB on-demand price (write request units, one per KB of item) is not counted in the $ column.\n")

	writeCoalesced(&b, rows)

	b.WriteString("\n## Per board-month\n\n")
	b.WriteString("The standing cost of a registered board, plus its share of deliveries: `deliverTo=all`, one upload a day\n")
	b.WriteString("(30 a month) reaching every board, Step Functions only (no free tier counted).\n\n")
	b.WriteString("| fleet | ECS Anywhere | SSM advanced tier | 30 deliveries to all | total per board-month | fleet per month |\n|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		if r.Target != "all" || r.Batch > 0 {
			continue
		}
		ecs := ECSAnywhereHourly * HoursPerMonth
		ssm := 0.0
		if r.Boards > SSMStandardTierNodes {
			ssm = SSMAdvancedHourly * HoursPerMonth
		}
		deliveries := 30 * float64(r.Transitions) * TransitionPrice / float64(r.Reached)
		total := ecs + ssm + deliveries
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", num(r.Boards), dollars(ecs), dollars(ssm), dollars(deliveries), dollars(total), dollars(total*float64(r.Boards)))
	}
	b.WriteString(quotas)
	_, err := io.WriteString(w, b.String())
	return err
}

func num(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func dollars(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("$%s", num(int(v+0.5)))
	case v >= 1:
		return fmt.Sprintf("$%.2f", v)
	}
	return fmt.Sprintf("$%.4f", v)
}

// writeCoalesced is the table of coalesced bursts: per upload, what a
// batch of n costs divided by n.
func writeCoalesced(b *strings.Builder, rows []Row) {
	b.WriteString("\n## With coalescing (`coalesceWindow`), measured\n\n")
	b.WriteString("A burst of uploads to `all`: the pipe hands one execution a batch of up to 40 events; each board gets one task\n")
	b.WriteString("per batch with every key (short keys: one part). Per upload is the batch's count divided by its uploads;\n")
	b.WriteString("without coalescing each upload is one execution and one RunTask per board (the table above). Batches write no\n")
	b.WriteString("ledger items yet (the ledger records one object per board outcome; a batch's keys are in each task's report).\n\n")
	b.WriteString("| target | fleet | uploads in the batch | executions per 1,000 uploads | state transitions per upload | RunTask calls per upload | RunTask calls per upload per board | most history events | Step Functions $ per 1,000 uploads |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		if r.Batch == 0 {
			continue
		}
		n := float64(r.Batch)
		fmt.Fprintf(b, "| %s | %s | %d | %s | %.1f | %.2f | %.3f | %s | %s |\n", r.Target, num(r.Boards), r.Batch,
			num(int(1000*float64(r.Executions)/n+0.5)), float64(r.Transitions)/n, float64(r.RunTasks)/n,
			float64(r.RunTasks)/n/float64(max(1, r.Reached)), num(r.MostHistory), dollars(float64(r.Transitions)/n*1000*TransitionPrice))
	}
}
