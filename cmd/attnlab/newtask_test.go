package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
)

// The throwaway tasks of TestNewTaskIsOneFile: what a new task's own file
// holds — a parameter struct whose tags document and bound its keys, a
// factory, one registration — and nothing anywhere else.

// echoParams are the parameters of echo_test.
type echoParams struct {
	Size int `yaml:"size" doc:"examples in each split" range:"[1,1000]"`
}

// echoTask builds a tiny sequence-to-sequence task: the output is the
// input.
func echoTask(p any, _ tasks.Options) (*tasks.Dataset, error) {
	n := p.(*echoParams).Size
	var seqs [][]string
	for i := range n {
		seqs = append(seqs, strings.Split(string(rune('a'+i%5))+string(rune('a'+i/5%5)), ""))
	}
	v := tasks.BuildVocab(seqs, 1, 0)
	var ex []tasks.Example
	for _, s := range seqs {
		ex = append(ex, tasks.Example{Src: v.Encode(s), Tgt: v.Encode(s), Ref: strings.Join(s, "")})
	}
	return &tasks.Dataset{Name: "echo_test", SrcVocab: v, TgtVocab: v, SrcTok: tasks.Char{}, TgtTok: tasks.Char{},
		Train: tasks.ListOf(ex), Valid: tasks.ListOf(ex[:2]), Test: tasks.ListOf(ex[:2])}, nil
}

// abcTask builds a tiny language-modelling task: "abcabc...".
func abcTask(p any, _ tasks.Options) (*tasks.Dataset, error) {
	n := p.(*echoParams).Size
	seq := strings.Split(strings.Repeat("abc", 4), "")
	v := tasks.BuildVocab([][]string{seq}, 1, 0)
	var ex []tasks.Example
	for range n {
		ex = append(ex, tasks.Example{Tgt: v.Encode(seq), Ref: strings.Join(seq, "")})
	}
	return &tasks.Dataset{Name: "abc_test", LM: true, SrcVocab: v, TgtVocab: v, SrcTok: tasks.Char{}, TgtTok: tasks.Char{},
		Train: tasks.ListOf(ex), Valid: tasks.ListOf(ex[:1]), Test: tasks.ListOf(ex[:1])}, nil
}

// TestNewTaskIsOneFile: a task registered as its own file would register
// it (above) appears in attnlab list with its documented, bounded
// parameters, is validated by plan (its range, unknown keys, its
// language-modelling capability against the model), and trains. Both
// registrations are undone at the end; the test is not parallel, so no
// other test sees them.
func TestNewTaskIsOneFile(t *testing.T) {
	tasks.Registry.Register(registry.Entry[tasks.Factory]{Name: "echo_test", Doc: "echo the input (a throwaway task of a test)",
		Params: &echoParams{Size: 20}, New: echoTask})
	tasks.Registry.Register(registry.Entry[tasks.Factory]{Name: "abc_test", Doc: "model abcabc (a throwaway language-modelling task of a test)",
		Params: &echoParams{Size: 20}, New: abcTask, Caps: []registry.Capability{tasks.LanguageModel}})
	t.Cleanup(func() {
		tasks.Registry.Unregister("echo_test")
		tasks.Registry.Unregister("abc_test")
	})

	r := attnlab(t, "list", "tasks")
	wantOK(t, r)
	for _, w := range []string{"echo_test", "echo the input (a throwaway task of a test)", "abc_test", "examples in each split", "[1, 1000]"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("attnlab list tasks does not show %q:\n%s", w, r.stdout)
		}
	}

	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	echo := write("echo.yaml", "name: echo\ntask: {name: echo_test, size: 10}\nmodel:\n  name: seq2seq-rnn\n  embed: 8\n  encoder: {name: lstm, hidden: 8}\n  attention: {name: dot}\n"+
		"train: {batch_size: 4, steps: 4, eval_every: 2, log_every: 2}\nseeds: [1]\n")
	abc := write("abc.yaml", "name: abc\ntask: {name: abc_test}\nmodel:\n  name: lm-rnn\n  embed: 8\n  encoder: {name: lstm, hidden: 8}\n"+
		"train: {batch_size: 4, steps: 4, eval_every: 2, log_every: 2}\nseeds: [1]\n")
	wantOK(t, attnlab(t, "plan", echo))
	wantOK(t, attnlab(t, "plan", abc))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", echo, "--set", "task.size=0"}, `--set: task.size: must be in [1, 1000], got 0 for task "echo_test"`},
		{[]string{"plan", echo, "--set", "task.sise=3"}, `--set: task.sise: unknown key for task "echo_test" (known: name, size): did you mean size?`},
		{[]string{"plan", abc, "--set", "model={name: seq2seq-rnn, embed: 8, encoder: {name: lstm, hidden: 8}}"}, `abc_test`},
	} {
		r := attnlab(t, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.stderr, exitUsage, tc.want)
		}
	}
	db := filepath.Join(dir, "lab.db")
	wantOK(t, attnlab(t, "run", echo, "--db", db, "--quiet"))
	wantOK(t, attnlab(t, "run", abc, "--db", db, "--quiet"))
}
