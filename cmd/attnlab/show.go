package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	yaml "go.yaml.in/yaml/v3"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

func newShowCmd() *cobra.Command {
	var (
		db      *string
		samples int
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "show RUN",
		Short: "Show one run: status, timing, summaries, decoded test samples and config",
		Long: `Show everything about one run: its experiment, hash, seed and sweep point,
status, attempts, timing and error, its summary metrics (sorted), a few decoded
test samples next to their references (✓ marks the exact matches), its stored
artifacts and its resolved configuration. RUN is a run's name
(EXPERIMENT/POINT/seed=N, as attnlab run prints them), its id, a prefix of
at least 4 characters of its hash, or EXPERIMENT/HASH, a hash prefix within
the experiment (what tells apart runs that two versions of an experiment give
one name; attnlab ls runs lists ids and hashes). Digits are a run id when a
run has that id, else a hash prefix: "4331", a hash prefix today, names run
4331 once the database has that many runs, so scripts should use the name or
EXPERIMENT/HASH.
eval, generate and plot attention read RUN the same way.`,
		Example: "  attnlab show quickstart/additive/seed=1\n  attnlab show 3\n  attnlab show 1a2b3c4d --samples 20",
		Args:    args(1, "RUN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if samples < -1 {
				return usagef("--samples %d: want a count, 0 for none or -1 for all", samples)
			}
			ctx := cmd.Context()
			st, r, err := openRun(ctx, *db, args[0])
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := loadRunView(ctx, st, r)
			if err != nil {
				return err
			}
			for _, p := range v.unreadable {
				fmt.Fprintf(cmd.ErrOrStderr(), "attnlab: note: run %d: %s\n", r.ID, p)
			}
			if asJSON {
				n := samples
				if !cmd.Flags().Changed("samples") {
					n = -1 // JSON is for programs: every sample unless asked
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(v.json(n))
			}
			return v.write(cmd.OutOrStdout(), samples)
		},
	}
	db = addDBFlag(cmd)
	cmd.Flags().IntVarP(&samples, "samples", "n", 5, "decoded test samples to show (0: none, -1: all stored; with --json all unless given)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the run, its config, summaries (a run not done: latest, its metrics so far, up to last_step) and samples as JSON (samples_stored: how many samples the run stored, null when they are unreadable)")
	return cmd
}

// runView is what show prints about a run.
type runView struct {
	run       store.Run
	summaries map[string]float64
	samples   []artifact.Sample
	// samplesLost: a samples artifact is stored but does not decode (how
	// many it holds is unknown).
	samplesLost bool
	// latest is, for a run not done, each metric's value at the last step
	// it was logged, and lastStep the last step any was (0: none logged).
	latest    map[string]float64
	lastStep  int
	scores    []artifact.Score // test scores with their sacreBLEU signatures
	artifacts []store.ArtifactInfo
	// unreadable says which stored artifacts could not be decoded: show
	// prints everything else, and a note.
	unreadable []string
}

func loadRunView(ctx context.Context, st *store.Store, r store.Run) (*runView, error) {
	v := &runView{run: r}
	sums, err := st.Summaries(ctx, []int64{r.ID})
	if err != nil {
		return nil, err
	}
	v.summaries = sums[r.ID]
	if r.Status != store.StatusDone {
		latest, err := st.LatestMetrics(ctx, []int64{r.ID})
		if err != nil {
			return nil, err
		}
		steps, err := st.LastSteps(ctx, []int64{r.ID})
		if err != nil {
			return nil, err
		}
		v.latest, v.lastStep = latest[r.ID], steps[r.ID]
	}
	data, err := st.Artifact(ctx, r.ID, artifact.KindSamples, artifact.NameSamples)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &v.samples); err != nil {
			v.samples, v.samplesLost = nil, true
			v.unreadable = append(v.unreadable, fmt.Sprintf("the stored samples (%s/%s) are unreadable: %v", artifact.KindSamples, artifact.NameSamples, err))
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	data, err = st.Artifact(ctx, r.ID, artifact.KindScores, artifact.NameScores)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &v.scores); err != nil {
			v.scores = nil
			v.unreadable = append(v.unreadable, fmt.Sprintf("the stored scores (%s/%s) are unreadable: %v", artifact.KindScores, artifact.NameScores, err))
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	if v.artifacts, err = st.Artifacts(ctx, r.ID); err != nil {
		return nil, err
	}
	return v, nil
}

func (v *runView) write(w io.Writer, nSamples int) error {
	r := v.run
	fmt.Fprintf(w, "run %d of experiment %s\n", r.ID, r.Experiment)
	tw := newTable(w)
	keys := 0 // the widest key: the error's row, written apart, lines up
	row := func(k, val string) { keys = max(keys, width(k)); fmt.Fprintf(tw, "  %s\t%s\n", k, val) }
	row("name", r.Name())
	row("hash", r.Hash)
	row("seed", fmt.Sprint(r.Seed))
	row("point", orDash(pointLabel(r.Point, nil)))
	for _, d := range dataRows(r.Config) {
		row("data", d)
	}
	if r.Attempt > 0 {
		row("status", fmt.Sprintf("%s (attempt %d)", r.Status, r.Attempt))
	} else {
		row("status", string(r.Status)) // never claimed, or every claim given back untrained
	}
	row("created", formatTime(r.Created))
	row("started", formatTime(r.Started))
	if !r.Finished.IsZero() {
		// Finished is when the last attempt ended, whatever its status
		// (JSON keeps the field's name); the dashboard's run page says it
		// with the same words.
		row(r.EndedLabel(), fmt.Sprintf("%s (%s %s)", formatTime(r.Finished), r.TookLabel(), duration(r.Finished.Sub(r.Started))))
	} else if r.Status == store.StatusRunning {
		row("heartbeat", formatTime(r.Heartbeat))
	}
	if r.Host != "" {
		row("host", fmt.Sprintf("%s:%d (attnlab %s, %s)", r.Host, r.PID, orDash(r.Version), orDash(r.GoVersion)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Error != "" {
		// Its value lines up with the table's above (as newTable pads).
		writeHanging(w, fmt.Sprintf("  %-*s  ", max(keys, width("error")), "error"), strings.Join(strings.Fields(firstLines(r.Error, 3)), " "))
	}

	if len(v.summaries) > 0 {
		fmt.Fprintln(w, "\nsummaries")
		keys := make([]string, 0, len(v.summaries))
		for k := range v.summaries {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, metrics.CompareKeys) // len_1_10 before len_11_20
		tw := newTable(w)
		for _, k := range keys {
			fmt.Fprintf(tw, "  %s\t%s\n", k, report.FormatMetric(k, v.summaries[k]))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if len(v.latest) > 0 {
		// What a run not finished has measured so far: its summaries are
		// written when it ends.
		fmt.Fprintf(w, "\nlatest metrics (the run is %s; each as last logged, up to step %d)\n", r.Status, v.lastStep)
		tw := newTable(w)
		for _, k := range slices.SortedFunc(maps.Keys(v.latest), metrics.CompareKeys) {
			fmt.Fprintf(tw, "  %s\t%s\n", k, report.FormatMetric(k, v.latest[k]))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if len(v.scores) > 0 {
		fmt.Fprintln(w, "\ntest scores as sacreBLEU prints them (with their signatures)")
		for _, s := range v.scores {
			fmt.Fprintln(w, "  "+s.Line())
		}
	}

	if len(v.samples) > 0 && nSamples != 0 {
		v.writeSamples(w, nSamples)
	}

	if len(v.artifacts) > 0 {
		var parts []string
		for _, a := range v.artifacts {
			parts = append(parts, fmt.Sprintf("%s/%s (%s)", a.Kind, a.Name, experiments.FormatBytes(a.Size)))
		}
		fmt.Fprintln(w)
		writeHanging(w, "artifacts  ", strings.Join(parts, ", "))
	}

	fmt.Fprintln(w, "\nconfig")
	cfg, err := configYAML(r.Config)
	if err != nil {
		return fmt.Errorf("run %d: stored config: %w", r.ID, err)
	}
	for _, l := range strings.Split(strings.TrimRight(cfg, "\n"), "\n") {
		fmt.Fprintln(w, "  "+l)
	}
	return nil
}

// writeSamples prints up to n stored test samples (n < 0: all).
func (v *runView) writeSamples(w io.Writer, n int) {
	lm := runs.LanguageModel(v.run)
	correct := 0
	for _, s := range v.samples {
		if s.Correct {
			correct++
		}
	}
	shown := v.samples
	if n >= 0 && n < len(shown) {
		shown = shown[:n]
	}
	const cell = 36
	tw := newTable(w)
	if lm {
		fmt.Fprintf(w, "\nsamples (%d shown of the %d stored: test prompts and their continuations)\n", len(shown), len(v.samples))
		fmt.Fprint(tw, "  \tprompt\tcontinuation\n")
		for _, s := range shown {
			fmt.Fprintf(tw, "  \t%s\t%s\n", truncate(visible(s.Source), cell), truncate(visible(s.Output), cell))
		}
	} else {
		fmt.Fprintf(w, "\nsamples (%d shown of the %d stored; %d of the %d correct)\n", len(shown), len(v.samples), correct, len(v.samples))
		fmt.Fprint(tw, "  \tsource\toutput\treference\n")
		for _, s := range shown {
			mark := "✗"
			if s.Correct {
				mark = "✓"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", mark, truncate(visible(s.Source), cell), truncate(visible(s.Output), cell), truncate(visible(s.Reference), cell))
		}
	}
	tw.Flush()
}

// json returns the view as one JSON-friendly value, with up to n samples
// (n < 0: all).
func (v *runView) json(n int) any {
	r := v.run
	var cfg, point any
	_ = json.Unmarshal([]byte(r.Config), &cfg)
	_ = json.Unmarshal([]byte(r.Point), &point)
	shown := v.samples
	if n >= 0 && n < len(shown) {
		shown = shown[:n]
	}
	if shown == nil {
		shown = []artifact.Sample{}
	}
	sums := map[string]any{}
	for k, x := range v.summaries {
		sums[k] = jsonNumber(x)
	}
	latest := map[string]any{}
	for k, x := range v.latest {
		latest[k] = jsonNumber(x)
	}
	var stored any = len(v.samples)
	if v.samplesLost {
		stored = nil // unknown: see unreadable
	}
	out := map[string]any{
		"id": r.ID, "experiment": r.Experiment, "hash": r.Hash, "seed": r.Seed, "point": point,
		"status": r.Status, "attempt": r.Attempt, "error": r.Error,
		"created": r.Created, "started": r.Started, "finished": r.Finished,
		"host": r.Host, "pid": r.PID, "attnlab_version": r.Version, "go_version": r.GoVersion,
		"config": cfg, "summaries": sums, "samples": shown, "samples_stored": stored, "scores": v.scores,
		"unreadable": append([]string{}, v.unreadable...),
	}
	if r.Status != store.StatusDone { // what it measured so far
		out["latest"], out["last_step"] = latest, v.lastStep
	}
	return out
}

// jsonNumber keeps NaN and ±Inf, which JSON numbers cannot hold, as strings.
func jsonNumber(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return x
}

// configYAML turns a stored canonical config (JSON, keys sorted) into
// block YAML, lists of scalars kept on one line.
func configYAML(configJSON string) (string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(configJSON), &doc); err != nil { // JSON is YAML
		return "", err
	}
	blockStyle(&doc)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// blockStyle sets n and its children to block style, except sequences of
// scalars, which stay in flow style ([10, 20, 40]).
func blockStyle(n *yaml.Node) {
	flow := n.Kind == yaml.SequenceNode
	for _, c := range n.Content {
		blockStyle(c)
		flow = flow && c.Kind == yaml.ScalarNode
	}
	switch {
	case flow:
		n.Style = yaml.FlowStyle
	case n.Kind == yaml.ScalarNode:
		n.Style &^= yaml.FlowStyle
		if n.Tag == "!!str" && n.Style == yaml.DoubleQuotedStyle {
			n.Style = 0 // let the encoder quote only where YAML needs it
		}
	default:
		n.Style = 0
	}
}

// visible shows whitespace inside a token sequence: newlines as ↵, tabs
// as →.
func visible(s string) string {
	return strings.NewReplacer("\n", "↵", "\t", "→", "\r", "").Replace(s)
}

// firstLines returns the first n lines of s.
func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
