// Package cli is the edge-drop command: where is my file, what is a board
// missing, redeliver, sync, watch, and the live page. Commands and flags
// are cobra's (subcommands with their own flags, flags after arguments as
// in `edge-drop status KEY -o json`, suggestions for a mistyped command);
// what they print is rendered here, the answers come from
// internal/fleetstatus.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edge-drop/edge-drop/internal/fault"
)

// Exit codes (documented in `edge-drop help` and docs/cli.md).
const (
	ExitOK          = 0
	ExitFailed      = 1 // the command worked, the news is bad: a sync or redelivery that did not succeed
	ExitUsage       = 2 // bad flags or arguments
	ExitSetup       = 3 // no credentials, no region, no demo running, a stack output missing
	ExitNotFound    = 4 // stack, table, cluster, bucket, board or key not found
	ExitService     = 5 // AWS or the demo refused or failed: access denied, throttling, network
	ExitInterrupted = 130
)

const exitCodesHelp = `Exit codes:
  0  success
  1  the command worked and reports a failure (sync or redeliver --wait did not succeed)
  2  usage: a bad flag, argument or name
  3  setup: no AWS credentials or region, no demo running (--local), a stack output missing
  4  not found: the stack, ledger table, cluster, bucket, a board or a key
  5  service: AWS or the demo refused or failed (access denied, throttling, network)
  130 interrupted (Ctrl-C)`

// Env is what a run of the CLI talks to.
type Env struct {
	Stdout, Stderr io.Writer
	// Dir is where cdk.json is looked for (the default stack's prefix).
	Dir string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Poll is how often --wait and watch ask (0: 2 s for AWS, 250 ms
	// for the demo).
	Poll time.Duration
}

func (e Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// options are the global flags.
type options struct {
	stack, profile, region, local, output string
}

// Run runs the CLI with args (without the program name) and returns the
// exit code. Errors are one line on Stderr: "edge-drop: <what and the fix>".
func Run(ctx context.Context, env Env, args []string) int {
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Stderr == nil {
		env.Stderr = os.Stderr
	}
	root := newRoot(env)
	root.SetArgs(localArg(args, root))
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return ExitInterrupted
	}
	fmt.Fprintln(env.Stderr, "edge-drop: "+safe(oneLine(err.Error())))
	switch fault.KindOf(err) {
	case fault.Failed:
		return ExitFailed
	case fault.Usage:
		return ExitUsage
	case fault.Setup:
		return ExitSetup
	case fault.NotFound:
		return ExitNotFound
	}
	if isUsage(err) {
		return ExitUsage
	}
	return ExitService
}

// isUsage recognizes cobra's and pflag's own errors (they are plain).
func isUsage(err error) bool {
	msg := err.Error()
	for _, s := range []string{"unknown command", "unknown flag", "unknown shorthand", "flag needs an argument", "invalid argument", "accepts ", "requires ", "arg(s)"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// oneLine keeps a message to its first line, with cobra's "Did you mean
// this?" suggestions folded into it.
func oneLine(s string) string {
	first, rest, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if _, sugg, ok := strings.Cut(rest, "Did you mean this?"); ok {
		if f := strings.Fields(sugg); len(f) > 0 {
			first += ": did you mean " + strings.Join(f, " or ") + "?"
		}
	}
	return first
}

// localArg lets --local take its state dir as the next argument too
// (--local .demo2 status KEY), not only as --local=DIR: the next argument
// is the dir when it is an existing directory and not a command.
func localArg(args []string, root *cobra.Command) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "--local" && i+1 < len(args) {
			next := args[i+1]
			if cmd, _, err := root.Find([]string{next}); (err != nil || cmd == root) && !strings.HasPrefix(next, "-") {
				if fi, err := os.Stat(next); err == nil && fi.IsDir() {
					out = append(out, "--local="+next)
					i++
					continue
				}
			}
		}
		out = append(out, a)
	}
	return out
}

func newRoot(env Env) *cobra.Command {
	o := &options{}
	root := &cobra.Command{
		Use:   "edge-drop",
		Short: "Where is my file: the delivery ledger, the boards and the pipeline of an edge-drop deployment",
		Long: `edge-drop answers, per board and per version, where the files of an edge-drop pipeline are,
from its delivery ledger (DynamoDB), its ECS Anywhere cluster and its bucket, found through the
pipeline stack's outputs; --local talks to the running demo (make demo) instead.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if o.output != "table" && o.output != "json" {
				return fault.Usagef("-o %q: want table or json", o.output)
			}
			if o.local != "" && (cmd.Flags().Changed("stack") || cmd.Flags().Changed("profile") || cmd.Flags().Changed("region")) {
				return fault.Usagef("--local talks to the demo: drop --stack, --profile and --region (or drop --local)")
			}
			return nil
		},
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fault.Usagef("%v (edge-drop %s --help)", err, c.Name())
	})
	f := root.PersistentFlags()
	f.StringVar(&o.stack, "stack", "", "the pipeline stack (default <stackPrefix>-Pipeline, the prefix from cdk.json, else EdgeDrop)")
	f.StringVar(&o.profile, "profile", "", "AWS profile (default: AWS_PROFILE, else the default profile)")
	f.StringVar(&o.region, "region", "", "AWS region (default: AWS_REGION, else the profile's)")
	f.StringVar(&o.local, "local", "", "talk to the running demo whose state dir is `DIR` instead of AWS (--local alone: .demo)")
	f.Lookup("local").NoOptDefVal = ".demo"
	f.StringVarP(&o.output, "output", "o", "table", "output format: table or json")
	root.SetHelpTemplate(root.HelpTemplate() + "\n" + exitCodesHelp + "\n")

	s := &session{env: env, opts: o}
	root.AddCommand(statusCmd(s), boardsCmd(s), missingCmd(s), redeliverCmd(s), syncCmd(s), watchCmd(s), uiCmd(s))
	root.CompletionOptions.HiddenDefaultCmd = true
	return root
}

// exactArgs is cobra.ExactArgs with the command's usage in the message.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fault.Usagef("%s takes %s (got %d arguments): edge-drop %s", cmd.Name(), what, len(args), cmd.Use)
		}
		return nil
	}
}
