package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
		output string
	)
	cmd := &cobra.Command{
		Use:   "export EXPERIMENT",
		Short: "Export every run of an experiment with its params and summaries (CSV or JSON)",
		Long: `Export the runs of an experiment, one record per run with its id, hash, seed,
status, params and summary metrics, as CSV or JSON, to stdout or to a file
(-o, written atomically: an interrupted export leaves no partial file).`,
		Example: "  attnlab export quickstart --format csv -o quickstart.csv\n  attnlab export quickstart --format json | jq '.[0]'",
		Args:    args(1, "EXPERIMENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(exportFormats, format) {
				return usagef("--format %q: unknown format (known: csv, json)", format)
			}
			st, err := openStore(*db)
			if err != nil {
				return err
			}
			defer st.Close()
			write := func(w io.Writer) error { return report.Export(cmd.Context(), st, args[0], format, w) }
			if output == "" || output == "-" {
				bw := bufio.NewWriter(cmd.OutOrStdout())
				if err := write(bw); err != nil {
					return err
				}
				return bw.Flush()
			}
			return writeFileAtomic(output, write)
		},
	}
	db = addDBFlag(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "csv", "csv or json")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

// writeFileAtomic writes path through a temporary file in the same
// directory that replaces path only when write succeeded.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing left to remove
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
