package main

import (
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/report"
)

// exportFormats are the formats export writes.
var exportFormats = []string{"csv", "json"}

func newExportCmd() *cobra.Command {
	var (
		db     *string
		format string
		out    outputFlags
	)
	cmd := &cobra.Command{
		Use:   "export EXPERIMENT",
		Short: "Export every run of an experiment with its params and summaries (CSV or JSON)",
		Long: `Export the runs of an experiment, one record per run with its id, hash, seed,
status, params and summary metrics, as CSV or JSON, to stdout or to a file
(-o: written through a temporary file, so an interrupted export leaves no
partial file; an existing file is replaced only with --force, and never the
run database or anything that is not a regular file).`,
		Example: "  attnlab export quickstart --format csv -o quickstart.csv\n  attnlab export quickstart --format json | jq '.[0]'",
		Args:    args(1, "EXPERIMENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(exportFormats, format) {
				return usagef("--format %q: unknown format (known: csv, json)", format)
			}
			dst := out.target(cmd, *db)
			if err := dst.Check(); err != nil {
				return err
			}
			st, err := openStore(*db)
			if err != nil {
				return err
			}
			defer st.Close()
			return dst.Write(func(w io.Writer) error { return report.Export(cmd.Context(), st, args[0], format, w) })
		},
	}
	db = addDBFlag(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "csv", "csv or json")
	out.add(cmd, "-", "write to this file")
	return cmd
}
