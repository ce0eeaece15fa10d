package cli

import (
	"github.com/spf13/cobra"
)

func statusCmd(s *session) *cobra.Command {
	return &cobra.Command{
		Use:   "status KEY",
		Short: "Where is KEY: one row per target board (status, version, when, cause); boards without it are pending, with the reason",
		Long: `Where is KEY: one row per board that should have the object (its configured targets) or has an
outcome for it: the outcome of the object's current version in words (delivered, up_to_date,
conflict, failed, offline, gone, deleted, kept), the version (version id, else ETag), when, and the
cause. A target board without an outcome of the current version is pending, with the reason:
offline (its agent is disconnected) and/or waiting for the next sync. One DynamoDB query per object.`,
		Args: exactArgs(1, "one KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkKey(args[0]); err != nil {
				return err
			}
			f, err := s.fleet(cmd.Context())
			if err != nil {
				return err
			}
			st, err := f.Status(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if s.json() {
				type cell struct {
					Board   string  `json:"board"`
					Status  string  `json:"status"`
					Version string  `json:"version"`
					Time    *string `json:"time"`
					Cause   string  `json:"cause"`
				}
				out := struct {
					Key    string `json:"key"`
					Boards []cell `json:"boards"`
				}{Key: st.Key, Boards: []cell{}}
				for _, c := range st.Boards {
					out.Boards = append(out.Boards, cell{c.Board, c.Status, c.Version, jsonTime(c.Time), c.Cause})
				}
				return writeJSON(w, out)
			}
			var rows [][]string
			for _, c := range st.Boards {
				rows = append(rows, []string{c.Board, c.Status, c.Version, stamp(c.Time), c.Cause})
			}
			return table(w, []string{"BOARD", "STATUS", "VERSION", "WHEN", "CAUSE"}, rows)
		},
	}
}
