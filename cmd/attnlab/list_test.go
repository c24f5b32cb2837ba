package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/experiments"
	goldenfile "github.com/attnlab/attnlab/internal/golden"
	"github.com/attnlab/attnlab/models"
)

// TestList checks that `attnlab list` documents everything, whatever is
// registered: every key of the format reference and every entry of every
// registry with all its parameters, in lines that fit 80 columns (--width).
func TestList(t *testing.T) {
	t.Setenv("COLUMNS", "")
	r := attnlab(t, "list", "--width", "80")
	wantOK(t, r)
	for i, line := range strings.Split(r.stdout, "\n") {
		if w := width(line); w > 80 {
			t.Errorf("line %d is %d columns wide (max 80): %q", i+1, w, line)
		}
	}
	for _, s := range experiments.Reference() {
		if !strings.Contains(r.stdout, strings.ToUpper(s.Name)+": ") {
			t.Errorf("list lacks the section %s", s.Name)
		}
		for _, k := range s.Keys {
			name := strings.TrimPrefix(k.Key, s.Name+".")
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + `\s`).MatchString(r.stdout) {
				t.Errorf("list lacks the key %s", k.Key)
			}
		}
	}
	for _, st := range experiments.Sites {
		if !strings.Contains(r.stdout, strings.ToUpper(st.List)+": "+st.Path+": ") {
			t.Errorf("list lacks the site %s", st.Path)
		}
		for _, e := range st.Catalog.Infos() {
			if !strings.Contains(r.stdout, "\n"+e.Name+"  ") {
				t.Errorf("list lacks %s %s", st.Path, e.Name)
			}
			for _, p := range e.Params {
				if !strings.Contains(r.stdout, "\n  "+p.Name+" ") {
					t.Errorf("list lacks the parameter %s of %s %s", p.Name, st.Path, e.Name)
				}
			}
		}
	}
}

// TestListGolden pins the layout of the format's sections and of one
// registry entry, at 80 columns (--width).
func TestListGolden(t *testing.T) {
	t.Setenv("COLUMNS", "")
	for _, tc := range []struct {
		file string
		args []string
	}{
		{"list_experiment.golden", []string{"list", "experiment", "--width", "80"}},
		{"list_train.golden", []string{"list", "train", "--width", "80"}},
		{"list_eval.golden", []string{"list", "eval", "--width", "80"}},
		{"list_sweep.golden", []string{"list", "sweep", "--width", "80"}},
		{"list_task_copy.golden", []string{"list", "task", "copy", "--width", "80"}},
		{"list_key.golden", []string{"list", "train.early_stopping.mode", "--width", "80"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r := attnlab(t, tc.args...)
			wantOK(t, r)
			golden(t, tc.file, r.stdout)
		})
	}
}

// TestListWidths lays everything out at several widths: no line is wider,
// and narrow widths switch to one line per key with the doc under it.
func TestListWidths(t *testing.T) {
	for _, cols := range []int{40, 60, 80, 100} {
		var b bytes.Buffer
		if err := writeList(&b, cols, nil); err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(b.String(), "\n") {
			// A single word longer than the line may overflow it.
			if w := width(line); w > cols && strings.Contains(strings.TrimSpace(line), " ") {
				t.Errorf("%d columns: line %d is %d wide: %q", cols, i+1, w, line)
			}
		}
		stacked := strings.Contains(b.String(), "\n  batch_size (int, default 64)\n")
		if want := cols < 60; stacked != want && cols != 60 {
			t.Errorf("%d columns: stacked layout %v, want %v", cols, stacked, want)
		}
	}
}

// TestListWidthFlag: list honours the global --width over $COLUMNS, and
// lays out at most 100 columns whatever it is given.
func TestListWidthFlag(t *testing.T) {
	t.Setenv("COLUMNS", "90")
	for _, tc := range []struct{ flag, want int }{{50, 50}, {80, 80}, {0, 90}, {300, 100}} {
		args := []string{"list", "train"}
		if tc.flag > 0 {
			args = append(args, "--width", fmt.Sprint(tc.flag))
		}
		r := attnlab(t, args...)
		wantOK(t, r)
		widest := 0
		for _, line := range strings.Split(r.stdout, "\n") {
			widest = max(widest, width(line))
		}
		// The widest line of the training section nearly fills the width.
		if widest > tc.want || widest < tc.want-8 {
			t.Errorf("list train --width %d with COLUMNS=90: widest line %d columns, want about %d", tc.flag, widest, tc.want)
		}
	}
}

func TestListKind(t *testing.T) {
	t.Setenv("COLUMNS", "")
	r := attnlab(t, "list", "attention")
	wantOK(t, r)
	for _, name := range experiments.Sites[3].Catalog.Names() {
		if !strings.Contains(r.stdout, "\n"+name+"  ") {
			t.Errorf("list attention lacks %s", name)
		}
	}
	if strings.Contains(r.stdout, "seq2seq-rnn") || strings.Contains(r.stdout, "TRAIN:") {
		t.Errorf("list attention lists more than attention")
	}
	// Singular names and paths work too, and NAME picks one entry.
	for _, what := range []string{"model", "models", "MODEL"} {
		one := attnlab(t, "list", what, "seq2seq-rnn")
		wantOK(t, one)
		if !strings.Contains(one.stdout, "(rnn-decoder; reads model.encoder and model.attention)") ||
			!strings.Contains(one.stdout, "  wiring ") || strings.Contains(one.stdout, "lm-rnn") {
			t.Errorf("list %s seq2seq-rnn:\n%s", what, one.stdout)
		}
	}
	for _, e := range models.Registry.Entries() {
		for _, p := range e.Describe() {
			if e.Name == "seq2seq-rnn" && !strings.Contains(attnlab(t, "list", "models").stdout, "  "+p.Name+" ") {
				t.Errorf("list model seq2seq-rnn lacks the parameter %s", p.Name)
			}
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "atention"}, `attnlab: list: unknown kind "atention" (known: experiment, train, eval, sweep, tasks, models, encoders, attention, scores, heads, head-scores, optimizers, schedules, or a key such as train.batch_size)`},
		{[]string{"list", "models", "rnn"}, `attnlab: list: model: unknown name "rnn" (known: lm-rnn, lm-transformer, seq2seq-rnn, seq2seq-transformer)`},
		{[]string{"list", "train", "x"}, `attnlab: list: train is a part of the format, not a registry: give no NAME`},
		{[]string{"list", "--markdown", "train"}, `attnlab: list: --markdown writes the whole reference: give no WHAT`},
	} {
		r := attnlab(t, tc.args...)
		if r.code != exitUsage || strings.TrimSpace(r.stderr) != tc.want {
			t.Errorf("%v: exit %d, stderr %q; want exit %d, %q", tc.args, r.code, r.stderr, exitUsage, tc.want)
		}
	}
}

// The README's configuration reference is `attnlab list --markdown`; -update
// rewrites it.
const (
	refBegin = "<!-- BEGIN configuration reference: generated by `attnlab list --markdown`; `go test ./cmd/attnlab -run TestReadmeReference -update` rewrites it -->\n"
	refEnd   = "<!-- END configuration reference -->\n"
)

func TestReadmeReference(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, refBegin), strings.Index(readme, refEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers of the configuration reference:\n%s%s", refBegin, refEnd)
	}
	r := attnlab(t, "list", "--markdown")
	wantOK(t, r)
	got := readme[:i+len(refBegin)] + r.stdout + readme[j:]
	if got == readme {
		return
	}
	if *goldenfile.Update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's configuration reference is out of date: go test ./cmd/attnlab -run TestReadmeReference -update rewrites it\n--- want\n%s", r.stdout)
}

// TestListEveryKey: `attnlab list KEY` documents every key of the format,
// the plugins' parameters and names included, each alone.
func TestListEveryKey(t *testing.T) {
	keys := map[string]string{} // key → what its output must hold
	for _, s := range experiments.Reference() {
		for _, k := range s.Keys {
			keys[k.Key] = k.Key[strings.LastIndexByte(k.Key, '.')+1:]
		}
	}
	for _, st := range experiments.Sites {
		keys[st.Path+".name"] = st.Catalog.Names()[0]
		for _, e := range st.Catalog.Infos() {
			for _, p := range e.Params {
				key := st.Path + "." + p.Name
				if sub, ok := experiments.Sites.At(key); ok { // a nested block: its registry
					keys[key] = strings.ToUpper(sub.List) + ": " + key
				} else {
					keys[key] = "\n" + e.Name + "  "
				}
			}
		}
	}
	for key, want := range keys {
		var b bytes.Buffer
		if err := writeList(&b, 80, []string{key}); err != nil {
			t.Errorf("list %s: %v", key, err)
		} else if !strings.Contains(b.String(), want) {
			t.Errorf("list %s lacks %q:\n%s", key, want, b.String())
		}
	}
	if len(keys) < 100 {
		t.Errorf("%d keys, want more than 100", len(keys))
	}
}

// TestListKey pins what list prints for plugin keys, and its errors for
// unknown keys: one line listing the keys close to the one given.
func TestListKey(t *testing.T) {
	t.Setenv("COLUMNS", "")
	for _, tc := range []struct {
		args []string
		want []string // lines of the output, in order
		not  []string
	}{
		{[]string{"list", "model.attention.heads"}, []string{"ATTENTION: model.attention: ", "model.attention.heads is a parameter of the attention multi-head; not of additive,", "\nmulti-head  ", "\n  heads  int  4 "}, []string{"\nadditive  "}},
		{[]string{"list", "task.path"}, []string{"TASKS: task: ", "task.path is a parameter of 2 tasks: pairs, text; not of", "\npairs  ", "\n  path ", "\ntext  "}, []string{"\ncopy  "}},
		{[]string{"list", "model.hidden"}, []string{"model.hidden is a parameter of the model seq2seq-rnn; not of lm-rnn,", "(see also model.encoder.hidden)", "\nseq2seq-rnn  ", "\n  hidden "}, []string{"\n  wiring "}},
		{[]string{"list", "model.hidden", "seq2seq-rnn"}, []string{"\nseq2seq-rnn  ", "\n  hidden "}, []string{"is a parameter of"}},
		{[]string{"list", "train.optimizer.lr"}, []string{"3 optimizers: adam, adamw, sgd", "\nadam  ", "\nadamw  ", "\nsgd  "}, []string{"\n  betas"}},
		{[]string{"list", "model.attention.name"}, []string{"  model.attention  plugin  additive ", "model.attention.name: one of additive, chunked,"}, nil},
		{[]string{"list", "sweep.grid.model.attention.heads"}, []string{"\n  grid  map ", "\nmulti-head  "}, nil},
	} {
		r := attnlab(t, append(tc.args, "--width", "100")...)
		wantOK(t, r)
		rest := r.stdout
		for _, w := range tc.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%v lacks %q (after what came before):\n%s", tc.args, w, r.stdout)
				break
			}
			rest = rest[i+len(w):]
		}
		for _, n := range tc.not {
			if strings.Contains(r.stdout, n) {
				t.Errorf("%v holds %q:\n%s", tc.args, n, r.stdout)
			}
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "sweep.seeds"}, `attnlab: list: unknown key "sweep.seeds" (close: seeds, sweep.random.seed)`},
		{[]string{"list", "model.hiden"}, `attnlab: list: unknown key "model.hiden": no model entry has a parameter hiden (close: model.hidden, model.encoder.hidden)`},
		{[]string{"list", "train.batch"}, `attnlab: list: unknown key "train.batch" (close: train.batch_size)`},
		{[]string{"list", "foo.bar"}, `attnlab: list: unknown key "foo.bar" (attnlab list shows every key)`},
		{[]string{"list", "model.hidden", "seq2seq-transformer"}, `attnlab: list: model seq2seq-transformer has no parameter hidden (its parameters: d_model, ff, encoder_layers, decoder_layers, dropout, norm, positions, activation, tie_embeddings, scale_embeddings, max_len)`},
		{[]string{"list", "model.hidden", "rnn"}, `attnlab: list: model: unknown name "rnn" (known: lm-rnn, lm-transformer, seq2seq-rnn, seq2seq-transformer)`},
		{[]string{"list", "train.batch_size", "x"}, `attnlab: list: train.batch_size is a key of the format, not a registry: give no NAME`},
	} {
		r := attnlab(t, tc.args...)
		if r.code != exitUsage || strings.TrimSpace(r.stderr) != tc.want {
			t.Errorf("%v: exit %d, stderr %q; want exit %d, %q", tc.args, r.code, r.stderr, exitUsage, tc.want)
		}
	}
}
