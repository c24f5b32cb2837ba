package main

import (
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/report"
)

// exportFormats are the formats export writes.
var exportFormats = []string{"csv", "json"}

func newExportCmd() *cobra.Command {
	var (
		db      *string
		format  string
		out     outputFlags
		curves  bool
		metrics []string
	)
	cmd := &cobra.Command{
		Use:   "export EXPERIMENT",
		Short: "Export an experiment's runs, or their metric curves, as CSV or JSON",
		Long: `Export the runs of an experiment, one record per run with its id, hash, seed,
status, group, params, summary metrics and error (JSON also names the
experiment, and gives error only when there is one), as CSV or JSON, to stdout or
to a file (-o: written through a temporary file, so an interrupted export leaves no
partial file; an existing file is replaced only with --force, and never a
SQLite database such as the run database, or anything that is not a regular
file). group names the run's
setting as compare's rows do: runs of one group differ only in their seed, so
grouping by it never pools different settings. A list-valued param
(eval.length_buckets) is its JSON text, a string in JSON, as the run database
holds it.

--curves writes the metric histories instead, in a tidy long format that pandas
reads directly: one record per run, metric and step (run, experiment, seed,
status, group, the params that tell the settings apart, key, step, value).
--metric restricts the metrics (a name after '/' will do: loss). In CSV a value
that does not exist (NaN) is an empty field.

An export holds no read on the database while it writes, so a slow reader of
its output never holds back the database. A run removed (attnlab rm) or started
again by a worker (after run --retry-failed or an interruption) before the
export has read all of it fails the export instead, naming the run; -o then
leaves the path as it was (no file, or the old file --force would have
replaced). Not detected: sync replacing a run by a copy of the same attempt,
or a run removed and synced back, while it is exported.`,
		Example: `  attnlab export quickstart -o quickstart.csv
  attnlab export quickstart --format json | jq '.[0]'
  attnlab export quickstart --curves --metric valid/loss -o curves.csv
      # pandas: pd.read_csv("curves.csv").groupby(["group", "step"]).value.mean()`,
		Args: args(1, "EXPERIMENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			// -o's extension names the format when --format is not
			// given; one that names the other format is a mistake (CSV
			// written into x.json).
			format = strings.ToLower(format)
			ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(out.path), "."))
			switch {
			case format != "" && !slices.Contains(exportFormats, format):
				return usagef("--format %q: unknown format (known: csv, json)", format)
			case format == "" && slices.Contains(exportFormats, ext):
				format = ext
			case format == "":
				format = "csv"
			case slices.Contains(exportFormats, ext) && ext != format:
				return usagef("-o %s is a .%s file, but --format is %s: drop --format, or name the file .%s", out.path, ext, format, format)
			}
			if len(metrics) > 0 && !curves {
				return usagef("--metric selects curves: add --curves")
			}
			if out.force && out.path == "-" {
				return usagef("--force replaces the -o file: add -o FILE")
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
			if err := checkExperiments(cmd.Context(), st, args[0]); err != nil {
				return err
			}
			err = dst.Write(func(w io.Writer) error {
				if curves {
					return report.ExportCurves(cmd.Context(), st, args[0], metrics, format, w)
				}
				return report.Export(cmd.Context(), st, args[0], format, w)
			})
			if err != nil {
				return err
			}
			return wrote(cmd, dst) // as plot does
		},
	}
	db = addDBFlag(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "", "csv or json (default: -o's extension, .csv or .json, else csv)")
	out.add(cmd, "-", "write to this file")
	cmd.Flags().BoolVar(&curves, "curves", false, "export the metric histories (run, step, key, value, ...) instead of one record per run")
	cmd.Flags().StringArrayVar(&metrics, "metric", nil, "with --curves: only this metric (repeatable)")
	return cmd
}
