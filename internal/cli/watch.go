package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/fault"
	"github.com/edge-drop/edge-drop/internal/ledger"
)

func watchCmd(s *session) *cobra.Command {
	var since time.Duration
	c := &cobra.Command{
		Use:   "watch [--since 1h]",
		Short: "Print per-board outcomes as the ledger records them (deliveries, syncs, deletes) until Ctrl-C",
		Long: `Print each per-board outcome as the state machines record it in the ledger: deliveries, syncs
and deletes, one line each (-o json: one JSON object per line). It polls the ledger's byTime index
for the current day (one query per poll, whatever the fleet's size, and the outcomes are already
per board), rather than listing executions and reading each one's history. Ctrl-C ends it (exit 0).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if since < 0 {
				return fault.Usagef("--since %s: want a positive duration, e.g. --since 1h", since)
			}
			l, err := s.ledger(cmd.Context())
			if err != nil {
				return err
			}
			if err := l.Check(cmd.Context()); err != nil {
				return err
			}
			return s.watch(cmd, l, since)
		},
	}
	c.Flags().DurationVar(&since, "since", 0, "first print what was recorded this long ago, e.g. 1h (at most the previous days' history kept)")
	return c
}

// watch polls the byTime index from now-since on, day by day; each poll
// reads ledger.Lateness again (ledger.Tail), so an outcome that appears
// after a newer one is printed too, once.
func (s *session) watch(cmd *cobra.Command, l *ledger.Reader, since time.Duration) error {
	ctx := cmd.Context()
	w := cmd.OutOrStdout()
	from := s.env.now().UTC().Add(-since)
	day, first := from.Format(time.DateOnly), from.Format(contract.LedgerTimeLayout)
	if !s.json() {
		fmt.Fprintf(w, "%-20s  %-12s  %-10s  %s\n", "WHEN", "BOARD", "STATUS", "KEY / CAUSE")
	}
	var tail ledger.Tail
	for {
		today := s.env.now().UTC().Format(time.DateOnly)
		rows, err := l.Day(ctx, day, max(first, tail.After()), 0)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, r := range tail.New(rows) {
			printOutcome(w, s.json(), r)
		}
		if day < today { // the day is over: on to the next one
			next, _ := time.Parse(time.DateOnly, day)
			day, first, tail = next.AddDate(0, 0, 1).Format(time.DateOnly), "", ledger.Tail{}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.poll()):
		}
	}
}

func printOutcome(w io.Writer, asJSON bool, r ledger.Row) {
	key := r.Key
	if key == "" {
		key = "(" + r.Mode + ")"
	}
	if asJSON {
		b, _ := json.Marshal(map[string]any{"time": jsonTime(r.At), "board": r.Board, "status": r.Status, "key": r.Key,
			"version": r.Version(), "mode": r.Mode, "cause": r.Cause, "execution": r.Execution})
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	line := fmt.Sprintf("%-20s  %-12s  %-10s  %s", stamp(r.At), safe(r.Board), safe(r.Status), safe(key))
	if r.Cause != "" && r.Cause != r.Status {
		line += ": " + safe(r.Cause)
	}
	fmt.Fprintln(w, line)
}
