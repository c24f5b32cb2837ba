package hostile

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// tinyYAML is a seq2seq experiment that trains in well under a second.
const tinyYAML = `name: tiny
description: a tiny reversal
task: {name: reverse, symbols: 5, min_len: 3, max_len: 5, train_size: 64, valid_size: 16, test_size: 16}
model:
  name: seq2seq-rnn
  embed: 8
  encoder: {name: lstm, hidden: 8}
  attention: {name: additive}
train: {batch_size: 16, steps: 4, eval_every: 2, log_every: 2}
seeds: [1]
`

// tinyTransformer is a Transformer experiment as small.
const tinyTransformer = `name: tinyt
task: {name: copy, symbols: 5, min_len: 3, max_len: 5, train_size: 64, valid_size: 16, test_size: 16}
model:
  name: seq2seq-transformer
  d_model: 8
  ff: 16
  encoder_layers: 1
  decoder_layers: 1
  attention: {name: multi-head, heads: 2}
train: {batch_size: 16, steps: 4, eval_every: 2, log_every: 2}
seeds: [1]
`

// lmYAML is a character language model on lm.txt.
const lmYAML = `name: tinylm
task: {name: text, path: lm.txt, context: 8, valid_fraction: 0.1, test_fraction: 0.1}
model:
  name: lm-rnn
  embed: 8
  encoder: {name: lstm, hidden: 8}
train: {batch_size: 8, steps: 4, eval_every: 2, log_every: 2}
eval: {samples: 2}
seeds: [1]
`

// lmText is lm.txt.
var lmText = strings.Repeat("the quick brown fox jumps over the lazy dog. ", 40)

// pairsYAML is a word-level pairs experiment on pairs.tsv.
const pairsYAML = `name: pairs
task: {name: pairs, path: pairs.tsv, valid_fraction: 0.2, test_fraction: 0.2}
model:
  name: seq2seq-rnn
  embed: 8
  encoder: {name: lstm, hidden: 8}
  attention: {name: dot}
train: {batch_size: 4, steps: 4, eval_every: 2, log_every: 2}
seeds: [1]
`

// pairsTSV returns n distinct source<TAB>target lines.
func pairsTSV(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "w%d x%d y\tz%d y\n", i, i%7, i%5)
	}
	return b.String()
}

// The fixture run database: run 1 is tiny (done, with attention maps and
// samples), run 2 is tinylm (done). Built once by the binary under test.
var fixture struct {
	once sync.Once
	path string
	err  error
}

func fixtureDB(t *testing.T) string {
	t.Helper()
	fixture.once.Do(func() {
		bin := attnlabBinary(t)
		dir := filepath.Join(buildDir, "fixture")
		os.MkdirAll(dir, 0o755)
		for name, text := range map[string]string{"tiny.yaml": tinyYAML, "lm.yaml": lmYAML, "lm.txt": lmText} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				fixture.err = err
				return
			}
		}
		fixture.path = filepath.Join(dir, "lab.db")
		for _, exp := range []string{"tiny.yaml", "lm.yaml"} {
			cmd := exec.Command(bin, "run", exp, "--db", fixture.path, "-q")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "ATTNLAB_CRASH_DIR="+filepath.Join(dir, "crash"))
			if out, err := cmd.CombinedOutput(); err != nil {
				fixture.err = fmt.Errorf("fixture: attnlab run %s: %v\n%s", exp, err, out)
				return
			}
		}
	})
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	return fixture.path
}
