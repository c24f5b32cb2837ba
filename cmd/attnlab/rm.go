package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/printable"
	"github.com/attnlab/attnlab/store"
)

func newRmCmd() *cobra.Command {
	var (
		db  *string
		dry bool
	)
	cmd := &cobra.Command{
		Use:   "rm EXPERIMENT|RUN...",
		Short: "Remove experiments or runs from the run database, with everything they hold",
		Long: `Remove experiments (all their runs) or single runs from the run database, with
their params, metric histories, summaries and artifacts. An argument that names
an experiment removes it (NAME/ says it is the experiment); any other is a run
(a name as ls runs shows it, quickstart/additive/seed=1, an id, a hash
prefix, or EXPERIMENT/HASH). An argument that names both an experiment and a run, such as an
experiment called 3 beside run 3, is refused. Running runs are refused:
stop them first (Ctrl-C or kill the attnlab that trains them). A run whose
worker is gone — killed, or silent for a minute — is not running any more
and is removed; rm says so beside it ("abandoned: its worker h:12 is gone"),
or on a line of its own under its experiment's, with its last heartbeat (left alone, the next attnlab run or worker resumes
it from its last checkpoint). Everything is removed in one transaction per
kind, so an error leaves the database as it was.

--dry-run lists what would be removed and touches nothing; where rm would
refuse (a running run), it refuses the same way. attnlab gc gives the
space back to the file system.`,
		Example: "  attnlab rm quickstart --dry-run\n  attnlab rm quickstart/none/seed=3 17",
		Args:    args(1, "EXPERIMENT|RUN..."),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(*db)
			if err != nil {
				return err
			}
			defer st.Close()
			noteBusy(cmd.ErrOrStderr(), st)
			ctx := cmd.Context()
			all, err := st.Experiments(ctx)
			if err != nil {
				return err
			}
			var exps []store.Experiment
			var runs []store.Run
			for _, a := range args {
				// "NAME/" names the experiment only; a bare name that is
				// also a run's id, hash prefix or name is refused, since
				// show and generate would take it for the run.
				name, onlyExperiment := strings.CutSuffix(a, "/")
				if i := slices.IndexFunc(all, func(x store.Experiment) bool { return x.Name == name }); i >= 0 {
					if !onlyExperiment {
						if r, err := st.ResolveRun(ctx, a); err == nil {
							return usagef("%q names experiment %s and run %d (%s): give %s/ to remove the experiment, or the run's name %s",
								a, name, r.ID, r.Name(), name, r.Name())
						}
					}
					if !slices.ContainsFunc(exps, func(x store.Experiment) bool { return x.Name == name }) {
						exps = append(exps, all[i])
					}
					continue
				}
				if onlyExperiment {
					return usagef("no experiment %q in %s (attnlab ls lists them)", name, st.Path())
				}
				r, err := st.ResolveRun(ctx, a)
				if errors.Is(err, store.ErrNotFound) {
					return usagef("%q is neither an experiment nor a run in %s (attnlab ls and attnlab ls runs list them)", a, st.Path())
				}
				if err != nil {
					return err
				}
				if !slices.ContainsFunc(runs, func(x store.Run) bool { return x.ID == r.ID }) {
					runs = append(runs, r)
				}
			}
			// A run of an experiment that goes too is counted with it.
			runs = slices.DeleteFunc(runs, func(r store.Run) bool {
				return slices.ContainsFunc(exps, func(x store.Experiment) bool { return x.ID == r.ExperimentID })
			})
			names := make([]string, len(exps))
			for i, x := range exps {
				names[i] = x.Name
			}
			ids := make([]int64, len(runs))
			for i, r := range runs {
				ids[i] = r.ID
			}
			// A running run that is removed is one whose worker is gone:
			// say so, or it reads as a live run removed.
			abandoned, err := st.Abandoned(ctx, runs)
			if err != nil {
				return err
			}
			// So with those of an experiment removed: named below it.
			var inExps []store.Run
			if len(names) > 0 {
				running, err := st.Runs(ctx, store.RunFilter{Experiments: names, Status: store.StatusRunning})
				if err != nil {
					return err
				}
				gone, err := st.Abandoned(ctx, running)
				if err != nil {
					return err
				}
				for _, r := range running {
					if _, ok := gone[r.ID]; ok {
						inExps = append(inExps, r)
					}
				}
				abandoned = mergeWhy(abandoned, gone)
			}
			// Check both removals first, so that a refusal leaves everything.
			var total store.Removal
			for _, pass := range []bool{true, false} {
				if !pass && dry {
					break
				}
				total = store.Removal{}
				if len(names) > 0 {
					r, err := st.RemoveExperiments(ctx, names, pass)
					if err != nil {
						return howToStop(err)
					}
					total.Add(r)
				}
				if len(ids) > 0 {
					r, err := st.RemoveRuns(ctx, ids, pass)
					if err != nil {
						return howToStop(err)
					}
					total.Add(r)
				}
			}
			w := cmd.OutOrStdout()
			verb := "removed"
			if dry {
				verb = "would remove"
			}
			for _, x := range exps {
				n := 0
				for _, c := range x.Counts {
					n += c
				}
				fmt.Fprintf(w, "%s experiment %s (%s)\n", verb, x.Name, plural(n, "run"))
				for _, r := range inExps {
					if r.Experiment == x.Name {
						fmt.Fprintf(w, "  with run %s (id %d, %s)\n", printable.Line(r.Name()), r.ID, runStatus(r, abandoned, dry))
					}
				}
			}
			for _, r := range runs {
				fmt.Fprintf(w, "%s run %s (id %d, %s)\n", verb, printable.Line(r.Name()), r.ID, runStatus(r, abandoned, dry))
			}
			fmt.Fprintf(w, "in all: %s\n", describeRemoval(total))
			return nil
		},
	}
	db = addDBFlag(cmd)
	cmd.Flags().BoolVarP(&dry, "dry-run", "n", false, "list what would be removed; remove nothing")
	return cmd
}

// runStatus is a removed run's status, and if it is running with its
// worker gone (abandoned: store.Abandoned), why, with its last heartbeat,
// and when dry that left alone it would be resumed.
func runStatus(r store.Run, abandoned map[int64]string, dry bool) string {
	status := string(r.Status)
	if why, ok := abandoned[r.ID]; ok {
		status += ", abandoned: " + why + ", last heartbeat " + formatTime(r.Heartbeat)
		if dry {
			status += "; left alone, the next attnlab run or worker resumes it"
		}
	}
	return status
}

// mergeWhy returns a and b in one map (either may be nil).
func mergeWhy(a, b map[int64]string) map[int64]string {
	out := make(map[int64]string, len(a)+len(b))
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}

// howToStop adds to a refusal to remove a running run (store.ErrRunning)
// how to stop it, and when it can be removed without.
func howToStop(err error) error {
	if !errors.Is(err, store.ErrRunning) {
		return err
	}
	return fmt.Errorf("%w (Ctrl-C or kill the attnlab that trains it; a run whose worker is gone, or silent for a minute, can be removed)", err)
}

// describeRemoval says what a removal counts: "1 experiment, 18 runs,
// 1,234 metric rows, 54 artifacts (4.20 MiB)".
func describeRemoval(r store.Removal) string {
	var parts []string
	if r.Experiments > 0 {
		parts = append(parts, plural(r.Experiments, "experiment"))
	}
	parts = append(parts, plural(r.Runs, "run"), plural(r.Metrics, "metric row"), plural(r.Artifacts, "artifact")+" ("+experiments.FormatBytes(r.ArtifactBytes)+")")
	return strings.Join(parts, ", ")
}
