package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/store"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print attnlab's version, its build, its Go version and the run database schema version",
		Args:  args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "attnlab %s\n", version)
			fmt.Fprintf(w, "build   %s (recorded with the runs it trains)\n", runVersion())
			fmt.Fprintf(w, "go      %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(w, "schema  %d (run database)\n", store.SchemaVersion)
			return nil
		},
	}
}
