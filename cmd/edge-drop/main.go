// Command edge-drop answers where an edge-drop pipeline's files are, per
// board and per version, and starts redeliveries and syncs:
//
//	edge-drop status KEY          one row per target board
//	edge-drop boards              the fleet: connected, last sync, missing
//	edge-drop missing BOARD       what a board has not confirmed
//	edge-drop redeliver KEY [--board B] [--wait]
//	edge-drop sync [--board B] [--wait]
//	edge-drop watch               outcomes as they are recorded
//	edge-drop ui                  the live page on 127.0.0.1
//
// It finds the deployment through the pipeline stack's outputs, or with
// --local through the running demo's endpoints file. `edge-drop help`
// lists the flags and the exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/edge-drop/edge-drop/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.Env{Dir: "."}, os.Args[1:])
	stop()
	os.Exit(code)
}
