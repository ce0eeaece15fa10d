package cli

import (
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
			f, err := s.fleet(cmd.Context())
			if err != nil {
				return err
			}
			boards, err := f.Summaries(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if s.json() {
				type board struct {
					Board        string   `json:"board"`
					Groups       []string `json:"groups"`
					Connected    bool     `json:"agentConnected"`
					RunningTasks int      `json:"runningTasks"`
					LastSync     *string  `json:"lastSync"`
					SyncStatus   string   `json:"lastSyncStatus"`
					LastSyncOK   *string  `json:"lastSuccessfulSync"`
					Missing      int      `json:"missing"`
				}
				out := []board{}
				for _, b := range boards {
					nb := board{Board: b.Name, Groups: b.Groups, Connected: b.Connected, RunningTasks: b.RunningTasks, SyncStatus: b.SyncStatus, Missing: b.Missing}
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
				rows = append(rows, []string{b.Name, strings.Join(b.Groups, ","), yesNo(b.Connected), strconv.Itoa(b.RunningTasks), last, strconv.Itoa(b.Missing)})
			}
			return table(w, []string{"BOARD", "GROUPS", "CONNECTED", "TASKS", "LAST SYNC", "MISSING"}, rows)
		},
	}
}
