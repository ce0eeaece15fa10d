package main

import (
	"bufio"
	"encoding/json"
	"io"
	"sort"
	"strings"

	"github.com/edge-drop/edge-drop/constructs/pipeline"
	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/localrun"
)

// control is what the console commands act on (the pipeline).
type control interface {
	SetConnected(board string, connected bool) error
	StartExecution(arn, name, input string) (*localrun.Run, error)
}

// consoleHelp says what the demo reads on its standard input.
const consoleHelp = `Type "offline <board>" to disconnect a board's agent (its running tasks keep running, new tasks on it fail placement with AGENT and are retried until offlineWait), "online <board>" to reconnect it, "sync [board]" to reconcile every board of the target (or that one) with the bucket now.`

// console reads "offline <board>", "online <board>" and "sync [board]"
// lines until in ends, acknowledging each (or saying what is wrong with
// it) on out. syncARN is the sync state machine ("" if the app has none).
func console(in io.Reader, c control, syncARN string, out *printer) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if f[0] == "sync" && len(f) <= 2 {
			startSync(c, syncARN, f[1:], out)
			continue
		}
		if len(f) != 2 || (f[0] != "offline" && f[0] != "online") {
			out.printf("? %s\n", safe(consoleHelp))
			continue
		}
		boards := c
		online := f[0] == "online"
		if err := boards.SetConnected(f[1], online); err != nil {
			out.printf("? %s\n", safe(err.Error()))
			continue
		}
		if online {
			out.printf("board %s is online: tasks are placed on it again\n", safe(f[1]))
		} else {
			out.printf("board %s is offline: its running tasks keep running, new tasks on it fail with AGENT\n", safe(f[1]))
		}
	}
}

// startSync starts the sync state machine as make sync does: input {} or
// {"board": <name>}. Its result is printed when it ends.
func startSync(c control, syncARN string, board []string, out *printer) {
	if syncARN == "" {
		out.printf("? the app has no sync state machine\n")
		return
	}
	input := []byte("{}")
	if len(board) == 1 {
		input, _ = json.Marshal(map[string]string{pipeline.SyncInputBoard: board[0]})
	}
	run, err := c.StartExecution(syncARN, "", string(input))
	if err != nil {
		out.printf("? %s\n", safe(err.Error()))
		return
	}
	out.printf("sync started with input %s: execution %s\n", safe(string(input)), run.Name)
}

// fleetView follows Map iterations: which board each iteration is for and
// the outcome it produced (its last state's output, a contract.Outcome).
// The printer's mutex guards it.
type fleetView struct {
	boards   map[string]string                      // exec + iteration → board
	outcomes map[string]map[string]contract.Outcome // exec → board → outcome
}

// iterationBoard remembers the board of a Map iteration from its input
// (the ItemSelector's "names" or "board": a name, or a one-name list from
// a JSONPath filter on the instance's attributes) and returns it, "" if
// the input names none.
func (v *fleetView) iterationBoard(exec string, e asl.Event) string {
	key := exec + " " + e.Iteration
	if e.Kind == asl.EventMapIterationStarted {
		if in, ok := e.Input.(map[string]any); ok {
			b := boardName(in["names"])
			if b == "" {
				b = boardName(in["board"])
			}
			if b != "" {
				if v.boards == nil {
					v.boards = map[string]string{}
				}
				v.boards[key] = b
			}
		}
	}
	return v.boards[key]
}

func boardName(v any) string {
	switch b := v.(type) {
	case string:
		return b
	case []any:
		if len(b) == 1 {
			s, _ := b[0].(string)
			return s
		}
	}
	return ""
}

// note records an outcome an iteration's state produced: an output with a
// board and an outcome word.
func (v *fleetView) note(exec string, e asl.Event) {
	o, ok := asOutcome(e.Output)
	if !ok || e.Iteration == "" || o.Board == "" {
		return
	}
	if v.outcomes == nil {
		v.outcomes = map[string]map[string]contract.Outcome{}
	}
	if v.outcomes[exec] == nil {
		v.outcomes[exec] = map[string]contract.Outcome{}
	}
	v.outcomes[exec][o.Board] = o
}

// asOutcome reads a state's output as an outcome (contract.ParseOutcome:
// an object whose status is one of contract.Outcomes).
func asOutcome(v any) (contract.Outcome, bool) {
	if _, ok := v.(map[string]any); !ok {
		return contract.Outcome{}, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return contract.Outcome{}, false
	}
	o, err := contract.ParseOutcome(b)
	return o, err == nil
}

// take returns and forgets an execution's outcomes, by board name.
func (v *fleetView) take(exec string) []contract.Outcome {
	var out []contract.Outcome
	for _, o := range v.outcomes[exec] {
		out = append(out, o)
	}
	delete(v.outcomes, exec)
	for k := range v.boards {
		if strings.HasPrefix(k, exec+" ") {
			delete(v.boards, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Board < out[j].Board })
	return out
}
