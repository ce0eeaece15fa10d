package cli

import (
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/edge-drop/edge-drop/internal/fault"
	"github.com/edge-drop/edge-drop/internal/statuspage"
)

func uiCmd(s *session) *cobra.Command {
	var addr string
	c := &cobra.Command{
		Use:   "ui [--addr 127.0.0.1:8080]",
		Short: "Serve the live status page (boards, recent objects x boards, updated as outcomes arrive) on 127.0.0.1",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return fault.Usagef("--addr %q: want host:port, e.g. 127.0.0.1:8080", addr)
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return fault.Usagef("--addr %s: the page serves on loopback only (127.0.0.1): it shows your fleet without a login", addr)
			}
			f, err := s.fleetWith(cmd.Context(), false) // without a ledger the boards are still live
			if err != nil {
				return err
			}
			srv, err := statuspage.Start(cmd.Context(), addr, statuspage.Options{Fleet: f, Poll: s.poll(), Name: s.dep.Name})
			if err != nil {
				return fault.Setupf("%v", err)
			}
			defer srv.Close()
			if s.json() {
				if err := writeJSON(cmd.OutOrStdout(), map[string]string{"statusPage": srv.URL()}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "status page: %s (Ctrl-C stops)\n", srv.URL())
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "where to serve (loopback only; port 0 picks a free one)")
	return c
}
