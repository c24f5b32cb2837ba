package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/internal/shell"
	"github.com/attnlab/attnlab/store"
)

func newSyncCmd() *cobra.Command {
	var (
		from, to   string
		exps       []string
		unfinished bool
		quiet      bool
	)
	cmd := &cobra.Command{
		Use:   "sync --from DB --to DB",
		Short: "Copy experiments and runs from one run database to another",
		Long: `Copy experiments and their runs — params, metric histories, summaries and
artifacts (checkpoints, final weights, samples, attention maps) — from one run
database to another, either a SQLite file or a postgres:// URL, so that results
made on a laptop join the lab's server or the other way round.

Runs are matched by identity (experiment name and run hash), not by id, so
syncing again copies only what is new: a run the target lacks is copied; a run
it has is replaced only when the source's got further (done beats failed
beats interrupted beats queued) and the target is not running it (a run done
in both is kept as the target has it; the report counts those whose results
differ, the same run trained twice). Only
finished runs (done, failed) are copied: runs still running in the source
are not (sync them once they end), and neither are its queued and
interrupted runs unless --unfinished is given — in the target they would
join the queue, and any attnlab worker of the target would train them while
the source may still be training them. Give --unfinished to hand them over
(once the source has stopped training them): the target's workers then
train them, resuming interrupted runs from their checkpoints. The source is
only read. Each run is copied in one transaction, so an interrupted sync
leaves whole runs, and running it again finishes the job. Each run is read
from the source as one snapshot (a run changed or removed meanwhile is
copied as it was, or not at all), its metric history and artifacts into
temporary files in $TMPDIR (about 21 bytes a logged value, plus the
artifacts' bytes; nameless while in use, gone when sync ends, and in RAM if
$TMPDIR is a tmpfs), so that sync's memory does not grow with a run's
history or its number of checkpoints; it holds one artifact at a time, but
several copies of it (240 to 370 MB for checkpoints of 64 MB, by engines). A source that fails, or a PostgreSQL source
that stops answering (for 2 minutes, plus a second a megabyte of the
artifact being read), fails the sync, naming the source, with nothing of
that run written.`,
		Example: "  attnlab sync --from laptop.db --to postgres://lab@db.example/attnlab\n" +
			"  attnlab sync --from postgres://lab@db.example/attnlab --to mine.db --experiment attention-on-scan",
		Args: func(cmd *cobra.Command, got []string) error {
			// attnlab sync A B, as cp or rsync take them: say the flags.
			if len(got) == 2 && from == "" && to == "" {
				return usagef("the databases are flags: attnlab sync --from %s --to %s", shell.Quote(got[0]), shell.Quote(got[1]))
			}
			return args(0)(cmd, got)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" || to == "" {
				return usagef("give both --from DB and --to DB")
			}
			src, err := openStoreFlag(from, "--from")
			if err != nil {
				return err
			}
			defer src.Close()
			ctx := cmd.Context()
			// Before the target is created: a wrong -e leaves no empty
			// database behind.
			if err := checkExperiments(ctx, src, exps...); err != nil {
				return err
			}
			dst, err := store.Open(to)
			if err != nil {
				return err
			}
			defer dst.Close()
			noteBusy(cmd.ErrOrStderr(), dst)
			if sameStore(src, dst) {
				return usagef("--from and --to name the same database (%s)", src.Path())
			}
			rep, err := src.Copy(ctx, dst, store.CopyOptions{Experiments: exps, Unfinished: unfinished})
			if err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(cmd.OutOrStdout(), "synced %s → %s: %s (%d new); runs: %d copied, %d updated, %d already there",
					src.Path(), dst.Path(), plural(rep.Experiments, "experiment"), rep.NewExperiments,
					rep.Runs[store.CopyNew], rep.Runs[store.CopyUpdated], rep.Runs[store.CopySame]+rep.Runs[store.CopyDiffers])
				if n := rep.Runs[store.CopyDiffers]; n > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), " (%d of them done in both with other results: the target's kept; the same run trained twice, perhaps on another CPU)", n)
				}
				if n := rep.Runs[store.CopyRunning]; n > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), ", %d still running in the source (not copied)", n)
				}
				if n := rep.Runs[store.CopyUnfinished]; n > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), ", %d queued or interrupted in the source (not copied: the target's workers would train them again; --unfinished hands them over)", n)
				}
				if n := rep.Runs[store.CopyGone]; n > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), ", %d removed from the source meanwhile (not copied)", n)
				}
				if n := rep.Runs[store.CopyTargetOn]; n > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), ", %d running in the target (left alone)", n)
				}
				fmt.Fprintln(cmd.OutOrStdout())
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "the run database to copy from: a SQLite file or a postgres:// URL")
	f.StringVar(&to, "to", "", "the run database to copy into (created if needed)")
	f.StringArrayVarP(&exps, "experiment", "e", nil, "copy only this experiment (repeatable)")
	f.BoolVar(&unfinished, "unfinished", false, "also copy queued and interrupted runs, for the target's workers to train")
	f.BoolVarP(&quiet, "quiet", "q", false, "print nothing")
	return cmd
}

// sameStore reports whether a and b are one database: the same PostgreSQL
// address, or one SQLite file by any name ("./y.db" and "y.db", a link).
func sameStore(a, b *store.Store) bool {
	if a.Engine() != b.Engine() {
		return false
	}
	if a.Path() == b.Path() {
		return true
	}
	if a.Engine() != store.SQLite {
		return false
	}
	fa, errA := os.Stat(a.Path())
	fb, errB := os.Stat(b.Path())
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}
