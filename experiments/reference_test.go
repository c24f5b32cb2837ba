package experiments

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/attnlab/attnlab/metrics"
)

// TestReferenceIsTheFormat writes an experiment that sets every documented
// key that has a default to the documented default: it must load, and
// resolve to the same runs as the minimal experiment. So every documented
// key exists, its default is true, and (the other way round) every key of
// the settings structs is documented.
func TestReferenceIsTheFormat(t *testing.T) {
	ref := reference(testRegistries(t))
	tree := map[string]any{"name": "x", "task": map[string]any{"name": "copy"}}
	documented := map[string]bool{}
	for _, s := range ref {
		for _, k := range s.Keys {
			documented[k.Key] = true
			if k.Doc == "" || k.Type == "" {
				t.Errorf("%s: no doc or no type", k.Key)
			}
			if k.Default == "" || k.Type == "map" || strings.HasPrefix(k.Key, "sweep.") {
				continue
			}
			var v any
			if err := yaml.Unmarshal([]byte(k.Default), &v); err != nil {
				t.Fatalf("%s: default %q: %v", k.Key, k.Default, err)
			}
			if k.Type == "plugin" {
				v = map[string]any{"name": v}
			}
			put(tree, strings.Split(k.Key, "."), v)
		}
	}
	text, err := yaml.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	_, all := mustLoad(t, string(text))
	_, minimal := mustLoad(t, "name: x\ntask: {name: copy}\n")
	if all[0].Hash != minimal[0].Hash {
		t.Errorf("the documented defaults resolve to\n%s\nbut the defaults are\n%s\n(file:\n%s)", all[0].Canonical, minimal[0].Canonical, text)
	}
	// Every leaf of train and eval, and every top-level key, is documented.
	var params []Param
	flatten("", map[string]any{"train": structTree(Defaults().Train, false), "eval": structTree(Defaults().Eval, false)}, &params)
	for _, p := range params {
		key := p.Key
		for _, site := range []string{"train.optimizer", "train.schedule"} {
			if strings.HasPrefix(key, site+".") {
				key = site
			}
		}
		if !documented[key] {
			t.Errorf("%s is not documented", p.Key)
		}
	}
	for _, k := range append(slices.Clone(topKeys), "sweep.grid", "sweep.zip", "sweep.variants", "sweep.random", "sweep.random.samples", "sweep.random.seed", "sweep.random.params", "sweep.exclude") {
		if !documented[k] {
			t.Errorf("%s is not documented", k)
		}
	}
	if !reflect.DeepEqual(sweepKinds, []string{"grid", "zip", "variants", "random", "exclude"}) || !reflect.DeepEqual(randomKeys, []string{"samples", "seed", "params"}) {
		t.Errorf("sweep keys = %v, random keys = %v", sweepKinds, randomKeys)
	}
}

// TestReferenceRanges: the documented ranges are the ones Load enforces.
func TestReferenceRanges(t *testing.T) {
	for _, tc := range []struct {
		set, want string
	}{
		{"train.batch_size=0", "train.batch_size: must be in [1, 65536], got 0"},
		{"train.label_smoothing=1", "train.label_smoothing: must be in [0, 1), got 1"},
		{"eval.decode.top_p=0", "eval.decode.top_p: must be in (0, 1], got 0"},
		{"eval.decode.strategy=beams", `eval.decode.strategy: unknown strategy "beams" (known: greedy, beam, sample): did you mean beam?`},
		{"eval.length_buckets=[0, 5]", "eval.length_buckets[0]: must be in [1, 1000000], got 0"},
	} {
		got := loadErr(t, "name: x\ntask: {name: copy}\n", tc.set)
		if len(got) != 1 || got[0] != "--set: "+tc.want {
			t.Errorf("--set %s: %q, want %q", tc.set, got, "--set: "+tc.want)
		}
	}
	for _, s := range reference(testRegistries(t)) {
		for _, k := range s.Keys {
			switch k.Key {
			case "train.batch_size":
				if k.Range != "[1, 65536]" {
					t.Errorf("batch_size range %q", k.Range)
				}
			case "eval.bleu.tokenize":
				for _, tok := range metrics.BLEUTokenizers {
					if !strings.Contains(k.Doc, tok) {
						t.Errorf("the doc of eval.bleu.tokenize does not name the tokenizer %s", tok)
					}
				}
			case "train.early_stopping.mode":
				if k.Range != "min, max, auto" {
					t.Errorf("mode range %q", k.Range)
				}
			}
		}
	}
}
