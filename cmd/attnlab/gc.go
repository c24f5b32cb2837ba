package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/store"
)

func newGcCmd() *cobra.Command {
	var (
		db  *string
		dry bool
	)
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Drop the checkpoints of finished runs and give the space back",
		Long: `Remove the training checkpoints of the runs that are done (a done run keeps its
model, samples and attention maps, all that show, generate and plot need), then
compact the database (SQLite: VACUUM and a WAL checkpoint; PostgreSQL: VACUUM).
Checkpoints of runs that may still resume — queued, running, failed,
interrupted — stay, and so do those of runs trained with train.keep_checkpoints.
Nothing else is touched.

--dry-run says what would be removed and touches nothing.`,
		Example: "  attnlab gc --dry-run\n  attnlab gc --db lab.db",
		Args:    args(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(*db)
			if err != nil {
				return err
			}
			defer st.Close()
			noteBusy(cmd.ErrOrStderr(), st)
			ctx := cmd.Context()
			w := cmd.OutOrStdout()
			r, err := st.RemoveCheckpoints(ctx, artifact.KindCheckpoint, dry)
			if err != nil {
				return err
			}
			if dry {
				fmt.Fprintf(w, "would remove %s of done runs (%s) and compact %s\n", plural(r.Artifacts, "checkpoint"), experiments.FormatBytes(r.ArtifactBytes), st.Path())
				return nil
			}
			fmt.Fprintf(w, "removed %s of done runs (%s)\n", plural(r.Artifacts, "checkpoint"), experiments.FormatBytes(r.ArtifactBytes))
			before := fileSize(*db)
			if err := st.Compact(ctx); err != nil {
				return err
			}
			if store.EngineOf(*db) == store.SQLite {
				fmt.Fprintf(w, "compacted %s: %s → %s\n", st.Path(), experiments.FormatBytes(before), experiments.FormatBytes(fileSize(*db)))
			} else {
				fmt.Fprintf(w, "compacted %s\n", st.Path())
			}
			return nil
		},
	}
	db = addDBFlag(cmd)
	cmd.Flags().BoolVarP(&dry, "dry-run", "n", false, "say what would be removed; remove nothing")
	return cmd
}

// fileSize is the size on disk of a SQLite database and its write-ahead
// log; 0 for what is not a file.
func fileSize(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}
