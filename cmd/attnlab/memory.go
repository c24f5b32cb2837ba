package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tasks"
)

// defaultMemoryShare is the share of physical memory (or of the cgroup's
// memory limit, when lower: Slurm's --mem, a container's limit) that one
// run may be estimated to need without --max-memory.
const defaultMemoryShare = 0.8

// memoryFlag is --max-memory of plan and run.
type memoryFlag struct{ value string }

func (m *memoryFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&m.value, "max-memory", "", "refuse a run whose estimated training memory is above this size, such as 8GiB, and train at once only as many runs as fit in it (default: 80% of physical memory, or of the cgroup memory limit when lower)")
}

// registerDecoding adds --max-memory to a command that decodes with a
// stored model (generate, eval).
func (m *memoryFlag) registerDecoding(cmd *cobra.Command) {
	cmd.Flags().StringVar(&m.value, "max-memory", "", "refuse an input whose decoding is estimated above this size, such as 8GiB, and decode fewer inputs at once where many would be (default: 80% of physical memory, or of the cgroup memory limit when lower)")
}

// limit returns the limit in bytes and how to name it in an error.
func (m *memoryFlag) limit() (int64, string, error) {
	if m.value != "" {
		n, err := experiments.ParseBytes(m.value)
		if err != nil {
			return 0, "", usagef("--max-memory: %v", err)
		}
		if n < 1<<10 {
			// 0 is not "no limit", and "1.5" is not 1.5 GiB.
			return 0, "", usagef("--max-memory %s: %s is below 1 KiB; give a size such as 8GiB", m.value, experiments.FormatBytes(n))
		}
		return n, "--max-memory " + experiments.FormatBytes(n), nil
	}
	var total float64
	of := "this machine's memory"
	total = physicalMemory()
	if cg, ok := cgroupMemoryLimit(); ok && (total == 0 || float64(cg) < total) {
		total, of = float64(cg), "this process's cgroup memory limit, "+experiments.FormatBytes(cg)
	}
	if total == 0 {
		return 0, "", nil // unknown: no limit
	}
	n := int64(total * defaultMemoryShare)
	return n, fmt.Sprintf("--max-memory %s (%.0f%% of %s)", experiments.FormatBytes(n), defaultMemoryShare*100, of), nil
}

// loadExperiment loads the experiment file path with the --set overrides,
// building each file task's dataset (to check its data) only within the
// memory mem allows; the limit is also the process's soft memory limit
// from then on (see softLimit).
func loadExperiment(ctx context.Context, path string, sets []string, mem *memoryFlag) (*experiments.Experiment, error) {
	return loadExperimentWith(ctx, path, sets, mem, false)
}

func loadExperimentWith(ctx context.Context, path string, sets []string, mem *memoryFlag, noLint bool) (*experiments.Experiment, error) {
	limit, what, err := mem.limit()
	if err != nil {
		return nil, err
	}
	mem.softLimit()
	return experiments.LoadWith(path, sets, experiments.LoadOptions{Memory: tasks.MemoryLimit{Bytes: limit, Name: what}, NoLint: noLint, Context: ctx})
}

// loadStoredExperiment is loadExperiment for a command that records or
// trains the plan in the run database db (run, submit, slurm): an
// experiment refused only for settings that new experiments may not have
// (experiments.OnlyLint: a check added after its runs were stored) loads
// when every run of its plan is in db already — rerunning the command
// that stored them resumes them, as its interrupt message says, and a
// worker would. The note then says so; it is "" otherwise. An empty db
// opens nothing: the lints refuse. readOnly opens db without writing to it
// (a dry run): a database of an older schema, which opening would migrate,
// then counts as one without the runs.
func loadStoredExperiment(ctx context.Context, path string, sets []string, mem *memoryFlag, db string, readOnly bool) (*experiments.Experiment, string, error) {
	x, err := loadExperiment(ctx, path, sets, mem)
	if err == nil || db == "" || !experiments.OnlyLint(err) {
		return x, "", err
	}
	y, yerr := loadExperimentWith(ctx, path, sets, mem, true)
	if yerr != nil {
		return nil, "", yerr // a problem the lints hid
	}
	plan, yerr := y.Plan()
	if yerr != nil || len(plan) == 0 {
		return nil, "", err
	}
	open := openStore
	if readOnly {
		open = func(db string) (*store.Store, error) { return store.OpenReadOnlyWithin(db, dryRunConnectWait) }
	}
	st, yerr := open(db) // no database: nothing is stored
	if yerr != nil {
		return nil, "", err
	}
	defer st.Close()
	stored, yerr := st.Runs(ctx, store.RunFilter{Experiments: []string{y.Name}})
	if yerr != nil {
		return nil, "", err
	}
	have := make(map[string]bool, len(stored))
	for _, r := range stored {
		have[r.Hash] = true
	}
	for _, r := range plan {
		if !have[r.Hash] {
			return nil, "", err
		}
	}
	var es experiments.Errors
	errors.As(err, &es)
	more := ""
	if len(es) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(es)-1)
	}
	return y, fmt.Sprintf("attnlab: note: %s: every run is stored already, so settings new experiments may not have are kept for them: %s%s", path, es[0].Error(), more), nil
}

// workers returns how many runs estimated at est fit at once in the limit
// (0: no limit), so that a sweep trained by several workers in one process
// stays within --max-memory as a whole, not only run by run.
func (m *memoryFlag) workers(est experiments.MemoryEstimate) (int, error) {
	limit, _, err := m.limit()
	if room := addressCap(); room > 0 && (limit <= 0 || room < limit) {
		limit = room // boundAddressSpace
	}
	if err != nil || limit <= 0 || est.Bytes <= 0 {
		return 0, err
	}
	return int(max(1, min(limit/est.Bytes, int64(maxWorkers)))), nil
}

// softLimit makes the limit the Go runtime's soft memory limit
// (debug.SetMemoryLimit), so that the collector works harder as the heap
// nears it instead of letting garbage double the process's memory.
func (m *memoryFlag) softLimit() {
	if limit, _, err := m.limit(); err == nil && limit > 0 {
		if addressLimit != "" && addressRoom >= minSoftLimit {
			limit = min(limit, addressRoom) // boundAddressSpace
		}
		debug.SetMemoryLimit(limit)
	}
}

// why says why workers caps the workers, for a note.
func (m *memoryFlag) why(est experiments.MemoryEstimate) string {
	limit, what, _ := m.limit()
	if room := addressCap(); room > 0 && (limit <= 0 || room < limit) {
		what = addressLimit + ", which leaves room for about " + experiments.FormatBytes(room) + " of live memory,"
		if addressRoom <= 0 {
			what = addressLimit + ", which leaves little or no room beyond what a Go program reserves when it starts,"
		}
	}
	return "each run is estimated at up to " + experiments.FormatBytes(est.Bytes) + ", and " + what + " bounds this process"
}

// check refuses a plan one of whose runs is estimated to need more memory
// than the limit: one line naming the experiment file, the run, the
// estimate and the limit (exit 2). It returns the largest estimate.
func (m *memoryFlag) check(ctx context.Context, file string, plan []experiments.Run) (experiments.MemoryEstimate, error) {
	limit, what, err := m.limit()
	if err != nil {
		return experiments.MemoryEstimate{}, err
	}
	var largest experiments.MemoryEstimate
	var over []int
	for i, r := range plan {
		if err := ctx.Err(); err != nil {
			return largest, err // Ctrl-C during a big plan's estimates
		}
		e := experiments.EstimateMemory(r.Config)
		if e.Bytes > largest.Bytes {
			largest = e
		}
		if limit > 0 && e.Bytes > limit {
			over = append(over, i)
		}
	}
	if len(over) == 0 {
		return largest, nil
	}
	r := plan[over[0]]
	which := fmt.Sprintf("run %d", r.Index+1)
	if r.Label != "" {
		which += " (" + r.Label + ")"
	}
	more := ""
	if len(over) > 1 {
		more = " (and " + plural(len(over)-1, "more run") + ")"
	}
	e := experiments.EstimateMemory(r.Config)
	key, hint := "model", "use smaller sizes or batch_size"
	if 2*e.Data > e.Bytes {
		key, hint = "task", "its dataset is most of it: use smaller train_size, valid_size or test_size, or shorter sequences"
	}
	return largest, experiments.Errors{{File: file, Key: key, Msg: fmt.Sprintf("%s: estimated training memory %s exceeds %s%s: %s, or raise --max-memory",
		which, e, what, more, hint)}}
}
