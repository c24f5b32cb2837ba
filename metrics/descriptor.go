package metrics

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Direction says which way a metric improves.
type Direction int

// Directions. The values are the sign of "better": comparing a and b of a
// metric with direction d, a is better when d·(a−b) > 0.
const (
	NoDirection    Direction = 0  // neither way is better (an attention entropy, a step)
	HigherIsBetter Direction = 1  // accuracy, BLEU, throughput
	LowerIsBetter  Direction = -1 // loss, perplexity, time, size
)

// String returns "higher", "lower" or "none".
func (d Direction) String() string {
	switch d {
	case HigherIsBetter:
		return "higher"
	case LowerIsBetter:
		return "lower"
	}
	return "none"
}

// Kind says what a metric measures, which decides how runs are compared on
// it.
type Kind int

// Kinds.
const (
	// Quality is how well a model does its task (losses, accuracies, BLEU,
	// attention diagnostics): differences between settings are tested
	// across seeds.
	Quality Kind = iota
	// Cost is what a run costs (time, throughput, steps): measured on a
	// shared machine, so it is reported as mean ± std and not tested by
	// default.
	Cost
	// Constant is a property of the configuration (parameter count,
	// learning rate): the same for every seed, so never tested.
	Constant
)

// String returns "quality", "cost" or "constant".
func (k Kind) String() string {
	switch k {
	case Cost:
		return "cost"
	case Constant:
		return "constant"
	}
	return "quality"
}

// Scale is the range of a metric's values: Min ≤ v ≤ Max (Max may be +Inf),
// in Unit ("" for a plain number or a fraction).
type Scale struct {
	Min, Max float64
	Unit     string
}

// String returns the range as people write it: "0–1", "0–100", "≥ 1",
// "≥ 0 nats".
func (s Scale) String() string {
	var r string
	if math.IsInf(s.Max, 1) {
		r = fmt.Sprintf("≥ %g", s.Min)
	} else {
		r = fmt.Sprintf("%g–%g", s.Min, s.Max)
	}
	if s.Unit != "" {
		r += " " + s.Unit
	}
	return r
}

// Descriptor describes one metric key.
type Descriptor struct {
	Key       string // the key described: test/exact_match/len_21_40, best/valid/loss
	Name      string // the metric's name in the table: exact_match, loss
	Doc       string // one line: what the value is
	Direction Direction
	Kind      Kind
	Scale     Scale
	// Known is false for a key the table does not describe; such a key has
	// NoDirection and kind Quality.
	Known bool
}

// metric is one entry of the table: a metric name and the first key
// segments (splits) under which runs record it.
type metric struct {
	name    string
	splits  []string // train, valid, test, perf, model, best
	buckets bool     // also recorded per length bucket, on the test split: test/NAME/len_LO_HI
	context bool     // also recorded at evaluation context lengths: test/NAME@N
	doc     string
	// bucketDoc, when set, describes a bucket's key (test/NAME/len_LO_HI)
	// in place of doc followed by bucketDoc's words.
	bucketDoc string
	dir       Direction
	kind      Kind
	scale     Scale
}

var (
	unit     = Scale{0, 1, ""}
	nonNeg   = func(u string) Scale { return Scale{0, math.Inf(1), u} }
	evalSets = []string{"valid", "test"}
)

// table is the one place that says what each metric key means. A metric
// key is SPLIT/NAME, SPLIT/NAME/len_LO_HI for a per-length-bucket value
// (see LengthBucket), or best/KEY for the best value of KEY over a run's
// evaluations. Adding a metric is one entry here (and a case in its test);
// a TextMetric describes itself when it registers.
var table = []metric{
	{name: "loss", splits: []string{"train", "valid", "test"}, context: true, dir: LowerIsBetter, kind: Quality, scale: nonNeg("nats"),
		doc: "mean cross-entropy per non-pad target token (train: the last logged steps; @N: of a language model given windows of N tokens of context, eval.context)"},
	{name: "ppl", splits: evalSets, dir: LowerIsBetter, kind: Quality, scale: Scale{1, math.Inf(1), ""},
		doc: "perplexity, exp(loss)"},
	{name: "token_acc", splits: evalSets, dir: HigherIsBetter, kind: Quality, scale: unit,
		doc: "teacher-forced next-token accuracy over non-pad target tokens, the end token included"},
	{name: "exact_match", splits: evalSets, buckets: true, dir: HigherIsBetter, kind: Quality, scale: unit,
		doc: "fraction of decoded outputs equal to the reference"},
	{name: "examples", splits: []string{"test", "train"}, buckets: true, dir: NoDirection, kind: Constant, scale: nonNeg(""),
		doc:       "test examples decoded and scored, per bucket those whose source length is in it (train/examples/len_*: the training examples per bucket, which plot length shades); a property of the data, which the seed draws for generated tasks",
		bucketDoc: "test examples whose source length (in tokens) is in the bucket, len_LO_HI from LO to HI, len_LO_inf LO or more (train/examples/len_*: the training examples, which plot length shades); a property of the data, which the seed draws for generated tasks"},
	{name: "majority_exact_match", splits: []string{"test"}, buckets: true, dir: NoDirection, kind: Constant, scale: unit,
		doc: "exact match of always answering the training split's most frequent target: the floor a model must beat (a property of the data)"},
	{name: "src_in_train", splits: []string{"test"}, dir: NoDirection, kind: Constant, scale: unit,
		doc: "fraction of the test examples whose source is also a training source: 0 for a drawn split; a task.test_path may overlap the training data, and then test scores measure memory too (compare notes it)"},
	{name: "src_len_min", splits: []string{"train"}, dir: NoDirection, kind: Constant, scale: nonNeg("tokens"),
		doc: "length of the training split's shortest source, in tokens: with src_len_max, the lengths a sequence-to-sequence model was trained on (a property of the data)"},
	{name: "src_len_max", splits: []string{"train"}, dir: NoDirection, kind: Constant, scale: nonNeg("tokens"),
		doc: "length of the training split's longest source, in tokens (a property of the data)"},
	{name: "context", splits: []string{"train"}, dir: NoDirection, kind: Constant, scale: nonNeg("tokens"),
		doc: "longest context a language model was trained with (task.context, or less when the training text is shorter): where test/loss@N leaves the training distribution"},
	{name: "bleu", splits: evalSets, dir: HigherIsBetter, kind: Quality, scale: Scale{0, 100, ""},
		doc: "sacreBLEU corpus BLEU of the detokenized outputs against the raw references (eval.bleu: tokenizer, case)"},
	{name: "chrf", splits: evalSets, dir: HigherIsBetter, kind: Quality, scale: Scale{0, 100, ""},
		doc: "sacreBLEU chrF2 (character 6-gram F-score, β = 2) of the outputs against the raw references"},
	{name: "chrf++", splits: evalSets, dir: HigherIsBetter, kind: Quality, scale: Scale{0, 100, ""},
		doc: "sacreBLEU chrF++ (chrF2 plus word 1- and 2-grams) of the outputs against the raw references"},
	{name: "bleu_legacy", splits: evalSets, dir: HigherIsBetter, kind: Quality, scale: Scale{0, 100, ""},
		doc: "BLEU of runs stored before sacreBLEU (NLTK corpus_bleu on vocabulary-mapped references, ×100); not comparable with bleu"},
	{name: "align_acc", splits: []string{"test"}, dir: HigherIsBetter, kind: Quality, scale: unit,
		doc: "fraction of output steps whose attention peaks on the ideal source position (copy, reverse)"},
	{name: "attn_entropy", splits: []string{"test"}, dir: NoDirection, kind: Quality, scale: nonNeg("nats"),
		doc: "mean entropy of the decoder's attention rows"},
	{name: "lr", splits: []string{"train"}, dir: NoDirection, kind: Constant, scale: nonNeg(""),
		doc: "learning rate of the schedule at the step"},
	{name: "steps", splits: []string{"train"}, dir: NoDirection, kind: Cost, scale: nonNeg(""),
		doc: "training steps taken (fewer than train.steps after early stopping)"},
	{name: "step", splits: []string{"best"}, dir: NoDirection, kind: Cost, scale: nonNeg(""),
		doc: "step of the best evaluation of the early-stopping metric"},
	{name: "tokens_per_s", splits: []string{"perf"}, dir: HigherIsBetter, kind: Cost, scale: nonNeg("tokens/s"),
		doc: "training throughput: non-pad target tokens per second of training"},
	{name: "src_tokens_per_s", splits: []string{"perf"}, dir: HigherIsBetter, kind: Cost, scale: nonNeg("tokens/s"),
		doc: "training throughput in non-pad source tokens (what the encoder reads) per second of training"},
	{name: "concurrent_runs", splits: []string{"perf"}, dir: NoDirection, kind: Constant, scale: nonNeg(""),
		doc: "runs of the process training at once, this one included, averaged over its steps: what its timings shared the CPUs with (attnlab run -j)"},
	{name: "threads", splits: []string{"perf"}, dir: NoDirection, kind: Constant, scale: nonNeg(""),
		doc: "intra-op threads of the process when the run ended (train.threads, worker --threads)"},
	{name: "steps_avx512", splits: []string{"perf"}, dir: NoDirection, kind: Constant, scale: nonNeg("steps"),
		doc: "training steps the AVX-512 kernels computed; kernels of different kinds round differently, so a run is reproduced bit for bit only on CPUs of the kinds that trained it (a run resumed on another kind has two perf/steps_* keys)"},
	{name: "steps_avx2", splits: []string{"perf"}, dir: NoDirection, kind: Constant, scale: nonNeg("steps"),
		doc: "training steps the AVX2+FMA kernels computed (CPUs without AVX-512, or GODEBUG=cpu.avx512f=off): see perf/steps_avx512"},
	{name: "steps_purego", splits: []string{"perf"}, dir: NoDirection, kind: Constant, scale: nonNeg("steps"),
		doc: "training steps the kernels written in Go computed (CPUs without AVX2, other architectures, -tags purego): see perf/steps_avx512"},
	{name: "steps_openblas", splits: []string{"perf"}, dir: NoDirection, kind: Constant, scale: nonNeg("steps"),
		doc: "training steps whose matrix products OpenBLAS computed (-tags openblas): see perf/steps_avx512"},
	{name: "peak_mib", splits: []string{"perf"}, dir: LowerIsBetter, kind: Cost, scale: nonNeg("MiB"),
		doc: "tensor memory of the largest training step: its graph's activations, saved state and gradients at the end of the backward pass, with the parameters and their gradients (not the optimizer's state)"},
	{name: "train_seconds", splits: []string{"perf"}, dir: LowerIsBetter, kind: Cost, scale: nonNeg("s"),
		doc: "seconds spent in training steps"},
	{name: "loop_seconds", splits: []string{"perf"}, dir: LowerIsBetter, kind: Cost, scale: nonNeg("s"),
		doc: "seconds of the training loop, evaluations included"},
	{name: "loop_tokens_per_s", splits: []string{"perf"}, dir: HigherIsBetter, kind: Cost, scale: nonNeg("tokens/s"),
		doc: "training throughput of the whole training loop (steps, batching, logging, progress): non-pad target tokens per second of the loop without its evaluations and the checkpoints they save"},
	{name: "params", splits: []string{"model"}, dir: LowerIsBetter, kind: Constant, scale: nonNeg(""),
		doc: "number of trainable parameters"},
}

// bucketRE matches a length bucket's name (LengthBucket), metricName a
// metric's name.
var (
	bucketRE   = regexp.MustCompile(`^len_[0-9]+_([0-9]+|inf)$`)
	metricName = regexp.MustCompile(`^[a-z][a-z0-9_+]*$`)
)

// Describe returns the descriptor of a metric key. A key the table does not
// describe gives Known false, NoDirection and kind Quality. Describe is
// safe for concurrent use.
func Describe(key string) Descriptor {
	if rest, ok := strings.CutPrefix(key, "best/"); ok && strings.Contains(rest, "/") {
		d := Describe(rest)
		d.Key = key
		if d.Known {
			d.Doc = "best over the evaluations: " + d.Doc
		}
		return d
	}
	split, rest, _ := strings.Cut(key, "/")
	name, bucket, hasBucket := strings.Cut(rest, "/")
	name, _, hasContext := strings.Cut(name, "@")
	if hasContext {
		if _, n, ok := SplitContext(key); !ok || n < 1 || split != "test" || hasBucket {
			return Descriptor{Key: key, Name: key}
		}
	}
	for _, m := range slices.Concat(table, textEntries()) {
		if m.name != name || !slices.Contains(m.splits, split) {
			continue
		}
		if hasBucket && (!m.buckets || split != "test" && (split != "train" || m.name != "examples") || !bucketRE.MatchString(bucket)) || hasContext && !m.context {
			break
		}
		d := Descriptor{Key: key, Name: m.name, Doc: m.doc, Direction: m.dir, Kind: m.kind, Scale: m.scale, Known: true}
		if hasBucket {
			d.Doc = m.bucketDocOf()
		}
		return d
	}
	return Descriptor{Key: key, Name: key}
}

// bucketDocOf is the description of m recorded per length bucket.
func (m metric) bucketDocOf() string {
	if m.bucketDoc != "" {
		return m.bucketDoc
	}
	return m.doc + ", over the sources whose length (in tokens) is in the bucket: len_LO_HI from LO to HI, len_LO_inf LO or more"
}

// AtContext returns the key of metric key (test/loss) measured at an
// evaluation context length of n tokens: test/loss@n.
func AtContext(key string, n int) string { return key + "@" + strconv.Itoa(n) }

// SplitContext splits a key made by AtContext into the metric's key and
// the context length; ok is false for any other key.
func SplitContext(key string) (base string, n int, ok bool) {
	base, num, found := strings.Cut(key, "@")
	if !found || num == "" || num[0] < '1' || num[0] > '9' {
		return "", 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return "", 0, false
	}
	return base, n, true
}

// IsLoss reports whether key is a loss or a perplexity: SPLIT/loss,
// SPLIT/ppl, test/loss@N (AtContext), or best/ of one of them — the keys
// whose ±Inf is a divergence, never a result: package runs fails a run
// whose loss or perplexity is ±Inf, package report counts a run stored
// done with one by an older build as failed (InfiniteLoss), and leaves
// such a value of a failed or running run shown with --status out of its
// means, as a NaN. Any
// other metric may be +Inf legitimately (a TextMetric whose Scale.Max is
// +Inf).
func IsLoss(key string) bool {
	key = strings.TrimPrefix(key, "best/")
	if base, _, ok := SplitContext(key); ok {
		key = base
	}
	split, name, ok := strings.Cut(key, "/")
	return ok && split != "" && (name == "loss" || name == "ppl")
}

// LossKeyParts are strings of which every loss or perplexity key (IsLoss)
// contains one: SPLIT/loss, SPLIT/ppl, test/loss@N and their best/ forms.
// A store can filter summaries by them (runs.Execute has it return only
// the ±Inf summaries whose keys do) before IsLoss tests them exactly.
var LossKeyParts = []string{"/loss", "/ppl"}

// InfiniteLoss returns the first key of sums, in sorted order, that is a
// loss or a perplexity (IsLoss) whose value is +Inf or −Inf, or "" when
// there is none: the one test of a divergence in summaries. Package runs
// fails a run whose summaries have such a key; a run stored done with one
// (by a build before 2026-12-06) counts as failed — compare leaves it out
// (package report), and runs.Execute does not count it done.
func InfiniteLoss(sums map[string]float64) string {
	for _, k := range slices.Sorted(maps.Keys(sums)) {
		if IsLoss(k) && math.IsInf(sums[k], 0) {
			return k
		}
	}
	return ""
}

// All returns a descriptor for every key pattern of the table, sorted by
// key: one per split (valid/loss, test/loss, …), SPLIT/NAME/len_LO_HI for
// metrics recorded per length bucket, and test/NAME@N for those recorded
// at evaluation context lengths. best/KEY is described as KEY.
func All() []Descriptor {
	var out []Descriptor
	for _, m := range slices.Concat(table, textEntries()) {
		for _, s := range m.splits {
			d := Descriptor{Key: s + "/" + m.name, Name: m.name, Doc: m.doc, Direction: m.dir, Kind: m.kind, Scale: m.scale, Known: true}
			out = append(out, d)
			if m.buckets && s == "test" {
				d.Key += "/len_LO_HI"
				d.Doc = m.bucketDocOf()
				out = append(out, d)
				d.Doc = m.doc
			}
			if m.context && s == "test" {
				d.Key = s + "/" + m.name + "@N"
				out = append(out, d)
			}
		}
	}
	slices.SortFunc(out, func(a, b Descriptor) int { return strings.Compare(a.Key, b.Key) })
	return out
}
