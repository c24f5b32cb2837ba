package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/internal/safein"
	"github.com/attnlab/attnlab/tasks"
)

// loadText writes text to exp.yaml in a temporary directory and loads it
// with the test registries.
func loadText(tb testing.TB, text string, sets ...string) (*Experiment, []Run, error) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "exp.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
	x, err := load(testRegistries(tb), path, sets, LoadOptions{})
	if err != nil {
		return nil, nil, err
	}
	runs, err := x.Plan()
	if err != nil {
		tb.Fatal(err)
	}
	return x, runs, nil
}

func mustLoad(tb testing.TB, text string, sets ...string) (*Experiment, []Run) {
	tb.Helper()
	x, runs, err := loadText(tb, text, sets...)
	if err != nil {
		tb.Fatalf("Load:\n%v", err)
	}
	return x, runs
}

// loadErr loads text and returns its error lines without the file name.
func loadErr(tb testing.TB, text string, sets ...string) []string {
	tb.Helper()
	_, _, err := loadText(tb, text, sets...)
	var es Errors
	if !errors.As(err, &es) {
		tb.Fatalf("Load error = %v, want Errors", err)
	}
	var out []string
	for _, e := range es {
		e := *e
		if e.File != "--set" {
			e.File = "exp.yaml"
		}
		out = append(out, e.Error())
	}
	return out
}

const minimal = "name: minimal\ntask: {name: reverse}\nmodel: {attention: {name: dot}}\n"

func TestDefaultsOnly(t *testing.T) {
	x, runs := mustLoad(t, minimal)
	if x.Name != "minimal" || !slices.Equal(x.Seeds, DefaultSeeds) || len(runs) != 1 {
		t.Fatalf("Load = %q seeds %v, %d runs; want minimal, %v, 1 run", x.Name, x.Seeds, len(runs), DefaultSeeds)
	}
	r := runs[0]
	if r.Label != "" || len(r.Point) != 0 || r.Seed != 1 || r.Index != 0 || len(r.Hash) != 16 {
		t.Errorf("run = label %q point %v seed %d index %d hash %q", r.Label, r.Point, r.Seed, r.Index, r.Hash)
	}
	c := r.Config
	d := Defaults()
	if c.Model.Name != d.Model.Name || c.Model.Encoder.Name != "lstm" || c.Model.Attention.Name != "dot" ||
		c.Train.Optimizer.Name != "adam" || c.Train.Schedule.Name != "constant" {
		t.Errorf("plugins = %s %s %s %s %s", c.Model.Name, c.Model.Encoder.Name, c.Model.Attention.Name, c.Train.Optimizer.Name, c.Train.Schedule.Name)
	}
	// Every plugin block is filled from its registry entry's defaults.
	if c.Model.Params["embed"] != 64 || c.Model.Params["cell"] != "lstm" || c.Model.Encoder.Params["hidden"] != 128 ||
		c.Task.Params["max_len"] != 20 || c.Train.Optimizer.Params["lr"] != 0.001 || len(c.Model.Attention.Params) != 0 {
		t.Errorf("params = model %v encoder %v task %v optimizer %v attention %v",
			c.Model.Params, c.Model.Encoder.Params, c.Task.Params, c.Train.Optimizer.Params, c.Model.Attention.Params)
	}
	wantTrain := d.Train
	wantTrain.Optimizer, wantTrain.Schedule = c.Train.Optimizer, c.Train.Schedule
	wantTrain.EarlyStopping.Mode = "min" // auto, for valid/loss
	if !reflect.DeepEqual(c.Train, wantTrain) {
		t.Errorf("train = %+v\nwant %+v", c.Train, wantTrain)
	}
	if !reflect.DeepEqual(c.Eval, d.Eval) {
		t.Errorf("eval = %+v\nwant %+v", c.Eval, d.Eval)
	}
	if c.BaseDir == "" || !filepath.IsAbs(c.BaseDir) || strings.Contains(string(r.Canonical), "BaseDir") {
		t.Errorf("BaseDir = %q (canonical %s)", c.BaseDir, r.Canonical)
	}
	if !strings.Contains(string(r.Canonical), `"seed":1`) {
		t.Errorf("canonical JSON has no seed: %s", r.Canonical)
	}
	if x.YAML != minimal || len(x.Sources) != 1 {
		t.Errorf("YAML = %q, %d sources", x.YAML, len(x.Sources))
	}
}

func TestEarlyStoppingAutoMode(t *testing.T) {
	for metric, want := range map[string]string{"valid/loss": "min", "valid/exact_match": "max", "valid/bleu": "max",
		"valid/token_acc": "max", "valid/ppl": "min", "valid/chrf": "max", "valid/chrf++": "max"} {
		_, runs := mustLoad(t, minimal+"train: {early_stopping: {metric: "+metric+"}}\n")
		if got := runs[0].Config.Train.EarlyStopping.Mode; got != want {
			t.Errorf("mode for %s = %s, want %s", metric, got, want)
		}
	}
}

// TestEarlyStoppingMetric: the metric must be one each evaluation records
// (early stopping on any other would never fire), with a suggestion.
func TestEarlyStoppingMetric(t *testing.T) {
	for _, tc := range []struct {
		text, want string
	}{
		{"train: {early_stopping: {metric: valid/los, patience: 2}}\n",
			`exp.yaml:4: train.early_stopping.metric: "valid/los" is not a metric each evaluation records (known: valid/loss, valid/ppl, valid/token_acc, valid/bleu, valid/chrf, valid/chrf++, valid/exact_match): did you mean valid/loss?`},
		{"train: {early_stopping: {metric: train/loss}}\n",
			`exp.yaml:4: train.early_stopping.metric: "train/loss" is not a metric each evaluation records (known: valid/loss, valid/ppl, valid/token_acc, valid/bleu, valid/chrf, valid/chrf++, valid/exact_match): did you mean valid/loss?`},
		{"train: {early_stopping: {metric: exact_match}}\n",
			`exp.yaml:4: train.early_stopping.metric: "exact_match" is not a metric each evaluation records (known: valid/loss, valid/ppl, valid/token_acc, valid/bleu, valid/chrf, valid/chrf++, valid/exact_match): did you mean valid/exact_match?`},
		{"train: {early_stopping: {metric: valid/bleu}}\neval: {valid_exact_match: false}\n",
			`exp.yaml:4: train.early_stopping.metric: "valid/bleu" is not recorded by this run's evaluations (eval.valid_exact_match, or a language-modelling task) (known: valid/loss, valid/ppl, valid/token_acc)`},
	} {
		got := loadErr(t, minimal+tc.text)
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: errors %q\nwant %q", tc.text, got, tc.want)
		}
	}
}

// TestEarlyStoppingNeedsValidation: early stopping over an empty
// validation split (a generated task's valid_size 0, a file task's
// valid_fraction 0) would never stop nor keep the best weights: refused,
// on the patience key. With a validation split it is accepted.
func TestEarlyStoppingNeedsValidation(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "t.txt")
	if err := os.WriteFile(text, []byte(strings.Repeat("hello world ", 50)), 0o644); err != nil {
		t.Fatal(err)
	}
	const es = "train: {eval_every: 10, early_stopping: {patience: 2}}\n"
	for _, tc := range []struct {
		text, want string
	}{
		{"name: x\ntask: {name: reverse, valid_size: 0}\nmodel: {attention: {name: dot}}\n" + es,
			`exp.yaml:4: train.early_stopping.patience: early stopping watches valid/loss, but task "reverse" has no validation examples: give it a validation split, or set patience to 0`},
		{"name: x\ntask: {name: text, path: " + text + ", valid_fraction: 0}\nmodel: {name: lm-rnn}\n" + es,
			`exp.yaml:4: train.early_stopping.patience: early stopping watches valid/loss, but task "text" has no validation examples: give it a validation split, or set patience to 0`},
		{"name: x\ntask: {name: reverse}\nmodel: {attention: {name: dot}}\n" + es, ""},
		{"name: x\ntask: {name: text, path: " + text + "}\nmodel: {name: lm-rnn}\n" + es, ""},
	} {
		if tc.want == "" {
			mustLoad(t, tc.text)
			continue
		}
		got := loadErr(t, tc.text)
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: errors %q\nwant %q", tc.text, got, tc.want)
		}
	}
}

// TestLMRNNRefusesBidirectional: lm-rnn's encoder may not read both ways
// (it would see the tokens it predicts); plan refuses it on the encoder's
// key instead of every run failing when its model is built.
func TestLMRNNRefusesBidirectional(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "t.txt")
	if err := os.WriteFile(text, []byte(strings.Repeat("hello world ", 50)), 0o644); err != nil {
		t.Fatal(err)
	}
	lm := "name: x\ntask: {name: text, path: " + text + "}\nmodel: {name: lm-rnn, encoder: {name: gru, bidirectional: %v}}\n"
	got := loadErr(t, fmt.Sprintf(lm, true))
	want := `exp.yaml:3: model.encoder.bidirectional: a language model reads left to right only (model "lm-rnn")`
	if len(got) != 1 || got[0] != want {
		t.Errorf("errors %q\nwant %q", got, want)
	}
	mustLoad(t, fmt.Sprintf(lm, false))
}

func TestPluginSwitchKeepsKnownKeys(t *testing.T) {
	dir := t.TempDir()
	base := "task: {name: reverse}\nmodel:\n  encoder: {name: lstm, hidden: 256}\n  attention: {name: multi-head, heads: 8, dim: 64}\n"
	child := "extends: base.yaml\nname: child\nmodel:\n  encoder: {name: gru}\n  attention: {name: additive}\n"
	for name, text := range map[string]string{"base.yaml": base, "exp.yaml": child} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	x, err := load(testRegistries(t), filepath.Join(dir, "exp.yaml"), nil, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := x.Plan()
	m := runs[0].Config.Model
	if m.Encoder.Name != "gru" || m.Encoder.Params["hidden"] != 256 {
		t.Errorf("encoder = %+v, want gru keeping hidden 256", m.Encoder)
	}
	if m.Attention.Name != "additive" || m.Attention.Params["dim"] != 64 || len(m.Attention.Params) != 1 {
		t.Errorf("attention = %+v, want additive with dim 64 and no heads", m.Attention)
	}
	if len(x.Sources) != 2 || x.Sources[1].File != filepath.Join(dir, "base.yaml") {
		t.Errorf("sources = %+v", x.Sources)
	}
	if _, ok := x.Tree["extends"]; ok {
		t.Errorf("Tree keeps extends: %v", x.Tree)
	}
}

func TestSetTyping(t *testing.T) {
	_, runs := mustLoad(t, "name: s\ntask: {name: reverse}\nmodel: {attention: {name: additive, dim: 16}}\n",
		"train.batch_size=4",
		"train.optimizer.lr=3e-4",
		"eval.valid_exact_match=false",
		"eval.length_buckets=[5, 10]",
		"model.attention.name=multi-head",
		"model.attention.heads=2",
		"description=2024-01-02",
		"seeds=[3,4]",
		"sweep.grid.model.embed=[16, 32]",
	)
	if len(runs) != 4 {
		t.Fatalf("%d runs, want 2 points × 2 seeds", len(runs))
	}
	c := runs[0].Config
	if c.Train.BatchSize != 4 || c.Train.Optimizer.Params["lr"] != 3e-4 || c.Eval.ValidExactMatch ||
		!slices.Equal(c.Eval.LengthBuckets, []int{5, 10}) || c.Description != "2024-01-02" {
		t.Errorf("config = batch %d lr %v vem %v buckets %v description %q", c.Train.BatchSize, c.Train.Optimizer.Params["lr"],
			c.Eval.ValidExactMatch, c.Eval.LengthBuckets, c.Description)
	}
	if a := c.Model.Attention; a.Name != "multi-head" || a.Params["heads"] != 2 || a.Params["dim"] != 16 {
		t.Errorf("attention = %+v", a)
	}
	if runs[0].Seed != 3 || runs[3].Seed != 4 || runs[1].Label != "model.embed=32" {
		t.Errorf("runs = seed %d, %d; label %q", runs[0].Seed, runs[3].Seed, runs[1].Label)
	}
	// A quoted number stays a string, which an int key rejects.
	got := loadErr(t, minimal, `train.batch_size="4"`, "model.embed=abc")
	want := []string{`--set: model.embed: want int, got string "abc" for model "seq2seq-rnn"`, `--set: train.batch_size: want int, got string "4" (drop the quotes)`}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
	// A leading 0 is YAML 1.1's octal: 020 steps would be 16.
	got = loadErr(t, minimal, "train.steps=020", "train.batch_size=0o10", "train.epochs=0", `description="020"`)
	want = []string{`--set: train.steps: value "020": 020 is the octal number 16 in YAML: write 20 for the decimal number, "020" for text, or 0o20 for the octal one`}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
	// A value is one YAML document: a second would be dropped silently.
	got = loadErr(t, minimal, "train.steps=5\n---\nname: other")
	want = []string{`--set: train.steps: value "5\n---\nname: other": a second YAML document (line 2, after ---): --set takes one value`}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
	// Brackets that do not pair up are named, not the library's "did not
	// find expected node content"; inside quotes they are text.
	for _, tc := range []struct{ set, want string }{
		{"seeds=[[[", `--set: seeds: value "[[[": a [ is never closed`},
		{"seeds=[1, 2", `--set: seeds: value "[1, 2": a [ is never closed`},
		{"train={steps: 3", `--set: train: value "{steps: 3": a { is never closed`},
		{"seeds=[1]]", `--set: seeds: value "[1]]": a ] closes no [`},
		{"seeds=[1, {a: 2]", `--set: seeds: value "[1, {a: 2]": a ] where } closes the {`},
		{`description="a [ b" x`, `--set: description: value "\"a [ b\" x": did not find expected <document start>`},
		// Not a flow collection: the library's words, not ours.
		{"description=a: b: c]", `--set: description: value "a: b: c]": mapping values are not allowed in this context`},
		{`seeds=["a\"[", 2`, `--set: seeds: value "[\"a\\\"[\", 2": a [ is never closed`},
		{"seeds=[it's, [2]", `--set: seeds: value "[it's, [2]": a [ is never closed`},
	} {
		if got := loadErr(t, minimal, tc.set); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("--set %s: errors = %q, want %q", tc.set, got, tc.want)
		}
	}
}

func TestErrorsAreTyped(t *testing.T) {
	_, _, err := loadText(t, "name: x\ntask: {name: reverse}\ntrain: {batch_size: 0, clip: -1}\n")
	var es Errors
	var ce *ConfigError
	if !errors.As(err, &es) || !errors.As(err, &ce) || len(es) != 2 {
		t.Fatalf("error %v: want Errors of 2 and a *ConfigError", err)
	}
	if ce.Line != 3 || ce.Key != "train.batch_size" || !strings.HasSuffix(ce.File, "exp.yaml") || ce.Msg != "must be in [1, 65536], got 0" {
		t.Errorf("first error = %+v", ce)
	}
	if err.Error() != es[0].Error()+"\n"+es[1].Error() {
		t.Errorf("Errors.Error() = %q", err.Error())
	}
	_, err = load(testRegistries(t), filepath.Join(t.TempDir(), "nope.yaml"), nil, LoadOptions{})
	if !errors.As(err, &ce) || ce.Line != 0 || !strings.Contains(ce.Msg, "does not exist") {
		t.Errorf("missing file: %v", err)
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	_, runs := mustLoad(t, "name: rt\ntask: {name: reverse}\nmodel: {attention: {name: multi-head}}\n")
	var c Config
	if err := json.Unmarshal(runs[0].Canonical, &c); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(runs[0].Canonical) {
		t.Errorf("round trip:\n%s\nwant\n%s", b, runs[0].Canonical)
	}
	if c.Model.Encoder == nil || c.Model.Attention.Name != "multi-head" || c.Seed != 1 {
		t.Errorf("decoded config = %+v", c.Model)
	}
}

func TestPlanReturnsCopies(t *testing.T) {
	x, runs := mustLoad(t, minimal)
	runs[0].Config.Model.Params["embed"] = 1
	runs[0].Config.Eval.LengthBuckets[0] = 99
	again, _ := x.Plan()
	if again[0].Config.Model.Params["embed"] != 64 || again[0].Config.Eval.LengthBuckets[0] != 10 {
		t.Errorf("Plan shares state between calls")
	}
}

func TestParams(t *testing.T) {
	_, runs := mustLoad(t, minimal)
	got := map[string]any{}
	for i, p := range runs[0].Params {
		if i > 0 && runs[0].Params[i-1].Key >= p.Key {
			t.Errorf("params not sorted at %s", p.Key)
		}
		got[p.Key] = p.Value
	}
	for k, want := range map[string]any{"seed": 1, "name": "minimal", "model.attention.name": "dot", "model.encoder.hidden": 128,
		"train.optimizer.lr": 0.001, "train.optimizer.betas": "[0.9,0.999]", "eval.length_buckets": "[10,20,40,80,160]",
		"eval.valid_exact_match": true, "train.clip": 1.0, "task.name": "reverse"} {
		if got[k] != want {
			t.Errorf("param %s = %#v, want %#v", k, got[k], want)
		}
	}
}

// TestGlobalRegistries loads through Load, with the real registries.
func TestGlobalRegistries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lm.yaml")
	if err := os.WriteFile(filepath.Join(dir, "corpus.txt"), []byte(strings.Repeat("some text\n", 20)), 0o644); err != nil {
		t.Fatal(err)
	}
	text := "name: lm\ntask: {name: text, path: corpus.txt}\nmodel: {name: lm-rnn, encoder: {name: gru}}\nmodel.bad: 1\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, []string{"model.attention.name=zzz"})
	if err == nil {
		t.Fatal("Load accepted model.bad")
	}
	if want := path + ":4: model.bad: unknown key (known: name, description, extends, task, model, train, eval, seeds, sweep); " +
		"a key with a dot is a path only in --set and the sweep: nest the keys, model: {bad: ...}\n" +
		`--set: model.attention: not used by model "lm-rnn"`; err.Error() != want {
		t.Errorf("Load error = %v, want %s...", err, want)
	}
	x, err := Load(path, []string{"model.embed=32"})
	if err == nil || x != nil {
		t.Fatalf("Load = %v, %v", x, err)
	}
	os.WriteFile(path, []byte(strings.Replace(text, "model.bad: 1\n", "", 1)), 0o644)
	x, err = Load(path, []string{"model.embed=32"})
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := x.Plan()
	if c := runs[0].Config; c.Model.Attention != nil || c.Model.Encoder.Name != "gru" || c.Model.Params["embed"] != 32 {
		t.Errorf("config = %+v", c.Model)
	}
	// Unknown attention names list the registry's.
	_, err = Load(path, []string{"model.name=lm-transformer", "model.attention.name=zzz"})
	want := `model.attention.name: unknown attention "zzz" (known: ` + strings.Join(attention.Registry.Names(), ", ") + ")"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Load error = %v, want %s", err, want)
	}
}

// TestQuickstartWithRealPlugins loads the documented example with the
// registries the CLI uses.
func TestQuickstartWithRealPlugins(t *testing.T) {
	x, err := Load("testdata/good/quickstart.yaml", nil)
	if err != nil {
		t.Fatalf("Load:\n%v", err)
	}
	runs, _ := x.Plan()
	if len(runs) != 15 || runs[0].Config.Model.Attention.Name != "none" {
		t.Errorf("%d runs, first attention %s; want 15, none", len(runs), runs[0].Config.Model.Attention.Name)
	}
}

// TestModelSwitchDropsUnusedBlocks: a file that switches its base's model
// to one without attention does not inherit the base's attention block,
// while one written in the same file is still an error.
func TestModelSwitchDropsUnusedBlocks(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("t.txt", strings.Repeat("some text\n", 20)) // long enough for every split: Load builds the data
	write("base.yaml", "name: base\ntask: {name: reverse}\nmodel:\n  name: seq2seq-rnn\n  attention: {name: dot}\n")
	x, err := Load(write("lm.yaml", "name: lm\nextends: base.yaml\ntask: {name: text, path: t.txt}\nmodel:\n  name: lm-rnn\n"), nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	plan, _ := x.Plan()
	if m := plan[0].Config.Model; m.Attention != nil || m.Encoder == nil {
		t.Fatalf("model = %+v, want an encoder and no attention", m)
	}
	_, err = Load(write("bad.yaml", "name: bad\ntask: {name: text, path: t.txt}\nmodel:\n  name: lm-rnn\n  attention: {name: dot}\n"), nil)
	if err == nil || !strings.Contains(err.Error(), `model.attention: not used by model "lm-rnn"`) {
		t.Fatalf("attention written for lm-rnn: %v", err)
	}
}

// TestQueueSettingsOutsideIdentity: train.keep_checkpoints and
// train.max_attempts reach the Config but not the canonical JSON, the
// params or the hash, so changing them does not make new runs.
func TestQueueSettingsOutsideIdentity(t *testing.T) {
	_, plain := mustLoad(t, minimal)
	_, set := mustLoad(t, minimal, "train.keep_checkpoints=true", "train.max_attempts=7")
	if plain[0].Hash != set[0].Hash || string(plain[0].Canonical) != string(set[0].Canonical) {
		t.Fatalf("queue settings changed the run's identity: %s vs %s", plain[0].Hash, set[0].Hash)
	}
	if c := plain[0].Config.Train; c.KeepCheckpoints || c.MaxAttempts != 3 {
		t.Fatalf("defaults: keep_checkpoints %v, max_attempts %d; want false, 3", c.KeepCheckpoints, c.MaxAttempts)
	}
	if c := set[0].Config.Train; !c.KeepCheckpoints || c.MaxAttempts != 7 {
		t.Fatalf("--set: keep_checkpoints %v, max_attempts %d; want true, 7", c.KeepCheckpoints, c.MaxAttempts)
	}
	for _, p := range set[0].Params {
		if strings.Contains(p.Key, "keep_checkpoints") || strings.Contains(p.Key, "max_attempts") {
			t.Fatalf("param %s is part of the run's params", p.Key)
		}
	}
	got := loadErr(t, minimal, "train.max_attempts=0", "train.keep_checkpoints=1")
	want := []string{"--set: train.keep_checkpoints: want bool, got int 1", "--set: train.max_attempts: must be in [1, 1000], got 0"}
	if !slices.Equal(got, want) {
		t.Fatalf("errors = %q, want %q", got, want)
	}
}

func TestThreadsOutsideIdentity(t *testing.T) {
	// train.threads changes how fast a run goes, not what it computes
	// (bit for bit: bench's TestThreadsBitwise), so the identity records
	// threads 1 — what runs stored before the default became 0 have —
	// whatever the setting, while the run's Config keeps the setting.
	_, plain := mustLoad(t, minimal)
	if got := plain[0].Config.Train.Threads; got != 0 {
		t.Fatalf("default train.threads = %d, want 0", got)
	}
	if !strings.Contains(string(plain[0].Canonical), `"threads":1`) {
		t.Fatalf("canonical JSON %s does not record threads 1", plain[0].Canonical)
	}
	for _, n := range []string{"1", "2", "64"} {
		_, set := mustLoad(t, minimal, "train.threads="+n)
		if set[0].Hash != plain[0].Hash || string(set[0].Canonical) != string(plain[0].Canonical) {
			t.Errorf("train.threads=%s changed the run's identity: %s vs %s", n, set[0].Hash, plain[0].Hash)
		}
		if got := strconv.Itoa(set[0].Config.Train.Threads); got != n {
			t.Errorf("train.threads=%s: Config has %s", n, got)
		}
	}
	got := loadErr(t, minimal, "train.threads=-1")
	want := []string{"--set: train.threads: must be in [0, 1024], got -1"}
	if !slices.Equal(got, want) {
		t.Fatalf("errors = %q, want %q", got, want)
	}
}

// TestLongValueAbbreviated: an error echoes at most the start of a long
// value from the file, with its length, not 200,000 characters.
func TestLongValueAbbreviated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.yaml")
	if err := os.WriteFile(path, []byte("name: "+strings.Repeat("x", 200000)+"\ntask: {name: reverse}\nmodel: {name: seq2seq-rnn}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, nil)
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), strings.Repeat("x", 64)+"… (200000 bytes)") {
		t.Fatalf("Load: %.300v", err)
	}
}

// TestLongKeysAbbreviated: a long key from --set or the file, a long sweep
// value in the "(sweep point …)" note, and a long description are not
// echoed whole either.
func TestLongKeysAbbreviated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.yaml")
	long := strings.Repeat("k", 100000)
	text := "name: x\ndescription: " + strings.Repeat("d", 5000) + "\ntask: {name: reverse}\nmodel: {name: seq2seq-rnn}\n" +
		"sweep: {grid: {model.attention.name: [additive, " + long + "]}}\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, []string{long + "=3", "train." + long + "=3"})
	if err == nil {
		t.Fatal("Load accepted the file")
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if len(line) > 600 {
			t.Errorf("a %d-byte error line: %.200s…", len(line), line)
		}
	}
	if !strings.Contains(err.Error(), "description: 5000 characters, more than 4000") {
		t.Errorf("no error on the description:\n%.2000s", err)
	}
}

// TestSetOfSweptKey: --set of a key the sweep sets would be overridden at
// every point; it is an error naming both, not silently ignored.
func TestSetOfSweptKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.yaml")
	text := "name: x\ntask: {name: reverse}\nmodel: {name: seq2seq-rnn}\nsweep: {grid: {model.attention.name: [none, dot]}}\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, []string{"model.attention.name=additive"})
	if err == nil || !strings.Contains(err.Error(), "--set: model.attention.name: swept by sweep.grid.model.attention.name, which sets it at every sweep point") {
		t.Fatalf("Load: %v", err)
	}
	if _, err := Load(path, []string{"sweep.grid.model\\.attention\\.name=[none, additive]"}); err != nil && strings.Contains(err.Error(), "swept by") {
		t.Errorf("changing the sweep itself: %v", err)
	}
}

// TestNameNotAFlag: an experiment name cannot start with '-', which every
// command would take for a flag.
func TestNameNotAFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.yaml")
	if err := os.WriteFile(path, []byte("name: -n\ntask: {name: reverse}\nmodel: {name: seq2seq-rnn}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), "not starting with -") {
		t.Fatalf("Load: %v", err)
	}
}

// TestDotNames: "." and ".." are names of directories, which a link
// (/x/..), a path or a run name (x/../seed=1) would read as such.
func TestDotNames(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ text, want string }{
		{"name: ..\n", `name: ".." names a directory`},
		{"name: .\n", `name: "." names a directory`},
		{"name: x\nsweep: {variants: [{name: ..}]}\n", `sweep.variants[0].name: ".." reads as a directory`},
		{"name: x\nsweep: {variants: [{name: .}]}\n", `sweep.variants[0].name: "." reads as a directory`},
	} {
		path := filepath.Join(dir, "x.yaml")
		if err := os.WriteFile(path, []byte(c.text+"task: {name: reverse}\nmodel: {name: seq2seq-rnn}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: Load: %v, want an error with %q", c.text, err, c.want)
		}
	}
	// Names with dots that are not a directory's stay allowed.
	path := filepath.Join(dir, "ok.yaml")
	if err := os.WriteFile(path, []byte("name: ...\nsweep: {variants: [{name: .a, train: {steps: 5}}, {name: a..b, train: {steps: 6}}]}\ntask: {name: reverse}\nmodel: {name: seq2seq-rnn}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, nil); err != nil {
		t.Errorf("dotted names: %v", err)
	}
}

// TestSetUnderSweepAllowed: a --set that some points keep is not refused:
// a key only some variants set, a key under a swept map (merged into each
// point's map).
func TestSetUnderSweepAllowed(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"variants.yaml": "name: x\ntask: {name: reverse}\nmodel: {name: seq2seq-rnn}\nsweep:\n  variants:\n" +
			"    - {name: a, model.attention.name: dot, train.optimizer.lr: 0.01}\n    - {name: b, model.attention.name: additive}\n",
		"map.yaml": "name: x\ntask: {name: reverse}\nmodel: {name: seq2seq-rnn, attention: {name: additive, dim: 8}}\n" +
			"sweep: {grid: {model.attention: [{name: additive}, {name: general}]}}\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		set := map[string]string{"variants.yaml": "train.optimizer.lr=0.005", "map.yaml": "model.attention.dim=4"}[name]
		if _, err := Load(path, []string{set}); err != nil && strings.Contains(err.Error(), "swept by") {
			t.Errorf("%s --set %s: %v", name, set, err)
		}
	}
}

// TestSetPathFromWorkingDirectory: a file path in the experiment file is
// relative to the file's directory, one given with --set to the directory
// the command runs in, as a shell user means it.
func TestSetPathFromWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"exp", "elsewhere"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	text := strings.Repeat("some text\n", 20)
	for _, f := range []string{"exp/t.txt", "elsewhere/mine.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	yml := filepath.Join(dir, "exp", "lm.yaml")
	if err := os.WriteFile(yml, []byte("name: lm\ntask: {name: text, path: t.txt}\nmodel: {name: lm-rnn}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(dir, "elsewhere"))
	if _, err := Load("../exp/lm.yaml", nil); err != nil {
		t.Fatalf("the file's own path: %v", err)
	}
	x, err := Load("../exp/lm.yaml", []string{"task.path=mine.txt"})
	if err != nil {
		t.Fatalf("--set task.path=mine.txt from elsewhere/: %v", err)
	}
	plan, _ := x.Plan()
	if got := plan[0].Config.Task.Params["path"]; got != filepath.Join("..", "elsewhere", "mine.txt") {
		t.Errorf("task.path = %v, want ../elsewhere/mine.txt (relative to the experiment's directory)", got)
	}
}

// TestSetForNothing: a parameter the user wrote for a plugin that every
// sweep point replaces by one that does not take it would be ignored in
// every run: an error; kept when some point's plugin takes it.
func TestSetForNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.yaml")
	yml := "name: x\ntask: {name: reverse}\nmodel: {name: seq2seq-rnn, attention: {name: multi-head, heads: 4}}\nsweep: {grid: {model.attention.name: %s}}\n"
	if err := os.WriteFile(p, []byte(fmt.Sprintf(yml, "[dot, additive]")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p, nil)
	if err == nil || !strings.Contains(err.Error(), "model.attention.heads: set for nothing: every sweep point names at model.attention a plugin that takes no heads") {
		t.Fatalf("heads under a grid of dot and additive: %v", err)
	}
	if err := os.WriteFile(p, []byte(fmt.Sprintf(yml, "[dot, multi-head]")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, nil); err != nil {
		t.Fatalf("heads under a grid with multi-head: %v", err)
	}
}

// TestSetLayers: each --set merges over the ones before it. A block set
// after a key in it keeps that key (train={steps: 3} replaced an earlier
// train.optimizer.lr=0.5 whole, silently), and a key set twice takes the
// last value.
func TestSetLayers(t *testing.T) {
	_, runs := mustLoad(t, minimal, "train.optimizer.lr=0.5", "train={steps: 3, batch_size: 4}", "train.batch_size=8",
		"sweep.grid.model.embed=[8, 16]", "sweep.grid={model.hidden: [8, 16]}")
	c := runs[0].Config
	if lr := c.Train.Optimizer.Params["lr"]; lr != 0.5 || c.Train.Steps != 3 || c.Train.BatchSize != 8 {
		t.Errorf("lr %v, steps %d, batch_size %d; want 0.5, 3, 8", lr, c.Train.Steps, c.Train.BatchSize)
	}
	if len(runs) != 4 {
		t.Errorf("%d runs, want the grid of both --sets: 4", len(runs))
	}
	// A plugin named by a later --set does not drop an earlier one's key
	// it does not take: both are the user's.
	got := loadErr(t, minimal, "model.attention.heds=4", "model.attention={name: multi-head}")
	want := []string{`--set: model.attention.heds: unknown key for attention "multi-head" (known: name, heads, dim, dropout, score): did you mean heads?`}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
}

// TestTooManyValues: a document with more values than the loader walks is
// said to be too large, and an alias bomb to have too many aliases.
func TestTooManyValues(t *testing.T) {
	many := "name: many\ntask: {name: reverse}\nx: [" + strings.Repeat("1, ", maxNodes) + "1]\n"
	bomb := "name: bomb\ntask: {name: reverse}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
	for i := 1; i <= 6; i++ {
		bomb += fmt.Sprintf("a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	for _, tc := range []struct{ text, want string }{
		{many, "exp.yaml:1: more than 100000 values: an experiment needs far fewer"},
		{bomb, "exp.yaml:1: document too large or too many aliases"},
	} {
		if got := loadErr(t, tc.text); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("errors = %q, want %q", got, tc.want)
		}
	}
}

// TestLintedSettingsRefusedAtPlan: settings that an earlier version
// accepted and ignored (registry.Linter) are refused when an experiment is
// loaded, on their keys, though a stored run's configuration that has
// them still builds (models and attention test that side; cmd/attnlab's
// TestPlanRefusesLintedAttention a linted attention, which these tests'
// stand-in catalog lacks).
func TestLintedSettingsRefusedAtPlan(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"name: x\ntask: {name: reverse}\nmodel: {attentional: false, attention: {name: dot}}\n",
			`exp.yaml:3: model.attentional: only applies to wiring luong (bahdanau predicts from [s; c] already), got false for model "seq2seq-rnn"`},
		{"name: x\ntask: {name: reverse}\nmodel:\n  encoder: {name: gru, dropout: 0.25}\n  attention: {name: dot}\n",
			`exp.yaml:4: model.encoder.dropout: only applies between stacked layers (layers 2 or more; model.dropout drops embeddings and outputs), got 0.25 with layers 1 for encoder "gru"`},
	} {
		if got := loadErr(t, tc.text); len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: errors %q\nwant %q", tc.text, got, tc.want)
		}
	}
}

// TestLintErrorsAreMarked: the problems of settings only new experiments
// must avoid (registry.Linter; eval.context beyond a measured test split)
// are ConfigError.Lint, so OnlyLint holds for them alone, and NoLint loads
// such an experiment (its stored runs resume); a problem of any other kind
// among them, or a plain one, is not a lint.
func TestLintErrorsAreMarked(t *testing.T) {
	lintOnly := "name: x\ntask: {name: reverse}\nmodel: {attentional: false, attention: {name: dot}}\n"
	_, _, err := loadText(t, lintOnly)
	if !OnlyLint(err) {
		t.Errorf("attentional: false outside luong: OnlyLint(%v) = false, want true", err)
	}
	path := filepath.Join(t.TempDir(), "exp.yaml")
	if err := os.WriteFile(path, []byte(lintOnly), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := load(testRegistries(t), path, nil, LoadOptions{NoLint: true}); err != nil {
		t.Errorf("NoLint: %v, want it loaded", err)
	}
	if _, _, err := loadText(t, lintOnly, "train.steps=0"); OnlyLint(err) {
		t.Errorf("a lint and a bad train.steps: OnlyLint(%v) = true, want false", err)
	}
	if _, _, err := loadText(t, "name: x\ntask: {name: reverse}\ntrain: {steps: 0}\n"); err == nil || OnlyLint(err) {
		t.Errorf("bad train.steps: OnlyLint(%v) = true, want false", err)
	}
	ctx := "testdata/bad/eval_context_test_split.yaml"
	if _, err := load(testRegistries(t), ctx, nil, LoadOptions{}); !OnlyLint(err) {
		t.Errorf("%s: OnlyLint(%v) = false, want true", ctx, err)
	}
	if _, err := load(testRegistries(t), ctx, nil, LoadOptions{NoLint: true}); err != nil {
		t.Errorf("%s with NoLint: %v, want it loaded", ctx, err)
	}
	noValid := "name: x\ntask: {name: reverse, valid_size: 0}\ntrain: {early_stopping: {patience: 3}}\n"
	if _, _, err := loadText(t, noValid); !OnlyLint(err) {
		t.Errorf("early stopping without a validation split: OnlyLint(%v) = false, want true", err)
	}
	if OnlyLint(nil) || OnlyLint(Errors{}) {
		t.Error("OnlyLint of no problem = true, want false")
	}
}

// TestTinyNumbersAreLints: a number written with a digit other than 0 that
// is too small for a float64 (1e-400), which YAML reads as 0 without a
// word, is a lint on its key, in the file, a sweep or --set; a layer above
// that writes the key hides it, NoLint loads the 0 (runs stored with it
// resume), and a 0 however written or a subnormal number is no problem.
func TestTinyNumbersAreLints(t *testing.T) {
	const base = "name: x\ntask: {name: reverse}\n"
	for _, tc := range []struct {
		text string
		sets []string
		want []string
	}{
		{base + "train: {clip: 1e-400}\n", nil,
			[]string{"exp.yaml:3: train.clip: the number 1e-400 is too small for a float64: it would read as 0 (write 0 if 0 is meant)"}},
		{base + "train: {clip: -2.5E-999}\n", nil,
			[]string{"exp.yaml:3: train.clip: the number -2.5E-999 is too small for a float64: it would read as 0 (write 0 if 0 is meant)"}},
		{base + "sweep:\n  grid:\n    train.clip: [1, .1e-330]\n", nil,
			[]string{"exp.yaml:5: sweep.grid.train.clip[1]: the number .1e-330 is too small for a float64: it would read as 0 (write 0 if 0 is meant)"}},
		{base + "train: {clip: 1__0e-999}\n", nil, // YAML drops the underscores
			[]string{"exp.yaml:3: train.clip: the number 1__0e-999 is too small for a float64: it would read as 0 (write 0 if 0 is meant)"}},
		// A sweep that leaves the key alone at some point does not hide it.
		{base + "train: {clip: 1e-400}\nsweep: {variants: [{name: a, train: {clip: 1}}, {name: b, train: {steps: 5}}]}\n", nil,
			[]string{"exp.yaml:3: train.clip: the number 1e-400 is too small for a float64: it would read as 0 (write 0 if 0 is meant)"}},
		{base, []string{"train.clip=3e-500"},
			[]string{"--set: train.clip: the number 3e-500 is too small for a float64: it would read as 0 (write 0 if 0 is meant)"}},
	} {
		got := loadErr(t, tc.text, tc.sets...)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q %q: errors %q\nwant %q", tc.text, tc.sets, got, tc.want)
		}
		_, _, err := loadText(t, tc.text, tc.sets...)
		if !OnlyLint(err) {
			t.Errorf("%q %q: OnlyLint(%v) = false, want true", tc.text, tc.sets, err)
		}
		path := filepath.Join(t.TempDir(), "exp.yaml")
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := load(testRegistries(t), path, tc.sets, LoadOptions{NoLint: true}); err != nil {
			t.Errorf("%q %q with NoLint: %v, want it loaded", tc.text, tc.sets, err)
		}
	}
	// A key that takes no number: its type is the problem, shown as
	// written; no "write 0 if 0 is meant".
	for _, tc := range []struct {
		text string
		sets []string
		want []string
	}{
		{base + "description: 1e-400\n", nil, []string{"exp.yaml:3: description: want string, got float 1e-400"}},
		// YAML has no hex floats: unquoted, 0x1p-2 is text all the same.
		{base + "train: {clip: 0x1p-2}\n", nil, []string{`exp.yaml:3: train.clip: want float, got string "0x1p-2" (YAML reads a hex float as text: write 0.25)`}},
		{base + "description: -1e-400\n", nil, []string{"exp.yaml:3: description: want string, got float -1e-400"}},
		{base, []string{"description=1e-400"}, []string{"--set: description: want string, got float 1e-400"}},
		{base + "eval: {decode: {strategy: 1e-400}}\n", nil, []string{"exp.yaml:3: eval.decode.strategy: want string, got float 1e-400"}},
		{base + "model: {name: seq2seq-rnn, attention: {name: multi-head, score: 1e-400}}\n", nil, []string{
			`exp.yaml:3: model.attention.score: want string, got float 1e-400 for attention "multi-head"`}},
		// A plugin's number keeps the lint.
		{base + "train: {optimizer: {name: adam, weight_decay: 1e-400}}\n", nil, []string{
			"exp.yaml:3: train.optimizer.weight_decay: the number 1e-400 is too small for a float64: it would read as 0 (write 0 if 0 is meant)"}},
	} {
		got := loadErr(t, tc.text, tc.sets...)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q %q: errors %q\nwant %q", tc.text, tc.sets, got, tc.want)
		}
	}
	for _, tc := range []struct {
		text string
		sets []string
	}{
		{base + "train: {clip: 0e-400}\n", nil},
		{base + "train: {clip: -0.000e-999}\n", nil},
		{base + "train: {clip: 5e-324}\n", nil},
		// Every sweep point sets the key: no run uses the 0.
		{base + "train: {clip: 1e-400}\nsweep:\n  grid:\n    train.clip: [1, 2]\n", nil},
		{base + "train: {clip: 1e-400}\nsweep: {variants: [{name: a, train: {clip: 1}}, {name: b, train: {clip: 2, steps: 5}}]}\n", nil},
		{base + "train: {clip: 1e-400}\n", []string{"sweep.grid.train.clip=[1,2]"}},
		{base + "train: {optimizer: {name: adam, weight_decay: 1e-400}}\nsweep:\n  grid:\n    train.optimizer.weight_decay: [0.1, 0.01]\n", nil},
		{base + "train: {clip: 0_0e-999}\n", nil},
		{base + "train: {clip: +0.e-400}\n", nil},
		{base + "train: {clip: .0}\n", nil},
		{base + "train: {clip: 1e-400}\n", []string{"train.clip=1"}},
		{base + "train: {clip: '1e-400'}\n", []string{"train.clip=2"}},
	} {
		if _, _, err := loadText(t, tc.text, tc.sets...); err != nil {
			t.Errorf("%q %q: %v, want it loaded", tc.text, tc.sets, err)
		}
	}
}

// countdownCtx is a context whose Err turns context.Canceled at its
// after-th call: an interrupt that comes in the middle of a load, at a
// point that does not depend on the machine's speed.
type countdownCtx struct {
	context.Context
	after, calls int
}

func (c *countdownCtx) Err() error {
	c.calls++
	if c.calls >= c.after {
		return context.Canceled
	}
	return nil
}

// Ctrl-C during the plan of a big sweep ends the load at the next point,
// not once every point is resolved (the command's 5 s grace).
func TestLoadStopsWhenCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exp.yaml")
	text := "name: big\ntask: {name: reverse}\nmodel: {attention: {name: dot}}\n" +
		"sweep: {grid: {model.embed: [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27], " +
		"train.clip: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}}\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := &countdownCtx{Context: context.Background(), after: 50} // mid-way through the 200 points
	_, err := load(testRegistries(t), path, nil, LoadOptions{Context: ctx})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("load with a context cancelled mid-plan: err = %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("err = %q, want the file named", err)
	}
	if ctx.calls > ctx.after+2 {
		t.Errorf("the load asked the context %d times after it was cancelled: it went on", ctx.calls-ctx.after)
	}
	// Never done: the same file loads.
	if _, err := load(testRegistries(t), path, nil, LoadOptions{Context: context.Background()}); err != nil {
		t.Fatal(err)
	}
}

// Ctrl-C while the data check reads and hashes a large corpus for its
// fingerprint, or measures it, ends the load there: the load asks its
// context at least every safein.ReadChunk bytes of the file and every
// tasks.TokenPiece bytes of each pass that tokenizes it (a corpus of a
// gigabyte took seconds to fingerprint and ten more to measure whatever
// the context said), and a load cancelled
// at any of its looks returns the context's error, never a problem of the
// data file's.
func TestLoadStopsWhileFingerprinting(t *testing.T) {
	dir := t.TempDir()
	line := "the quick brown fox jumps over the lazy dog again\n"
	big := strings.Repeat(line, 5*safein.ReadChunk/len(line)+7) // a bit over 5 chunks
	for name, text := range map[string]string{"small.txt": strings.Repeat(line, 20), "big.txt": big} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exp := func(corpus string) string {
		path := filepath.Join(dir, corpus+".yaml")
		text := "name: x\ntask: {name: text, path: " + corpus + ", tokenizer: word, context: 4}\nmodel: {name: lm-rnn}\nseeds: [1]\n"
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	never := 1 << 30
	calls := map[string]int{}
	for _, corpus := range []string{"small.txt", "big.txt"} {
		ctx := &countdownCtx{Context: context.Background(), after: never}
		if _, err := load(testRegistries(t), exp(corpus), nil, LoadOptions{Context: ctx}); err != nil {
			t.Fatalf("%s: %v", corpus, err)
		}
		calls[corpus] = ctx.calls
	}
	// Fingerprinting looks every ReadChunk bytes; measuring the corpus
	// (tasks.CheckData) every TokenPiece bytes of each of its two passes.
	if n, min := calls["big.txt"]-calls["small.txt"], len(big)/safein.ReadChunk+2*(len(big)/tasks.TokenPiece); n < min {
		t.Fatalf("a load of a %d-byte corpus asked its context %d times more than one of a line, want at least %d (every %d bytes read, every %d bytes of each tokenizing pass)",
			len(big), n, min, safein.ReadChunk, tasks.TokenPiece)
	}
	path := exp("big.txt")
	for after := 1; after <= calls["big.txt"]; after++ {
		ctx := &countdownCtx{Context: context.Background(), after: after}
		_, err := load(testRegistries(t), path, nil, LoadOptions{Context: ctx})
		var es Errors
		if !errors.Is(err, context.Canceled) || errors.As(err, &es) {
			t.Fatalf("load cancelled at the context's call %d of %d: err = %v, want context.Canceled alone", after, calls["big.txt"], err)
		}
	}
}

// A number made a string by an explicit !!str tag has no quotes to drop:
// the message says to drop the tag (and the quotes, when both are written).
func TestStrTagHint(t *testing.T) {
	text := "name: s\ntask: {name: reverse}\nmodel: {attention: {name: dot}, embed: !!str 16}\n" +
		"train: {steps: !!str 5, batch_size: !!str \"4\", clip: !!str 1.5, eval_every: \"7\"}\nseeds: [!!str 1]\n"
	got := loadErr(t, text)
	want := []string{
		`exp.yaml:3: model.embed: want int, got string "16" (the !!str tag makes it a string: drop the tag) for model "seq2seq-rnn"`,
		`exp.yaml:4: train.batch_size: want int, got string "4" (the !!str tag and the quotes make it a string: drop both)`,
		`exp.yaml:4: train.clip: want float, got string "1.5" (the !!str tag makes it a string: drop the tag)`,
		`exp.yaml:4: train.eval_every: want int, got string "7" (drop the quotes)`,
		`exp.yaml:4: train.steps: want int, got string "5" (the !!str tag makes it a string: drop the tag)`,
		`exp.yaml:5: seeds[0]: want int, got string "1" (the !!str tag makes it a string: drop the tag)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A swept value (grid, zip, variant) is described as the sweep wrote it.
	got = loadErr(t, "name: s\ntask: {name: reverse}\nmodel: {attention: {name: dot}}\ntrain: {steps: !!str 9}\nsweep:\n"+
		"  variants: [{name: a, train.steps: !!str \"5\"}, {name: b, train.steps: \"6\"}]\n"+
		"  grid: {train.batch_size: [!!str 4, 8]}\n  zip: {model.embed: [16, !!str 32]}\n")
	want = []string{
		`exp.yaml:6: train.steps: want int, got string "5" (the !!str tag and the quotes make it a string: drop both) (sweep point variant=a train.batch_size=4 model.embed=16 and 3 more)`,
		`exp.yaml:6: train.steps: want int, got string "6" (drop the quotes) (sweep point variant=b train.batch_size=4 model.embed=16 and 3 more)`,
		`exp.yaml:7: train.batch_size: want int, got string "4" (the !!str tag makes it a string: drop the tag) (sweep point variant=a train.batch_size=4 model.embed=16 and 3 more)`,
		`exp.yaml:8: model.embed: want int, got string "32" (the !!str tag makes it a string: drop the tag) for model "seq2seq-rnn" (sweep point variant=a train.batch_size=4 model.embed=32 and 3 more)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// --set: the last value of a key is the one described.
	got = loadErr(t, minimal, "train.steps=!!str 5", `train.batch_size=!!str 4`, `train.batch_size="4"`)
	want = []string{
		`--set: train.batch_size: want int, got string "4" (drop the quotes)`,
		`--set: train.steps: want int, got string "5" (the !!str tag makes it a string: drop the tag)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAsIntExact: asInt takes a whole number as exactly that number, and
// refuses one beyond an int (3e9 and 2^40 where int has 32 bits: int(3e9)
// would be -2^31 there, not an error), which tooLargeInt then says is too
// large: a whole number is never "want int, got int 3000000000".
func TestAsIntExact(t *testing.T) {
	for _, v := range []any{2.0, -7.0, 1<<53 - 1.0, 3e9, -3e9, float64(1 << 40), int64(3e9), int64(-3e9), int64(1 << 40), uint64(3e9), 1e20, uint64(1 << 63), 2.5} {
		f, _ := asFloat(v)
		whole := f == math.Trunc(f)
		inInt := whole && f >= math.MinInt && f <= math.MaxInt && math.Abs(f) < 1<<53
		if got, ok := asInt(v); ok != inInt || ok && float64(got) != f {
			t.Errorf("asInt(%T %v) = %d, %v; want %v, %v", v, v, got, ok, f, inInt)
		}
		if msg, big := tooLargeInt(nil, v); big != (whole && !inInt) {
			t.Errorf("tooLargeInt(%T %v) = %q, %v; want %v", v, v, msg, big, whole && !inInt)
		}
	}
}
