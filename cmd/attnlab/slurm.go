package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/shell"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

// slurmOptions are the flags of attnlab slurm.
type slurmOptions struct {
	workers    int
	time       string
	partition  string
	cpus       int
	sbatchArgs []string
	dryRun     bool
	attnlab    string
	sets       []string
	idleExit   time.Duration
	maxRuns    int
	maxMemory  string
	outputDir  string
	sbatchPath string
	// retryFailed queues the experiment's failed runs again (submit's
	// --retry-failed).
	retryFailed bool
}

var slurmTimeRE = regexp.MustCompile(`^([0-9]+-)?[0-9]+(:[0-9]+){0,2}$`)

func newSlurmCmd() *cobra.Command {
	var (
		db *string
		o  slurmOptions
	)
	cmd := &cobra.Command{
		Use:   "slurm EXPERIMENT.yaml --workers N",
		Short: "Queue an experiment's runs and start workers for them as a Slurm job array",
		Long: `Validate an experiment and queue its runs in the run database (as attnlab submit
does), write an sbatch script that starts one attnlab worker per array task
against the same database, and submit it with sbatch --array. The workers
take the runs from the queue; each stops when no run is left. At Slurm's time
limit or on preemption (SIGTERM) a worker checkpoints and hands its run back
to the queue, and the next worker resumes it. Failed runs stay failed unless
--retry-failed; when no run is left to train, no job is submitted.

The database must be one every node reaches: a PostgreSQL URL
(postgres://user@host/db). A SQLite file only works when all tasks run on one
node. The script holds no password: when the URL has one, the workers get the
URL from ATTNLAB_DB in the job's environment (sbatch exports the
submitter's environment by default; an --export, by --sbatch-arg or
$SBATCH_EXPORT, that names neither ALL nor ATTNLAB_DB, or sets ATTNLAB_DB
to another URL, is refused, as is an --sbatch-arg that sets ATTNLAB_DB to
any URL, which would write its password into the script, and --export-file,
which gives the job a file's variables instead). For a URL without a
password, PGPASSWORD or a pgpass file work too; an --sbatch-arg that sets
ATTNLAB_DB=VALUE is refused there as well (the script names --db itself). sbatch takes SBATCH_ variables over the script's
lines: those that would override what the script sets from these flags
(SBATCH_ARRAY_INX, SBATCH_JOB_NAME,
SBATCH_OUTPUT, and SBATCH_PARTITION or SBATCH_TIMELIMIT with --partition or
--time) are not passed to it, with a note; nor are SBATCH_ERROR (the
workers' errors belong in their logs) and SBATCH_WAIT (sbatch would wait
for the whole job to end; --sbatch-arg=--wait is refused for that), nor
those that would override an option an --sbatch-arg gives (SBATCH_ACCOUNT
with --sbatch-arg=--account=lab).

Each --sbatch-arg is an #SBATCH line, read as sbatch reads them, by the
option table of Slurm 22.05 to 26.11: an abbreviation that starts several
options (--wai: --wait and --wait-all-nodes), a short option sbatch does
not have, a missing value or a stray word is refused before anything is
queued. The word after an option that wants a value is that value,
whatever it is (-A -W: account -W). A long option not in that table, nor
the start of one of its names, may be a site's SPANK plugin's
(--container-image=IMG): it is passed to sbatch as is, with a note, and
the word after it is its value unless that starts with '-' (give a value
that does with =); sbatch refuses the script if the site lacks it. An
abbreviation of sbatch's own options is read as one of them even where a
plugin's option starts with it too: spell plugin options out.

--dry-run prints the script and submits nothing. It opens the database read
only, when there is one, to count and tell what is left to train as a
submission would: when nothing is, or when every run left trains on a live
worker (without --sbatch-arg=--dependency or --begin), it says so and
prints no script; with a script, its notes (failed runs that stay failed,
runs handed back as too big) go to stderr. A PostgreSQL server that does
not answer within 5 s is given up with a note, and the script printed all
the same. An experiment
refused for a setting that new experiments may not have is kept, as without
--dry-run, when every run of its plan is stored there already.`,
		Example: "  attnlab slurm exp.yaml --db postgres://lab@db.example/attnlab --workers 8 --time 4:00:00 --partition cpu\n" +
			"  attnlab slurm exp.yaml --workers 8 --dry-run",
		Args: args(1, "EXPERIMENT.yaml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			for _, n := range unknownSbatchNotes(o.sbatchArgs) {
				fmt.Fprintln(cmd.ErrOrStderr(), n)
			}
			x, note, err := loadStoredExperiment(cmd.Context(), args[0], o.sets, &memoryFlag{}, *db, o.dryRun) // the dataset within this machine's memory
			if err != nil {
				return err
			}
			if note != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), note)
			}
			if o.attnlab == "" {
				if o.attnlab, err = os.Executable(); err != nil {
					return fmt.Errorf("cannot tell where this attnlab is (%v): give --attnlab PATH", err)
				}
			}
			target := *db
			// --dry-run opens nothing: a target Open would refuse must not
			// reach the script (its workers would all fail).
			if err := store.CheckTarget(target); err != nil {
				return err
			}
			if len(store.Secrets(target)) > 0 {
				// The script reads the URL from ATTNLAB_DB (it holds no
				// password): a job without it fails in every task.
				env, set := os.LookupEnv("SBATCH_EXPORT")
				if err := checkExport(o.sbatchArgs, env, set, target); err != nil {
					return err
				}
			} else if err := checkExportSetsDB(o.sbatchArgs); err != nil {
				return err
			}
			if store.EngineOf(target) == store.SQLite {
				if abs, err := filepath.Abs(target); err == nil {
					target = abs
				}
				if o.workers > 1 {
					fmt.Fprintf(cmd.ErrOrStderr(), "attnlab slurm: note: %s is a SQLite file: its workers must all run on one node that has it on a local disk; use a PostgreSQL --db for many nodes\n", target)
				}
			}
			script, err := slurmScript(x.Name, target, o)
			if err != nil {
				return err
			}
			if o.dryRun {
				// What a submission would say and do, from what the
				// database holds, without writing to it.
				pre, err := previewSubmission(cmd.Context(), target, x, o.retryFailed)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "attnlab slurm: note: cannot see what is left to train (%v): the script is printed all the same\n", err)
					_, err = io.WriteString(cmd.OutOrStdout(), script)
					return err
				}
				c := countSlurmRuns(pre.runs)
				skip := c.skip(o.sbatchArgs, pre.abandoned)
				// With a script, stdout is the script alone: the notes
				// go to stderr.
				w := cmd.ErrOrStderr()
				if skip != "" {
					w = cmd.OutOrStdout()
				}
				if c.failed > 0 {
					fmt.Fprintln(w, failedStay(c.failed))
				}
				writeTooBig(w, pre.runs)
				switch skip {
				case nothingToTrain:
					fmt.Fprintf(w, "nothing to train: every run of %s is stored in %s already; no Slurm job would be submitted\n", x.Name, store.Redact(target))
					return nil
				case nothingToStart:
					fmt.Fprintf(w, "nothing to start: %s; no Slurm job would be submitted (one with --sbatch-arg=--dependency=afterany:JOB resumes them after that job)\n", allTraining(c.running))
					return nil
				}
				_, err = io.WriteString(cmd.OutOrStdout(), script)
				return err
			}
			// Before the database: without sbatch the runs would be queued
			// for a job that cannot be submitted.
			sbatchPath, err := exec.LookPath(o.sbatchPath)
			if err != nil {
				why := "not found on PATH (run attnlab slurm on a Slurm login node)"
				if strings.ContainsRune(o.sbatchPath, '/') {
					why = "cannot be run (" + err.Error() + ")"
				}
				return fmt.Errorf("cannot submit the job: %s %s; nothing was queued in %s", o.sbatchPath, why, store.Redact(target))
			}
			o.sbatchPath = sbatchPath
			st, err := store.Open(target)
			if err != nil {
				return err
			}
			defer st.Close()
			sub, err := runs.Submit(cmd.Context(), st, x)
			if err != nil {
				return err
			}
			requeued := 0
			if o.retryFailed {
				if requeued, err = retrySubmitted(cmd.Context(), st, x.Name, sub); err != nil {
					return err
				}
			}
			c := countSlurmRuns(sub.Runs)
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "queued %s of %s in %s (%d of them to train)\n", plural(len(sub.Runs), "run"), x.Name, st.Path(), c.queued)
			if requeued > 0 {
				fmt.Fprintf(w, "requeued %s\n", plural(requeued, "failed run"))
			}
			if c.failed > 0 {
				fmt.Fprintln(w, failedStay(c.failed))
			}
			writeTooBig(w, sub.Runs)
			switch c.skip(o.sbatchArgs, c.running > 0 && anyAbandoned(cmd.Context(), st, sub.Runs)) {
			case nothingToTrain:
				// Its workers would start, find nothing and stop.
				fmt.Fprintln(w, "nothing to train: no Slurm job submitted")
				return nil
			case nothingToStart:
				fmt.Fprintf(w, "nothing to start: %s; no Slurm job submitted (one with --sbatch-arg=--dependency=afterany:JOB resumes them after that job)\n", allTraining(c.running))
				return nil
			}
			env, dropped := sbatchEnv(os.Environ(), o, *db)
			for _, d := range dropped {
				fmt.Fprintf(cmd.ErrOrStderr(), "attnlab slurm: note: $%s is not passed to sbatch, where it would %s\n", d.name, d.why)
			}
			job, err := sbatch(cmd.Context(), o, script, *db, x.Name, env, st)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "submitted Slurm job %s: %s (array 0-%d)\n", job, plural(o.workers, "worker"), o.workers-1)
			arg, note := store.CommandDB(target)
			fmt.Fprintf(w, "watch:  attnlab ls runs%s --experiment %s\n", arg, shell.Quote(x.Name))
			if note != "" {
				fmt.Fprintf(w, "        (%s)\n", note)
			}
			fmt.Fprintf(w, "        squeue -j %s\n", job)
			fmt.Fprintf(w, "stop:   scancel %s   (workers hand their runs back to the queue)\n", job)
			return nil
		},
	}
	db = addDBFlag(cmd)
	f := cmd.Flags()
	f.IntVar(&o.workers, "workers", 0, "number of workers: array tasks, one worker each (required)")
	f.StringVar(&o.time, "time", "", "time limit of each task, as sbatch --time takes it (4:00:00, 1-00:00:00); default: the partition's")
	f.StringVar(&o.partition, "partition", "", "Slurm partition (default: the cluster's default)")
	f.IntVar(&o.cpus, "cpus-per-task", 1, "CPUs of each task: its worker trains one run at a time with all of them as intra-op threads (the CPUs it may use, as Slurm binds them)")
	f.StringArrayVar(&o.sbatchArgs, "sbatch-arg", nil, "one more sbatch option, as an #SBATCH line: --sbatch-arg=--mem=4G (repeatable)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the sbatch script; submit nothing")
	f.StringVar(&o.attnlab, "attnlab", "", "path of the attnlab binary on the nodes (default: this one's)")
	f.StringArrayVar(&o.sets, "set", nil, "override a key: --set train.steps=500 (YAML value; repeatable)")
	f.BoolVar(&o.retryFailed, "retry-failed", false, "queue the experiment's failed runs again, each to train from step 0")
	f.DurationVar(&o.idleExit, "idle-exit", 0, "passed to each worker: stop after finding nothing to take for this long")
	f.IntVar(&o.maxRuns, "max-runs", 0, "passed to each worker: stop after taking this many runs")
	f.StringVar(&o.maxMemory, "max-memory", "", "passed to each worker: its memory budget, such as 6GiB, within the task's --mem (default: the worker's own: 80% of the node's memory, or of the job's cgroup limit when Slurm sets one)")
	f.StringVar(&o.outputDir, "output-dir", "", "directory of the tasks' log files (default: the submission directory)")
	f.StringVar(&o.sbatchPath, "sbatch", "sbatch", "the sbatch command")
	_ = f.MarkHidden("sbatch")
	return cmd
}

// slurmCounts counts the runs of a submission (runs.Submit's, after
// --retry-failed) as attnlab slurm tells them.
type slurmCounts struct {
	queued  int // left to train: queued, interrupted or running
	failed  int // failed, and staying so
	running int // of queued, those running
}

func countSlurmRuns(rs []store.Run) slurmCounts {
	var c slurmCounts
	for _, r := range rs {
		switch r.Status {
		case store.StatusFailed:
			c.failed++
		case store.StatusDone:
		case store.StatusRunning:
			c.running++
			c.queued++
		default:
			c.queued++
		}
	}
	return c
}

// Why attnlab slurm submits no job (slurmCounts.skip).
const (
	nothingToTrain = "nothing to train"
	nothingToStart = "nothing to start"
)

// skip says why a submission of these runs, with the --sbatch-arg lines
// args, submits no job ("" when it submits one): nothing is left to
// train, or every run left trains on a live worker (none abandoned), so
// that the job's workers would only wait for them — unless the job starts
// later (laterJob), when they may have been handed back.
func (c slurmCounts) skip(args []string, abandoned bool) string {
	switch {
	case c.queued == 0:
		return nothingToTrain
	case c.queued == c.running && !laterJob(args) && !abandoned:
		return nothingToStart
	}
	return ""
}

// dryRunConnectWait is how long a dry run waits for a PostgreSQL server
// to answer: it prints its script without the database, with a note, so
// it need not wait the 30 s that commands which need it do.
var dryRunConnectWait = 5 * time.Second

// preview is what a submission would find: the runs of the plan as
// runs.Submit (and --retry-failed) would leave them, and whether a
// running one seems to have lost its worker (anyAbandoned).
type preview struct {
	runs      []store.Run
	abandoned bool
}

// previewSubmission reads, read only, what a submission of x to target
// would find (preview): the stored runs of x's plan with their status
// (failed ones queued again with retryFailed), and the plan's other runs
// as queued. With no attnlab database at target every run is queued.
func previewSubmission(ctx context.Context, target string, x *experiments.Experiment, retryFailed bool) (preview, error) {
	plan, err := x.Plan()
	if err != nil {
		return preview{}, err
	}
	var stored []store.Run
	st, err := store.OpenReadOnlyWithin(target, dryRunConnectWait)
	switch {
	case errors.Is(err, store.ErrNoDatabase):
	case err != nil:
		return preview{}, err
	default:
		defer st.Close()
		if stored, err = st.Runs(ctx, store.RunFilter{Experiments: []string{x.Name}}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return preview{}, err
		}
	}
	byHash := make(map[string]store.Run, len(stored))
	for _, r := range stored {
		byHash[r.Hash] = r
	}
	var p preview
	for _, pr := range plan {
		r, ok := byHash[pr.Hash]
		switch {
		case !ok:
			r = store.Run{Hash: pr.Hash, Status: store.StatusQueued}
		case r.Status == store.StatusFailed && retryFailed:
			r.Status, r.Error = store.StatusQueued, ""
		}
		p.runs = append(p.runs, r)
	}
	if st != nil {
		p.abandoned = anyAbandoned(ctx, st, p.runs)
	}
	return p, nil
}

// outputDirRefused are the characters the #SBATCH --output line cannot
// carry: sbatch splits the line into words at blanks, reads quotes and
// backslashes, ends it at #, and takes % as a pattern.
const outputDirRefused = " \t\n\r\v\f%#'\"\\"

func (o *slurmOptions) check() error {
	switch {
	case o.workers < 1:
		return usagef("--workers %d: want 1 or more array tasks", o.workers)
	case o.workers > 100000:
		return usagef("--workers %d: at most 100000", o.workers)
	case o.cpus < 1:
		return usagef("--cpus-per-task %d: want 1 or more", o.cpus)
	case o.time != "" && !slurmTimeRE.MatchString(o.time):
		return usagef("--time %q: want minutes, H:MM:SS or D-HH:MM:SS as sbatch takes it", o.time)
	case o.idleExit < 0:
		return usagef("--idle-exit %s: want 0 or more", o.idleExit)
	case o.maxRuns < 0:
		return usagef("--max-runs %d: want 0 or more", o.maxRuns)
	case strings.ContainsAny(o.partition, " \t\n\r\v\f#'\"\\$`"):
		// A line break would end the #SBATCH line and start a shell one.
		return usagef("--partition %q: not a partition name", o.partition)
	case strings.ContainsAny(o.outputDir, outputDirRefused):
		return usagef("--output-dir %q: sbatch cannot take blanks, %%, #, quotes or backslashes in it", o.outputDir)
	}
	// Not a case of the switch above: a valid --max-memory would end it
	// before the checks after it.
	if o.maxMemory != "" {
		if _, _, err := (&memoryFlag{value: o.maxMemory}).limit(); err != nil {
			return err
		}
	}
	if o.outputDir != "" {
		// The script names it by its absolute path: the submission
		// directory's name counts too.
		if abs, err := filepath.Abs(o.outputDir); err == nil && strings.ContainsAny(abs, outputDirRefused) {
			return usagef("--output-dir %q: its path %q has a blank, %%, #, a quote or a backslash, which sbatch cannot take", o.outputDir, abs)
		}
		if fi, err := os.Stat(o.outputDir); err != nil || !fi.IsDir() {
			return usagef("--output-dir %q: no such directory (sbatch does not create it, and the tasks' logs would be lost)", o.outputDir)
		}
	}
	for _, a := range o.sbatchArgs {
		if !strings.HasPrefix(a, "-") || strings.ContainsAny(a, "\n\r") {
			return usagef("--sbatch-arg %q: want one sbatch option such as --mem=4G", a)
		}
	}
	// sbatch reads every word of the #SBATCH lines as an option or its
	// value ("--mem=4G --array=0-9" is two options), and refuses the
	// script on one it cannot read, only once the runs are queued: each
	// is checked here.
	settings, err := parseSbatchArgs(o.sbatchArgs)
	for _, s := range settings {
		a := o.sbatchArgs[s.arg]
		switch s.name {
		case "wrap":
			return usagef("--sbatch-arg %q: --wrap is a command-line option of sbatch, ignored in the script's #SBATCH lines; give options for the job", a)
		case "wait":
			return usagef("--sbatch-arg %q: --wait would make sbatch, and attnlab slurm, wait until every worker has ended; watch the job with squeue instead", a)
		}
		if ours, own := ownSbatchOptions[s.name]; own {
			return usagef("--sbatch-arg %q: the script sets --%s itself from %s; use that instead", a, s.name, ours)
		}
	}
	return err
}

// ownSbatchOptions are the sbatch options (by long name) that the script
// writes itself, and from which of slurm's flags: a second line would
// silently override it.
var ownSbatchOptions = map[string]string{
	"array":         "--workers",
	"output":        "--output-dir",
	"cpus-per-task": "--cpus-per-task",
	"time":          "--time",
	"partition":     "--partition",
	"job-name":      "the experiment's name",
}

var scriptTemplate = template.Must(template.New("sbatch").Parse(`#!/bin/bash
# attnlab workers for experiment {{.Experiment}}, written by attnlab slurm.
# Each array task runs one worker; workers take runs from the queue in the
# database until none is left. SIGTERM (time limit, preemption, scancel)
# makes a worker checkpoint and hand its run back to the queue.
#SBATCH --job-name=attnlab-{{.Experiment}}
#SBATCH --array=0-{{.Last}}
#SBATCH --cpus-per-task={{.CPUs}}
{{- if .Time}}
#SBATCH --time={{.Time}}
{{- end}}
{{- if .Partition}}
#SBATCH --partition={{.Partition}}
{{- end}}
#SBATCH --output={{.Output}}
{{- range .Extra}}
#SBATCH {{.}}
{{- end}}

# database: {{.Shown}}
{{- if .FromEnv}}
# (its URL has a password: the workers read it from ATTNLAB_DB, which
# attnlab slurm exported to sbatch, or the password from PGPASSWORD or a
# pgpass file)
if [ -z "${ATTNLAB_DB:-}" ]; then
  echo "attnlab worker: ATTNLAB_DB is not set in the job's environment" >&2
  exit 2
fi
{{- end}}
exec {{.Attnlab}} worker{{if not .FromEnv}} --db {{.DB}}{{end}} --experiment {{.Experiment}}{{.WorkerFlags}}
`))

// slurmScript writes the sbatch script.
func slurmScript(experiment, db string, o slurmOptions) (string, error) {
	fromEnv := len(store.Secrets(db)) > 0
	out := "%x-%A_%a.out"
	if o.outputDir != "" {
		abs, err := filepath.Abs(o.outputDir)
		if err != nil {
			return "", err
		}
		out = filepath.Join(abs, out)
	}
	var wf strings.Builder
	if o.idleExit > 0 {
		fmt.Fprintf(&wf, " --idle-exit %s", o.idleExit)
	}
	if o.maxRuns > 0 {
		fmt.Fprintf(&wf, " --max-runs %d", o.maxRuns)
	}
	if o.maxMemory != "" {
		fmt.Fprintf(&wf, " --max-memory %s", shell.Quote(o.maxMemory)) // checked by check
	}
	var b bytes.Buffer
	err := scriptTemplate.Execute(&b, map[string]any{
		"Experiment":  experiment,
		"Last":        o.workers - 1,
		"CPUs":        o.cpus,
		"Time":        o.time,
		"Partition":   o.partition,
		"Output":      out,
		"Extra":       o.sbatchArgs,
		"Shown":       store.Redact(db),
		"FromEnv":     fromEnv,
		"DB":          shell.Quote(db),
		"Attnlab":     shell.Quote(o.attnlab),
		"WorkerFlags": wf.String(),
	})
	return b.String(), err
}

var jobIDRE = regexp.MustCompile(`^([0-9]+)(;\S+)?\s*$`)

// droppedEnv is a variable of the submitter's environment that sbatchEnv
// leaves out, and what it would do to the job (why: "override the
// script's --array line (--workers)").
type droppedEnv struct{ name, why string }

// sbatchEnv is the environment sbatch runs in: environ with ATTNLAB_DB set
// to db (the workers read the URL from it when it holds a password), and
// without the SBATCH_ variables that override an option the script sets
// (sbatch takes its environment over the script's #SBATCH lines): the
// array the workers are, the job name, the log files, and the partition
// and time limit when --partition and --time give them. A site's default
// partition in SBATCH_PARTITION still applies without --partition. Left
// out too: SBATCH_ERROR, which would send the workers' errors away from
// their log files (--sbatch-arg=--error does it in the open), and
// SBATCH_WAIT, which would make sbatch wait for the whole job to end, and
// the variables of sbatchEnvOptions whose option an --sbatch-arg gives.
func sbatchEnv(environ []string, o slurmOptions, db string) ([]string, []droppedEnv) {
	override := func(name, option, from string) droppedEnv {
		return droppedEnv{name, fmt.Sprintf("override the script's %s line (%s)", option, from)}
	}
	over := map[string]droppedEnv{
		"SBATCH_ARRAY_INX": override("SBATCH_ARRAY_INX", "--array", "--workers"),
		"SBATCH_JOB_NAME":  override("SBATCH_JOB_NAME", "--job-name", "the experiment's name"),
		"SBATCH_OUTPUT":    override("SBATCH_OUTPUT", "--output", "--output-dir"),
		"SBATCH_ERROR":     {"SBATCH_ERROR", "send the workers' errors to other files than their --output logs (--sbatch-arg=--error=FILE does, if that is meant)"},
		"SBATCH_WAIT":      {"SBATCH_WAIT", "make sbatch, and attnlab slurm, wait until every worker has ended"},
	}
	given := givenSbatchOptions(o.sbatchArgs)
	for _, e := range sbatchEnvOptions {
		if given[e.long] {
			over[e.env] = override(e.env, e.long, "--sbatch-arg")
		}
	}
	if o.partition != "" {
		over["SBATCH_PARTITION"] = override("SBATCH_PARTITION", "--partition", "--partition")
	}
	if o.time != "" {
		over["SBATCH_TIMELIMIT"] = override("SBATCH_TIMELIMIT", "--time", "--time")
	}
	var env []string
	var dropped []droppedEnv
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if d, ok := over[name]; ok {
			dropped = append(dropped, d)
			continue
		}
		if name != "ATTNLAB_DB" {
			env = append(env, kv)
		}
	}
	return append(env, "ATTNLAB_DB="+db), dropped
}

// sbatchEnvOptions are the SBATCH_ input variables (env_vars[] in sbatch's
// opt.c) that set an option an --sbatch-arg may write too, by its long
// name and short letter (0: none): sbatch would take the variable over
// the --sbatch-arg line.
var sbatchEnvOptions = []struct {
	env, long string
	short     byte
}{
	{"SBATCH_ACCOUNT", "--account", 'A'}, {"SBATCH_ACCTG_FREQ", "--acctg-freq", 0}, {"SBATCH_BATCH", "--batch", 0},
	{"SBATCH_BURST_BUFFER", "--bb", 0}, {"SBATCH_CLUSTER_CONSTRAINT", "--cluster-constraint", 0},
	{"SBATCH_CLUSTERS", "--clusters", 'M'}, {"SLURM_CLUSTERS", "--clusters", 'M'},
	{"SBATCH_CLUSTERS", "--cluster", 0}, {"SLURM_CLUSTERS", "--cluster", 0}, // another option of sbatch's, for the same
	{"SBATCH_CONSOLIDATE_SEGMENTS", "--consolidate-segments", 0}, {"SBATCH_RUNTIME", "--runtime", 0},
	{"SBATCH_SEGMENT_SIZE", "--segment", 0}, {"SBATCH_SPREAD_SEGMENTS", "--spread-segments", 0},
	{"SBATCH_CONTAINER", "--container", 0}, {"SBATCH_CONTAINER_ID", "--container-id", 0},
	{"SBATCH_CONSTRAINT", "--constraint", 'C'}, {"SBATCH_CORE_SPEC", "--core-spec", 'S'},
	{"SBATCH_CPU_FREQ_REQ", "--cpu-freq", 0}, {"SBATCH_CPUS_PER_GPU", "--cpus-per-gpu", 0},
	{"SBATCH_DELAY_BOOT", "--delay-boot", 0}, {"SBATCH_DISTRIBUTION", "--distribution", 'm'},
	{"SBATCH_EXCLUSIVE", "--exclusive", 0}, {"SBATCH_GET_USER_ENV", "--get-user-env", 0},
	{"SBATCH_GRES", "--gres", 0}, {"SBATCH_GRES_FLAGS", "--gres-flags", 0}, {"SBATCH_GPUS", "--gpus", 'G'},
	{"SBATCH_GPU_BIND", "--gpu-bind", 0}, {"SBATCH_GPU_FREQ", "--gpu-freq", 0},
	{"SBATCH_GPUS_PER_NODE", "--gpus-per-node", 0}, {"SBATCH_GPUS_PER_SOCKET", "--gpus-per-socket", 0},
	{"SBATCH_GPUS_PER_TASK", "--gpus-per-task", 0}, {"SBATCH_HINT", "--hint", 0}, {"SLURM_HINT", "--hint", 0},
	{"SBATCH_MEM_BIND", "--mem-bind", 0}, {"SBATCH_MEM_PER_CPU", "--mem-per-cpu", 0},
	{"SBATCH_MEM_PER_GPU", "--mem-per-gpu", 0}, {"SBATCH_MEM_PER_NODE", "--mem", 0},
	{"SBATCH_NETWORK", "--network", 0}, {"SBATCH_NO_KILL", "--no-kill", 'k'}, {"SBATCH_NO_REQUEUE", "--no-requeue", 0},
	{"SBATCH_OPEN_MODE", "--open-mode", 0}, {"SBATCH_OVERCOMMIT", "--overcommit", 'O'},
	{"SBATCH_PROFILE", "--profile", 0}, {"SBATCH_QOS", "--qos", 'q'}, {"SBATCH_REQ_SWITCH", "--switches", 0},
	{"SBATCH_REQUEUE", "--requeue", 0}, {"SBATCH_RESERVATION", "--reservation", 0}, {"SBATCH_SIGNAL", "--signal", 0},
	{"SBATCH_SPREAD_JOB", "--spread-job", 0}, {"SBATCH_THREAD_SPEC", "--thread-spec", 0},
	{"SBATCH_THREADS_PER_CORE", "--threads-per-core", 0}, {"SBATCH_TRES_BIND", "--tres-bind", 0},
	{"SBATCH_TRES_PER_TASK", "--tres-per-task", 0}, {"SBATCH_USE_MIN_NODES", "--use-min-nodes", 0},
	{"SBATCH_WAIT_ALL_NODES", "--wait-all-nodes", 0}, {"SBATCH_WCKEY", "--wckey", 0}, {"SBATCH_INPUT", "--input", 'i'},
}

// givenSbatchOptions are the long names ("--account") of the options of
// sbatchEnvOptions that args (--sbatch-arg's, checked) give, however
// sbatch reads them (parseSbatchArgs): spelt whole (--account=lab, --qos
// long), abbreviated (--acco=lab), or by their letter, alone or in a
// cluster (-A lab, -Oqlong).
func givenSbatchOptions(args []string) map[string]bool {
	given := map[string]bool{}
	settings, _ := parseSbatchArgs(args)
	for _, s := range settings {
		if long := sbatchEnvLong("--" + s.name); long != "" {
			given[long] = true
		}
	}
	return given
}

// sbatchEnvLong is the long name of the option of sbatchEnvOptions that
// the word name is, as sbatch's getopt_long reads it (lookupSbatchLong):
// the name whole (--mem, though --mem-bind starts with it too), or a start
// of that one option's name alone (--acco). A start of several (--acc:
// --account and --acctg-freq; --q: --qos and --quiet) is none: sbatch
// refuses it as ambiguous.
func sbatchEnvLong(name string) string {
	long, ok := strings.CutPrefix(name, "--")
	if !ok || long == "" {
		return ""
	}
	spec, _ := lookupSbatchLong(long)
	if spec == nil {
		return ""
	}
	for _, e := range sbatchEnvOptions {
		if e.long == "--"+spec.canonical() {
			return e.long
		}
	}
	return ""
}

// sbatch submits script and returns the job id. The full database target
// goes to the job in ATTNLAB_DB; nothing it prints is shown unmasked. Its
// error names the worker command that takes the queued runs of experiment
// as a worker elsewhere needs it (SharedWorkerCommand): the database
// whole, not a path relative to here nor this shell's $ATTNLAB_DB.
func sbatch(ctx context.Context, o slurmOptions, script, db, experiment string, env []string, st *store.Store) (string, error) {
	cmd := exec.CommandContext(ctx, o.sbatchPath, "--parsable")
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		worker, note := store.SharedWorkerCommand(db, experiment)
		if note != "" {
			note = "; " + note
		}
		return "", fmt.Errorf("sbatch failed: %s (the runs stay queued: %s takes them%s)", st.Redact(firstLine(msg)), worker, note)
	}
	m := jobIDRE.FindStringSubmatch(stdout.String())
	if m == nil {
		return "", fmt.Errorf("sbatch printed %q, not a job id", st.Redact(firstLine(stdout.String())))
	}
	return m[1], nil
}

// checkExport fails when the job's environment would lack ATTNLAB_DB (or
// hold another URL in it): an sbatch --export that names neither ALL nor
// ATTNLAB_DB (NONE, NIL, or a list of other variables) or that sets
// ATTNLAB_DB to something else than db, given by --sbatch-arg or by
// $SBATCH_EXPORT, which overrides the script's #SBATCH lines (env is its
// value, set whether it is in the environment: sbatch takes an empty one
// as an empty list); and any --export-file, whose variables sbatch gives
// the job instead of its own environment.
func checkExport(sbatchArgs []string, env string, set bool, db string) error {
	const lacks = "the job would not get ATTNLAB_DB, the database URL with its password, and every worker would stop"
	source, value := "", ""
	settings, _ := parseSbatchArgs(sbatchArgs)
	for _, s := range settings {
		a := sbatchArgs[s.arg]
		switch s.name {
		case "export-file":
			return usagef("--sbatch-arg %q: sbatch gives the job the variables of that file and none of its own environment, so %s; give variables with --export=ALL,NAME=value instead", a, lacks)
		case "export":
			if writesDB(s.value) {
				// Refused even when it names --db's own URL, and even when
				// a later --export overrides it: the line is written into
				// the script, password and all.
				return usagef("--sbatch-arg %q: ATTNLAB_DB=VALUE would write the database URL, password included, into the script; name ATTNLAB_DB without a value (--export=ATTNLAB_DB,...) or use ALL: the job gets it from the environment, where attnlab slurm sets it to --db", a)
			}
			source, value = fmt.Sprintf("--sbatch-arg %q", a), s.value
		}
	}
	if set {
		source, value = fmt.Sprintf("SBATCH_EXPORT=%q in the environment", env), env
	}
	if source == "" {
		return nil // sbatch's default: ALL
	}
	items, ok := exportItems(value)
	if !ok {
		return usagef("%s: a quote in its --export list is not closed, and sbatch would take the rest of the list for one variable's name; %s", source, lacks)
	}
	keeps := false
	for _, item := range items {
		if v, ok := strings.CutPrefix(item, "ATTNLAB_DB="); ok && v != db {
			return usagef("%s: it sets ATTNLAB_DB, which the workers read the database URL from, to another value than --db; give the URL by --db only", source)
		}
		if strings.EqualFold(item, "ALL") || item == "ATTNLAB_DB" || strings.HasPrefix(item, "ATTNLAB_DB=") {
			keeps = true
		}
	}
	if keeps {
		return nil
	}
	return usagef("%s: %s; add ATTNLAB_DB to it (--export=ATTNLAB_DB,...) or ALL", source, lacks)
}

// checkExportSetsDB refuses an --sbatch-arg --export that sets
// ATTNLAB_DB=VALUE when --db has no password (checkExport covers the other
// case): the script names --db itself, so the value would only be written
// into the script (a URL's password with it) and mislead whoever reads it.
func checkExportSetsDB(sbatchArgs []string) error {
	settings, _ := parseSbatchArgs(sbatchArgs)
	for _, s := range settings {
		if s.name == "export" && writesDB(s.value) {
			return usagef("--sbatch-arg %q: ATTNLAB_DB=VALUE would be written into the script, and the workers use --db, which the script names; leave ATTNLAB_DB out of --export", sbatchArgs[s.arg])
		}
	}
	return nil
}

// writesDB tells whether an sbatch --export list sets ATTNLAB_DB to a
// value (ATTNLAB_DB=VALUE), in an item or in the rest of a list whose
// quote is left open.
func writesDB(list string) bool {
	items, ok := exportItems(list)
	if !ok {
		return strings.Contains(list, "ATTNLAB_DB=")
	}
	for _, item := range items {
		if strings.HasPrefix(item, "ATTNLAB_DB=") {
			return true
		}
	}
	return false
}

// exportItems splits an sbatch --export list as sbatch does
// (find_quote_token in its env.c): at commas outside quotes, with no blank
// trimmed, and with the quotes around an item that starts and ends with
// the same one dropped ("'A,B'" is one item, A,B). It is not ok when a
// quote is left open: sbatch then takes the rest for one item, quotes and
// commas included.
func exportItems(list string) (items []string, ok bool) {
	for list != "" {
		single, double := false, false
		i := 0
		for ; i < len(list); i++ {
			c := list[i]
			if c == '\'' {
				single = !single
			} else if c == '"' {
				double = !double
			} else if c == ',' && !single && !double {
				break
			}
		}
		if single || double {
			return items, false
		}
		item := list[:i]
		if len(item) >= 2 && (item[0] == '\'' || item[0] == '"') && item[len(item)-1] == item[0] {
			item = item[1 : len(item)-1]
		}
		items = append(items, item)
		if i == len(list) {
			break
		}
		list = list[i+1:]
	}
	return items, true
}

// sbatchWords splits an #SBATCH line's options into words as sbatch does
// (get_argument in its opt.c): at blanks, except within quotes ('...',
// "...") or after a backslash, which are dropped, up to an unquoted # (the
// rest is a comment). A backslash before a blank other than a space drops
// the backslash and the blank still ends the word, outside quotes; a word
// of nothing (a #, an empty pair of quotes, a backslash and a tab) ends
// the line. A line sbatch refuses (splitSbatchLine's error) gives the
// words before the fault.
func sbatchWords(line string) []string {
	words, _ := splitSbatchLine(line)
	return words
}

// splitSbatchLine is sbatchWords that also fails where sbatch's
// get_argument stops with a fatal error, refusing the whole script: on a
// quote left open at the end of the line, and on a word that starts with
// a colon (the separator of a heterogeneous job's components).
func splitSbatchLine(line string) ([]string, error) {
	var words []string
	for i := 0; ; {
		for i < len(line) && isCSpace(line[i]) {
			i++
		}
		if i < len(line) && line[i] == ':' {
			return words, fmt.Errorf("a word starts with ':', which sbatch refuses in an #SBATCH line")
		}
		var w strings.Builder
		quote, escaped := byte(0), false
	word:
		for ; i < len(line) && (quote != 0 || !isCSpace(line[i])); i++ {
			c := line[i]
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				if i+1 < len(line) && line[i+1] == ' ' {
					i++
					break
				}
				escaped = true
				continue
			case quote != 0:
				if c == quote {
					quote = 0
					continue
				}
			case c == '"' || c == '\'':
				quote = c
				continue
			case c == '#':
				break word
			}
			w.WriteByte(line[i])
		}
		if quote != 0 {
			return words, fmt.Errorf("its %c is not closed, and sbatch refuses an #SBATCH line with an unmatched quote", quote)
		}
		if w.Len() == 0 {
			return words, nil
		}
		words = append(words, w.String())
	}
}

// isCSpace is C's isspace in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// laterJob says whether sbatch options make the job start later than
// now: --dependency or --begin (-d, -b), however sbatch reads them
// (parseSbatchArgs).
func laterJob(args []string) bool {
	settings, _ := parseSbatchArgs(args)
	for _, s := range settings {
		if s.name == "dependency" || s.name == "begin" {
			return true
		}
	}
	return false
}
