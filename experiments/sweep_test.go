package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/registry"
)

func labels(runs []Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = fmt.Sprintf("%d:%s", r.Seed, r.Label)
	}
	return out
}

func TestGrid(t *testing.T) {
	_, runs := mustLoad(t, `name: g
task: {name: reverse}
seeds: [1, 2]
sweep:
  grid:
    model.encoder.hidden: [32, 64, 128]
    model.attention.name: [dot, multi-head]
`)
	if len(runs) != 12 {
		t.Fatalf("%d runs, want 3 × 2 points × 2 seeds", len(runs))
	}
	// Grid keys in sorted order, the last varying fastest; seeds outermost.
	want := []string{
		"1:model.attention.name=dot model.encoder.hidden=32", "1:model.attention.name=dot model.encoder.hidden=64",
		"1:model.attention.name=dot model.encoder.hidden=128", "1:model.attention.name=multi-head model.encoder.hidden=32",
		"1:model.attention.name=multi-head model.encoder.hidden=64", "1:model.attention.name=multi-head model.encoder.hidden=128",
	}
	if got := labels(runs)[:6]; !slices.Equal(got, want) {
		t.Errorf("labels = %q\nwant %q", got, want)
	}
	for i, r := range runs {
		p := runs[i%6]
		if r.Index != i || r.Seed != 1+i/6 || r.Label != p.Label {
			t.Errorf("run %d: index %d seed %d label %q", i, r.Index, r.Seed, r.Label)
		}
		m := r.Config.Model
		if m.Attention.Name != r.Point["model.attention.name"] || m.Encoder.Params["hidden"] != r.Point["model.encoder.hidden"] {
			t.Errorf("run %d: config %s/%v, point %v", i, m.Attention.Name, m.Encoder.Params["hidden"], r.Point)
		}
		if m.Attention.Name == "multi-head" && m.Attention.Params["heads"] != 4 {
			t.Errorf("run %d: multi-head without its default heads: %v", i, m.Attention.Params)
		}
	}
	if got, want := VaryingKeys(runs), []string{"model.attention.dim", "model.attention.dropout", "model.attention.heads",
		"model.attention.name", "model.attention.score", "model.encoder.hidden"}; !slices.Equal(got, want) {
		t.Errorf("VaryingKeys = %q, want %q", got, want)
	}
}

func TestZip(t *testing.T) {
	_, runs := mustLoad(t, `name: z
task: {name: copy}
model: {attention: {name: additive}}
sweep:
  zip:
    model.encoder.hidden: [64, 128, 256]
    model.attention.dim: [8, 16, 32]
  grid: {train.batch_size: [16, 32]}
`)
	if len(runs) != 6 {
		t.Fatalf("%d runs, want 2 × 3", len(runs))
	}
	for i, r := range runs {
		row := i % 3
		hidden, dim := []int{64, 128, 256}[row], []int{8, 16, 32}[row]
		batch := []int{16, 32}[i/3]
		c := r.Config
		if c.Model.Encoder.Params["hidden"] != hidden || c.Model.Attention.Params["dim"] != dim || c.Train.BatchSize != batch {
			t.Errorf("run %d (%s): hidden %v dim %v batch %d, want %d %d %d", i, r.Label,
				c.Model.Encoder.Params["hidden"], c.Model.Attention.Params["dim"], c.Train.BatchSize, hidden, dim, batch)
		}
	}
}

func TestVariants(t *testing.T) {
	_, runs := mustLoad(t, `name: v
task: {name: reverse}
sweep:
  variants:
    - {name: mha4, model.attention.name: multi-head, model.attention.heads: 4}
    - {name: luong-feed, model.wiring: luong, model.input_feeding: true}
  grid: {train.optimizer.lr: [0.001, 0.0003]}
`)
	if got, want := labels(runs), []string{"1:variant=mha4 train.optimizer.lr=0.001", "1:variant=mha4 train.optimizer.lr=0.0003",
		"1:variant=luong-feed train.optimizer.lr=0.001", "1:variant=luong-feed train.optimizer.lr=0.0003"}; !slices.Equal(got, want) {
		t.Fatalf("labels = %q, want %q", got, want)
	}
	if p := runs[0].Point; p["variant"] != "mha4" || p["model.attention.heads"] != 4 || p["train.optimizer.lr"] != 0.001 {
		t.Errorf("point = %v", p)
	}
	mha, luong := runs[0].Config.Model, runs[2].Config.Model
	if mha.Attention.Name != "multi-head" || mha.Params["wiring"] != "bahdanau" {
		t.Errorf("mha4 model = %+v %+v", mha, mha.Attention)
	}
	if luong.Attention.Name != "additive" || luong.Params["wiring"] != "luong" || luong.Params["input_feeding"] != true {
		t.Errorf("luong-feed model = %+v", luong)
	}
}

const randomSweep = `name: r
task: {name: reverse}
sweep:
  random:
    samples: 6
    seed: %d
    params:
      train.optimizer.lr: {log_uniform: [1.0e-4, 1.0e-2]}
      model.embed: {choice: [32, 64]}
      train.clip: {uniform: [0.5, 5]}
      model.encoder.layers: {int: [1, 3]}
`

func TestRandom(t *testing.T) {
	_, a := mustLoad(t, fmt.Sprintf(randomSweep, 0))
	_, b := mustLoad(t, fmt.Sprintf(randomSweep, 0))
	_, c := mustLoad(t, fmt.Sprintf(randomSweep, 1))
	if len(a) != 6 {
		t.Fatalf("%d runs, want 6", len(a))
	}
	if !slices.Equal(labels(a), labels(b)) {
		t.Errorf("the same seed drew different points:\n%q\n%q", labels(a), labels(b))
	}
	if slices.Equal(labels(a), labels(c)) {
		t.Errorf("seeds 0 and 1 drew the same points: %q", labels(a))
	}
	seen := map[string]bool{}
	for _, r := range a {
		cfg := r.Config
		lr := cfg.Train.Optimizer.Params["lr"].(float64)
		layers := cfg.Model.Encoder.Params["layers"].(int)
		embed := cfg.Model.Params["embed"]
		if lr < 1e-4 || lr > 1e-2 || cfg.Train.Clip < 0.5 || cfg.Train.Clip > 5 || layers < 1 || layers > 3 || (embed != 32 && embed != 64) {
			t.Errorf("%s: out of the distributions", r.Label)
		}
		if s := fmt.Sprint(cfg.Train.Clip); len(strings.TrimLeft(strings.ReplaceAll(s, ".", ""), "0")) > 4 {
			t.Errorf("clip %s not rounded to 4 significant digits", s)
		}
		if seen[r.Label] {
			t.Errorf("sample %s drawn twice", r.Label)
		}
		seen[r.Label] = true
	}
}

func TestExcludeAndSeeds(t *testing.T) {
	_, runs := mustLoad(t, `name: e
task: {name: reverse}
seeds: [5, 6, 7]
sweep:
  grid: {model.attention.name: [none, dot, additive], train.optimizer.lr: [1.0e-3, 3.0e-4]}
  exclude: [{model.attention.name: none, train.optimizer.lr: 0.0003}]
`)
	if len(runs) != 15 {
		t.Fatalf("%d runs, want (6 - 1) × 3", len(runs))
	}
	for i, r := range runs {
		if r.Seed != []int{5, 6, 7}[i/5] || r.Config.Seed != r.Seed {
			t.Errorf("run %d seed %d/%d", i, r.Seed, r.Config.Seed)
		}
		if r.Config.Model.Attention.Name == "none" && r.Config.Train.Optimizer.Params["lr"] == 3e-4 {
			t.Errorf("run %d (%s) was excluded", i, r.Label)
		}
	}
	// The seed is part of the identity: no two runs share a hash.
	hashes := map[string]bool{}
	for _, r := range runs {
		hashes[r.Hash] = true
	}
	if len(hashes) != len(runs) {
		t.Errorf("%d distinct hashes for %d runs", len(hashes), len(runs))
	}
	_, variants := mustLoad(t, `name: e2
task: {name: reverse}
sweep:
  variants: [{name: a, model.embed: 16}, {name: b, model.embed: 32}]
  grid: {train.batch_size: [8, 16]}
  exclude: [{variant: a, train.batch_size: 8}]
`)
	if got, want := labels(variants), []string{"1:variant=a train.batch_size=16", "1:variant=b train.batch_size=8", "1:variant=b train.batch_size=16"}; !slices.Equal(got, want) {
		t.Errorf("labels = %q, want %q", got, want)
	}
}

func TestPointErrorsNameThePoint(t *testing.T) {
	got := loadErr(t, `name: p
task: {name: reverse}
sweep:
  grid:
    model.attention.name: [multi-head, dot]
    model.attention.heads: [2, 4]
`)
	want := []string{`exp.yaml:6: model.attention.heads: unknown key: attention "dot" takes no parameters (sweep point model.attention.heads=2 model.attention.name=dot and 1 more; sweep.variants sets keys for some points only)`}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %q\nwant %q", got, want)
	}
	// A value refused wherever it is set gets no hint, an item of a list
	// (its key eval.length_buckets[1]) too.
	got = loadErr(t, "name: p\ntask: {name: reverse}\nsweep: {grid: {eval.length_buckets: [[5, 1], [6, 1], [1, 2]]}}\n")
	want = []string{
		"exp.yaml:3: eval.length_buckets[1]: bucket bounds must increase, got 1 after 5 (sweep point eval.length_buckets=[5,1])",
		"exp.yaml:3: eval.length_buckets[1]: bucket bounds must increase, got 1 after 6 (sweep point eval.length_buckets=[6,1])",
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %q\nwant %q", got, want)
	}
	// A list a variant set, refused for an item, gets no hint either, as
	// any value a variant set: the same list passes at variant b, whose
	// positions are not learned, and variant c does not set the key.
	corpus := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(corpus, []byte(strings.Repeat("the quick brown fox jumps over the lazy dog\n", 400)), 0o644); err != nil {
		t.Fatal(err)
	}
	got = loadErr(t, `name: p
task: {name: text, path: `+corpus+`, context: 64}
model: {name: lm-transformer, positions: sinusoidal, attention: {name: dot}}
sweep:
  variants:
    - {name: a, eval.context: [32, 128], model.positions: learned}
    - {name: b, eval.context: [32, 128]}
    - {name: c, model.d_model: 32}
`)
	want = []string{"exp.yaml:6: eval.context[1]: 128: learned positions cannot extrapolate beyond the 64 positions they were trained on; use positions sinusoidal, rope, alibi, t5 or none (sweep point variant=a)"}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %q\nwant %q", got, want)
	}
	// An error of every point is reported once, without a point.
	got = loadErr(t, "name: p\ntask: {name: reverse}\ntrain: {batch_size: 0}\nsweep: {grid: {model.embed: [8, 16]}}\n")
	if want := []string{"exp.yaml:3: train.batch_size: must be in [1, 65536], got 0"}; !slices.Equal(got, want) {
		t.Errorf("errors = %q\nwant %q", got, want)
	}
	got = loadErr(t, "name: p\ntask: {name: reverse}\nsweep: {grid: {model.atention.name: [dot, none]}}\n")
	rnn, _ := models.Registry.Lookup("seq2seq-rnn")
	known := strings.Join(append(append([]string{"name"}, registry.Keys(rnn.Params)...), "encoder", "attention"), ", ")
	if want := []string{`exp.yaml:3: model.atention: unknown key for model "seq2seq-rnn" (known: ` + known + `): did you mean attention? (swept as model.atention.name)`}; !slices.Equal(got, want) {
		t.Errorf("errors = %q\nwant %q", got, want)
	}
}

func TestHashStability(t *testing.T) {
	base := `name: h
description: first
task: {name: reverse, max_len: 12}
model:
  embed: 32
  attention: {name: additive, dim: 16}
train: {optimizer: {name: adam, lr: 1.0e-3}, batch_size: 32}
`
	// Keys in another order, numbers written otherwise, another description.
	reordered := `train: {batch_size: 32.0, optimizer: {lr: 0.001, name: adam}}
model:
  attention: {dim: 16, name: additive}
  embed: 32
  name: seq2seq-rnn
task: {max_len: 12, name: reverse}
description: second
name: h
`
	_, a := mustLoad(t, base)
	_, b := mustLoad(t, base)
	_, c := mustLoad(t, reordered)
	if a[0].Hash != b[0].Hash || a[0].Hash != c[0].Hash || string(a[0].Canonical) != string(c[0].Canonical) {
		t.Fatalf("hashes %s %s %s; canonical\n%s\n%s", a[0].Hash, b[0].Hash, c[0].Hash, a[0].Canonical, c[0].Canonical)
	}
	seen := map[string]string{a[0].Hash: "base"}
	for _, set := range []string{
		"task.max_len=13", "model.embed=33", "model.attention.dim=17", "model.encoder.layers=2",
		"train.optimizer.lr=0.0011", "train.batch_size=33", "train.clip=0.5", "eval.decode.beam=4",
		"eval.length_buckets=[10, 20]", "seeds=[2]", "name=h2", "train.schedule.name=noam",
		"model.attention.name=multi-head", "train.early_stopping.metric=valid/bleu",
	} {
		_, r := mustLoad(t, base, set)
		if prev, dup := seen[r[0].Hash]; dup {
			t.Errorf("--set %s gives the hash of %s", set, prev)
		}
		seen[r[0].Hash] = set
	}
}

// TestSweepCostIsLinear loads a sweep of n and of 4n points, as variants
// and as grid values, well-formed and not (a malformed sweep has each value
// checked alone), and a grid of lists refused at every point:
// the bytes allocated grow about 4 times, not 16, as they did when each
// point copied the whole sweep (and plan kept every copy: 2,000 variants
// took 1.8 GB), when duplicate compared every pair of a list's values, and
// when each failing point looked at every other, and when each exclude map
// was compared with every point (n points, n-1 maps), or each point looked
// up in every group of maps naming the same keys (n-1 groups). Each value is a list of
// 40 numbers, so that the sweep is as heavy as a big one would be.
func TestSweepCostIsLinear(t *testing.T) {
	const head = "name: big\ntask: {name: reverse}\nmodel: {embed: 4, encoder: {name: lstm, hidden: 4}, attention: {name: dot}}\n"
	buckets := func(i int) string {
		b := make([]string, 40)
		for j := range b {
			b[j] = fmt.Sprint(i*100 + j + 1)
		}
		return "[" + strings.Join(b, ", ") + "]"
	}
	grid := func(n int) string {
		vals := make([]string, n)
		for i := range vals {
			vals[i] = buckets(i)
		}
		return "eval.length_buckets: [" + strings.Join(vals, ", ") + "]"
	}
	for _, tc := range []struct {
		name  string
		sweep func(n int) string
		bad   bool
		kept  int // runs left by exclude; 0: every point runs
	}{
		{"variants", func(n int) string {
			var b strings.Builder
			b.WriteString("sweep:\n  variants:\n")
			for i := range n {
				fmt.Fprintf(&b, "    - {name: v%d, eval.length_buckets: %s}\n", i, buckets(i))
			}
			return b.String()
		}, false, 0},
		{"grid", func(n int) string { return "sweep: {grid: {" + grid(n) + "}}\n" }, false, 0},
		{"malformed", func(n int) string {
			return "sweep: {grid: {" + grid(n) + "}, zip: {train.clip: [1, 2], train.log_every: [1]}}\n"
		}, true, 0},
		{"failing", func(n int) string {
			vals := make([]string, n)
			for i := range vals {
				vals[i] = strings.Replace(buckets(i), "[", fmt.Sprintf("[%d, ", 1000000-i), 1) // refused, each for its own first item
			}
			return "sweep: {grid: {eval.length_buckets: [" + strings.Join(vals, ", ") + "]}}\n"
		}, true, 0},
		{"exclude", func(n int) string { // every point but the first excluded, each by its own map
			var b strings.Builder
			b.WriteString("sweep:\n  grid: {" + grid(n) + "}\n  exclude:\n")
			for i := 1; i < n; i++ {
				fmt.Fprintf(&b, "    - {eval.length_buckets: %s}\n", buckets(i))
			}
			return b.String()
		}, false, 1},
		{"exclude key sets", func(n int) string { // as many sets of keys as maps
			fixed := []string{"eval.attention_maps: 4", "eval.max_examples: 0", "eval.samples: 8", "train.batch_size: 64",
				"train.clip: 1.0", "train.eval_every: 250", "train.label_smoothing: 0.0", "train.max_attempts: 3", "train.teacher_forcing: 1.0"}
			var b strings.Builder
			b.WriteString("sweep:\n  grid: {train.log_every: [")
			for i := range n {
				fmt.Fprintf(&b, "%d, ", i+1)
			}
			for _, f := range fixed {
				k, v, _ := strings.Cut(f, ": ")
				fmt.Fprintf(&b, "], %s: [%s", k, v)
			}
			b.WriteString("]}\n  exclude:\n")
			for i := 1; i < n; i++ {
				fmt.Fprintf(&b, "    - {train.log_every: %d", i+1)
				for j, f := range fixed {
					if i>>j&1 == 1 {
						b.WriteString(", " + f)
					}
				}
				b.WriteString("}\n")
			}
			return b.String()
		}, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alloc := func(n int) uint64 {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, runs, err := loadText(t, head+tc.sweep(n))
				runtime.ReadMemStats(&after)
				want := n
				if tc.kept > 0 {
					want = tc.kept
				}
				if tc.bad != (err != nil) || !tc.bad && len(runs) != want {
					t.Fatalf("%d points: %d runs, error %v", n, len(runs), err)
				}
				return after.TotalAlloc - before.TotalAlloc
			}
			small, large := alloc(100), alloc(400)
			if r := float64(large) / float64(small); r > 6 {
				t.Errorf("100 points allocate %d bytes, 400 points %d: %.1f times as much, want about 4 (linear)", small, large, r)
			}
		})
	}
}

// sameValue is the rule exclude maps were matched by before they were
// grouped by key (and duplicate values found before they were keyed),
// kept here as the reference: numbers by value (1 equals 1.0), anything
// else by formatted value and Go type.
func sameValue(a, b any) bool {
	fa, oka := asFloat(a)
	fb, okb := asFloat(b)
	if oka && okb {
		return fa == fb
	}
	return FormatValue(a) == FormatValue(b) && fmt.Sprintf("%T", a) == fmt.Sprintf("%T", b)
}

func pointsText(pts []*point) string {
	var b strings.Builder
	for _, p := range pts {
		fmt.Fprintf(&b, "{variant %q %v} ", p.variant, p.values)
	}
	return b.String()
}

// pairwiseMatches is the reference matcher: the point has every key of
// the exclude map ("variant": its variant's name), each with the same
// value by sameValue.
func pairwiseMatches(p *point, ru rule) bool {
	for k, want := range ru.values {
		var got any
		if k == "variant" {
			got = p.variant
		} else {
			var ok bool
			if got, ok = p.values[k]; !ok {
				return false
			}
		}
		if !sameValue(got, want) {
			return false
		}
	}
	return true
}

// TestExcluderMatchesPairwise draws random points and exclude maps from
// values that sameValue finds alike in tricky ways (1, 1.0, int64 and
// uint64 1, -0 and 0, NaN, "1", null, lists and maps holding those) and
// checks that the keyed matcher, in each of its two ways and the choice
// between them, drops the points and reports the maps the pairwise rule
// does (for all the points, and for each point alone: exactly the maps it
// matches), and that valueKey agrees with sameValue on every pair of
// values.
func TestExcluderMatchesPairwise(t *testing.T) {
	nan := math.NaN()
	// 2^53+1, which no float64 holds, as an int; where int has 32 bits, as
	// an int64 (converted at run time, so that 32-bit builds compile).
	var big any = int64(1<<53 + 1)
	if math.MaxInt > 1<<53 {
		big = int(big.(int64))
	}
	pool := []any{
		1, 1.0, int64(1), uint64(1), 2, 2.5, 0, 0.0, math.Copysign(0, -1), int64(0), nan, math.Inf(1), math.Inf(-1),
		big, float64(1 << 53), float64(1<<53) + 2, "1", "1.0", "0", "NaN", "", "a", "b", "null", "true", nil, true, false,
		[]any{1}, []any{1.0}, []any{"1"}, []any{nan}, []any{nan}, []any{math.Copysign(0, -1)}, []any{0}, []any{},
		map[string]any{"a": 1}, map[string]any{"a": 1.0}, map[string]any{"a": "1"}, map[string]any{"a": nan}, map[string]any{},
	}
	for i, a := range pool {
		ka, oka := valueKey(a)
		for j, b := range pool {
			kb, okb := valueKey(b)
			if got, want := oka && okb && ka == kb, sameValue(a, b); got != want {
				t.Errorf("valueKey(%#v) = %q, %v and valueKey(%#v) = %q, %v: same %v, but sameValue = %v (pool %d, %d)", a, ka, oka, b, kb, okb, got, want, i, j)
			}
		}
	}
	// Joined keys must not run into each other: with values written so
	// that, joined plainly, "x:string y" + "z" reads as "x" + "y:string z".
	// (The one point is looked up only when it has the map's values, so
	// joinKeys, which the lookup uses, is checked on its own too.)
	split := newExcluder([]rule{{values: map[string]any{"model.embed": "x", "train.lr": "y:string z"}}})
	if _, got := split.apply([]*point{{values: map[string]any{"model.embed": "x:string y", "train.lr": "z"}}}); got[0] {
		t.Errorf("model.embed=x:string y, train.lr=z matched exclude {model.embed: x, train.lr: y:string z}")
	}
	key := func(vs ...any) string {
		var ks []string
		for _, v := range vs {
			k, _ := valueKey(v)
			ks = append(ks, k)
		}
		return joinKeys(ks)
	}
	if a, b := key("x", "y:string z"), key("x:string y", "z"); a == b {
		t.Errorf("joinKeys of the value keys of x, y:string z and of x:string y, z: both %q", a)
	}
	keys := []string{"model.embed", "train.lr", "task.name", "eval.buckets"}
	names := []any{"a", "b", "c", "1", ""}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(vals []any) any { return vals[rng.IntN(len(vals))] }
	matched := 0
	for trial := range 300 {
		var pts []*point
		for range 1 + rng.IntN(12) {
			p := &point{values: map[string]any{}, variant: pick(names).(string)}
			for _, k := range keys {
				if rng.IntN(4) > 0 { // a variant may leave a key out
					p.values[k] = pick(pool)
				}
			}
			pts = append(pts, p)
		}
		var rules []rule
		for range rng.IntN(12) {
			ru := rule{values: map[string]any{}}
			for _, k := range append([]string{"variant"}, keys...) {
				if rng.IntN(3) > 0 {
					continue
				}
				if k == "variant" {
					ru.values[k] = pick(append(names, 1, nil))
				} else if rng.IntN(2) == 0 && len(pts) > 0 {
					if v, ok := pts[rng.IntN(len(pts))].values[k]; ok {
						ru.values[k] = v // often one a point has: a match
						continue
					}
					ru.values[k] = pick(pool)
				} else {
					ru.values[k] = pick(pool)
				}
			}
			rules = append(rules, ru)
		}
		wantDropped := make([]bool, len(pts))
		wantMatched := make([]bool, len(rules))
		for i, p := range pts {
			for r, ru := range rules {
				if pairwiseMatches(p, ru) {
					wantDropped[i], wantMatched[r] = true, true
					matched++
				}
			}
		}
		ex := newExcluder(rules)
		{ // each group matched the cheaper way: points of 1 to 12 and maps of 0 to 12 take both
			dropped, got := ex.apply(pts)
			if !slices.Equal(dropped, wantDropped) || !slices.Equal(got, wantMatched) {
				t.Fatalf("trial %d: keyed: points dropped %v, maps matched %v; pairwise: %v, %v; points %v, exclude %v",
					trial, dropped, got, wantDropped, wantMatched, pointsText(pts), rules)
			}
			// One point at a time: exactly the maps it matches.
			for i, p := range pts {
				_, got := ex.apply([]*point{p})
				for r, ru := range rules {
					if want := pairwiseMatches(p, ru); got[r] != want {
						t.Fatalf("trial %d: point %v (variant %q) matches exclude %v: keyed %v, pairwise %v", trial, pts[i].values, p.variant, ru.values, got[r], want)
					}
				}
			}
		}
	}
	if matched < 100 {
		t.Errorf("%d matches in all: the draws test too little", matched)
	}
	t.Logf("%d matches", matched)
}

// A zip list of one value is "1 value", not "1 values".
func TestZipLengthMessage(t *testing.T) {
	got := loadErr(t, minimal+"sweep: {zip: {model.embed: [16, 32], train.steps: [5]}}\n")
	want := []string{"exp.yaml:4: sweep.zip.train.steps: zip lists must have one length: 1 value here, 2 for model.embed"}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
}

// Ctrl-C while a pathological exclude (thousands of key sets over
// thousands of points: seconds) is matched: apply asks stop before each
// set of keys and gives up, returning nil, once it reports true.
func TestExcluderStops(t *testing.T) {
	var rules []rule
	for _, k := range []string{"model.embed", "train.lr", "task.name"} {
		rules = append(rules, rule{values: map[string]any{k: 1}})
	}
	pts := []*point{{values: map[string]any{"model.embed": 1, "train.lr": 1, "task.name": 1}}}
	ex := newExcluder(rules)
	asked := 0
	ex.stop = func() bool { asked++; return asked >= 2 }
	if dropped, matched := ex.apply(pts); dropped != nil || matched != nil {
		t.Errorf("apply stopped at the second of 3 key sets: dropped %v, matched %v, want nil, nil", dropped, matched)
	}
	if asked != 2 {
		t.Errorf("apply asked stop %d times, want 2 (it went on once stopped)", asked)
	}
	ex.stop = func() bool { return false }
	if dropped, matched := ex.apply(pts); !slices.Equal(dropped, []bool{true}) || !slices.Equal(matched, []bool{true, true, true}) {
		t.Errorf("apply never stopped: dropped %v, matched %v, want [true], [true true true]", dropped, matched)
	}
}
