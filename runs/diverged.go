package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/store"
)

// Divergence is an interrupted run of the experiment that a run of the plan
// does not resume, though it has the same sweep point and seed: the
// experiment file (or a --set) changed a setting that is part of the
// run's identity — an evaluation setting, the number of steps — between
// the interrupt and now. The planned run starts from step 0; the
// interrupted run keeps its history and checkpoint under its own hash.
type Divergence struct {
	Planned experiments.Run
	Old     store.Run
	// Keys lists the settings that differ, each as "key old → new", in key
	// order.
	Keys []string
}

// Diverged returns the Divergences of plan against the runs st holds: for
// every planned run not yet started (absent, or queued and never
// claimed), the interrupted runs of the same experiment, sweep point and
// seed under another hash. None when the experiment is new.
func Diverged(ctx context.Context, st *store.Store, x *experiments.Experiment, plan []experiments.Run) ([]Divergence, error) {
	stored, err := st.Runs(ctx, store.RunFilter{Experiments: []string{x.Name}})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	byHash := make(map[string]store.Run, len(stored))
	for _, r := range stored {
		byHash[r.Hash] = r
	}
	// The interrupted runs outside the plan, by seed and sweep point.
	type slot struct {
		seed  int64
		point string
	}
	old := map[slot][]store.Run{}
	planned := make(map[string]bool, len(plan))
	for _, p := range plan {
		planned[p.Hash] = true
	}
	for _, r := range stored {
		if r.Status != store.StatusInterrupted || planned[r.Hash] || r.Attempt == 0 {
			continue // attempt 0: every claim was given back untrained (store.Ending.Untrained), nothing to resume
		}
		point, err := canonicalPoint(r.Point)
		if err != nil {
			continue // not a point this version wrote: nothing to match
		}
		k := slot{r.Seed, point}
		old[k] = append(old[k], r)
	}
	if len(old) == 0 {
		return nil, nil
	}
	var out []Divergence
	for _, p := range plan {
		if r, ok := byHash[p.Hash]; ok && (r.Attempt > 0 || r.Status != store.StatusQueued && r.Status != store.StatusInterrupted) {
			continue // started: whatever it resumes is its own (an interrupted run at attempt 0 never trained)
		}
		// Runs stored before 2026-12-06 kept their variant's keys in the
		// point as well: either form matches.
		var points []string
		for _, m := range []map[string]any{p.StoredPoint(), p.Point} {
			b, err := json.Marshal(m)
			if err != nil {
				return nil, fmt.Errorf("run %d: %w", p.Index, err)
			}
			point, err := canonicalPoint(string(b))
			if err != nil {
				return nil, fmt.Errorf("run %d: %w", p.Index, err)
			}
			if !slices.Contains(points, point) {
				points = append(points, point)
			}
		}
		for _, point := range points {
			for _, r := range old[slot{int64(p.Seed), point}] {
				keys, err := configDiff(r.Config, string(p.Canonical))
				if err != nil {
					return nil, fmt.Errorf("run %d: %w", r.ID, err)
				}
				out = append(out, Divergence{Planned: p, Old: r, Keys: keys})
			}
		}
	}
	return out, nil
}

// canonicalPoint re-encodes a sweep point's JSON with sorted keys, so that
// points written by different versions compare as text.
func canonicalPoint(text string) (string, error) {
	if text == "" {
		text = "{}"
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return "", err
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// configDiff lists the leaves of two configs that differ, as "key old →
// new" ("(none)" for a leaf one of them lacks), in key order.
func configDiff(oldJSON, newJSON string) ([]string, error) {
	a, err := store.FlattenConfig(oldJSON)
	if err != nil {
		return nil, err
	}
	b, err := store.FlattenConfig(newJSON)
	if err != nil {
		return nil, err
	}
	text := func(ps []store.Param) map[string]string {
		m := make(map[string]string, len(ps))
		for _, p := range ps {
			m[p.Key] = paramText(p.Value)
		}
		return m
	}
	ma, mb := text(a), text(b)
	var keys []string
	for k, va := range ma {
		if vb, ok := mb[k]; !ok || va != vb {
			keys = append(keys, k)
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		va, okA := ma[k]
		vb, okB := mb[k]
		if !okA {
			va = "(none)"
		}
		if !okB {
			vb = "(none)"
		}
		out[i] = k + " " + va + " → " + vb
	}
	return out, nil
}

// paramText shows a flattened config value as the YAML would: strings
// unquoted unless empty.
func paramText(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if v == "" || strings.TrimSpace(v) != v {
			return fmt.Sprintf("%q", v)
		}
		return v
	case store.Value:
		return v.String()
	}
	return fmt.Sprint(v)
}
