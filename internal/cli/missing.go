package cli

import (
	"github.com/spf13/cobra"
)

func missingCmd(s *session) *cobra.Command {
	return &cobra.Command{
		Use:   "missing BOARD",
		Short: "Objects under the key pattern that BOARD should hold and has not confirmed",
		Long: `Objects under the key pattern that are BOARD's (its targets) and that it has not confirmed: an
object older than the start of the board's last successful sync is on the board; a newer one is
there when the ledger has its current version delivered, up_to_date or conflict. The rest are
listed with the board's last outcome for them, if any.`,
		Args: exactArgs(1, "one BOARD"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkBoardName(args[0]); err != nil {
				return err
			}
			f, err := s.fleet(cmd.Context())
			if err != nil {
				return err
			}
			miss, err := f.Missing(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if s.json() {
				type object struct {
					Key          string  `json:"key"`
					Version      string  `json:"version"`
					LastModified *string `json:"lastModified"`
					Status       string  `json:"status"`
					Cause        string  `json:"cause"`
				}
				out := []object{}
				for _, m := range miss {
					out = append(out, object{m.Key, m.Version, jsonTime(m.LastModified), m.Status, m.Cause})
				}
				return writeJSON(w, out)
			}
			var rows [][]string
			for _, m := range miss {
				status := m.Status
				if status == "" {
					status = "not recorded"
				}
				rows = append(rows, []string{m.Key, m.Version, stamp(m.LastModified), status, m.Cause})
			}
			return table(w, []string{"KEY", "VERSION", "LAST MODIFIED", "LAST OUTCOME", "CAUSE"}, rows)
		},
	}
}
