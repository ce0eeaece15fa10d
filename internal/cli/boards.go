package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func boardsCmd(s *session) *cobra.Command {
	return &cobra.Command{
		Use:   "boards",
		Short: "The boards: name, groups, agent connected, running tasks, last sync, objects missing",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := s.fleetWith(cmd.Context(), false) // without a ledger: ECS's view, syncs and missing unknown
			if err != nil {
				return err
			}
			boards, err := f.Summaries(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if f.Ledger == nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "edge-drop: %s keeps no ledger: last syncs and missing objects are unknown\n", s.dep.Name)
			}
			if s.json() {
				type board struct {
					Board        string   `json:"board"`
					Groups       []string `json:"groups"`
					Connected    bool     `json:"agentConnected"`
					RunningTasks int      `json:"runningTasks"`
					LastSync     *string  `json:"lastSync"`
					SyncStatus   string   `json:"lastSyncStatus"`
					LastSyncOK   *string  `json:"lastSuccessfulSync"`
					Missing      *int     `json:"missing"` // null: no ledger to tell
				}
				out := []board{}
				for _, b := range boards {
					nb := board{Board: b.Name, Groups: b.Groups, Connected: b.Connected, RunningTasks: b.RunningTasks, SyncStatus: b.SyncStatus}
					if b.Missing >= 0 {
						nb.Missing = &b.Missing
					}
					if b.LastSync != nil {
						nb.LastSync = jsonTime(*b.LastSync)
					}
					if b.LastSyncOK != nil {
						nb.LastSyncOK = jsonTime(*b.LastSyncOK)
					}
					out = append(out, nb)
				}
				return writeJSON(w, out)
			}
			var rows [][]string
			for _, b := range boards {
				last := ""
				if b.LastSync != nil {
					last = stamp(*b.LastSync) + " " + b.SyncStatus
				}
				missing := "unknown"
				if b.Missing >= 0 {
					missing = strconv.Itoa(b.Missing)
				}
				rows = append(rows, []string{b.Name, strings.Join(b.Groups, ","), yesNo(b.Connected), strconv.Itoa(b.RunningTasks), last, missing})
			}
			return table(w, []string{"BOARD", "GROUPS", "CONNECTED", "TASKS", "LAST SYNC", "MISSING"}, rows)
		},
	}
}
