package runs

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tasks"
	"github.com/attnlab/attnlab/tensor"
)

// evalMode switches the model to evaluation (no dropout, no graph) and
// returns the function that switches it back.
func (r *run) evalMode() func() {
	layers.SetTraining(false, r.model)
	restore := tensor.NoGrad(layers.Tensors(r.params)...)
	return func() {
		restore()
		layers.SetTraining(true, r.model)
	}
}

// stopped returns the error of the run's context once it is done.
func (r *run) stopped() error {
	if r.ctx == nil {
		return nil
	}
	return r.ctx.Err()
}

// teacherForced returns the mean loss (no label smoothing) and the token
// accuracy over ex, under teacher forcing; NaN when the run's context is
// done before the end (callers check r.stopped).
func (r *run) teacherForced(ex tasks.Examples) (loss, acc float64) {
	return r.teacherForcedBy(ex, r.evalBatch())
}

// teacherForcedBy is teacherForced in batches of size examples.
func (r *run) teacherForcedBy(ex tasks.Examples, size int) (loss, acc float64) {
	var lossSum float64
	var correct, total int
	for b := range tasks.InOrder(ex, r.data.LM, size) {
		if r.stopped() != nil {
			return math.NaN(), math.NaN()
		}
		out := r.model.Forward(&b, models.ForwardOptions{})
		l := tensor.CrossEntropy(out.Logits, b.Out, seq.PadID, 0)
		lossSum += float64(l.Item()) * float64(b.Tokens)
		v := out.Logits.Dim(-1)
		pred := make([]int, len(b.Out))
		for i := range pred {
			pred[i] = argmax(out.Logits.Data[i*v : (i+1)*v])
		}
		c, n := metrics.MaskedTokenAccuracy(pred, b.Out, seq.PadID)
		correct += c
		total += n
	}
	if total == 0 {
		return math.NaN(), math.NaN()
	}
	return lossSum / float64(total), metrics.Ratio(correct, total)
}

func (r *run) evalBatch() int { return experiments.EvalBatch(r.cfg.Train.BatchSize) }

func argmax(row []float32) int {
	bi := 0
	for i, x := range row {
		if x > row[bi] {
			bi = i
		}
	}
	return bi
}

// decode decodes ex in order with the given options; opt.KeepAttention
// counts from the first example of ex (not of each batch).
func (r *run) decode(ex tasks.Examples, opt models.DecodeOptions) ([]models.Hypothesis, error) {
	var out []models.Hypothesis
	keep := opt.KeepAttention
	for b := range tasks.InOrder(ex, r.data.LM, r.evalBatch()) {
		if err := r.stopped(); err != nil {
			return nil, err
		}
		opt.KeepAttention = keep - len(out)
		hs, err := models.Decode(r.model, &b, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, hs...)
	}
	return out, nil
}

// decodeOptions returns the evaluation's decoding settings; greedy forces
// greedy decoding (for validation exact match).
func (r *run) decodeOptions(greedy bool) models.DecodeOptions {
	o := evalDecodeOptions(r.cfg, r.maxOut)
	o.Context = r.ctx
	if greedy {
		o.Strategy = "greedy"
	}
	return o
}

// evalDecodeOptions returns the decoding settings of a run's evaluation:
// eval.decode, the length limit maxOut, and sampling seeded by the run's
// seed.
func evalDecodeOptions(cfg experiments.Config, maxOut int) models.DecodeOptions {
	d := cfg.Eval.Decode
	return models.DecodeOptions{Strategy: d.Strategy, MaxLen: maxOut, Beam: d.Beam, LengthPenalty: d.LengthPenalty,
		Temperature: d.Temperature, TopK: d.TopK, TopP: d.TopP, RNG: tensor.NewRNG(SampleSeed(cfg))}
}

// SampleSeed is the seed of a run's sampled decoding (eval.decode.strategy
// sample), from the run's seed.
func SampleSeed(cfg experiments.Config) uint64 { return uint64(cfg.Seed) ^ 0x5eed }

// output returns a hypothesis as text: its tokens joined by the target
// tokenizer (for word tokens, one space apart), what BLEU, chrF and exact
// match compare with the reference text.
func (r *run) output(h models.Hypothesis) string {
	return r.data.TgtTok.Join(r.data.TgtVocab.Decode(h.Tokens))
}

// scorer returns the run's scorer (eval.bleu settings, target tokenizer).
func (r *run) scorer() (*Scorer, error) {
	if r.scores == nil {
		s, err := NewScorer(r.cfg.Eval.BLEU, r.data.TgtTok)
		if err != nil {
			return nil, err
		}
		r.scores = s
	}
	return r.scores, nil
}

// scoreOutputs scores decoded hypotheses of ex against their reference
// texts, and returns the outputs as text.
func (r *run) scoreOutputs(hyps []models.Hypothesis, ex tasks.Examples) (TextScores, []string, error) {
	sc, err := r.scorer()
	if err != nil {
		return TextScores{}, nil, err
	}
	outs := make([]string, len(hyps))
	refs := make([]string, len(hyps))
	for i, h := range hyps {
		outs[i], refs[i] = r.output(h), ex.At(i).Ref
	}
	return sc.Score(outs, refs), outs, nil
}

// evaluate records the validation metrics at step, updates early stopping
// and saves a checkpoint.
func (r *run) evaluate(step int) error {
	if r.data.Valid.Len() == 0 {
		// No validation split: no metric measures anything (a loss over
		// nothing is NaN, a BLEU 0), so none is recorded; the progress
		// line of an evaluation (Eval set, empty: a log prints the train
		// loss) and the evaluation's checkpoint are still made.
		r.rec.Progress(Progress{Step: step, Total: r.total, Loss: r.st.LastLoss, Eval: map[string]float64{}})
		return r.checkpoint()
	}
	back := r.evalMode()
	m := map[string]float64{}
	loss, acc := r.teacherForced(r.data.Valid)
	if err := r.stopped(); err != nil {
		back()
		return err
	}
	if math.IsInf(loss, 0) || (math.IsNaN(loss) && r.data.Valid.Len() > 0) {
		back()
		return &FailedError{Step: step, Reason: fmt.Sprintf("validation loss is %v", loss)}
	}
	m["valid/loss"], m["valid/ppl"], m["valid/token_acc"] = loss, metrics.Perplexity(loss), acc
	if r.cfg.Eval.ValidExactMatch && !r.data.LM {
		hyps, err := r.decode(r.data.Valid, r.decodeOptions(true))
		if err != nil {
			back()
			return err
		}
		ts, _, err := r.scoreOutputs(hyps, r.data.Valid)
		if err != nil {
			back()
			return err
		}
		m["valid/exact_match"], m["valid/bleu"] = ts.ExactMatch(), ts.BLEU.Score
		m["valid/chrf"], m["valid/chrf++"] = ts.ChrF.Score, ts.ChrFPP.Score
	}
	back()
	if err := notFinite(step, m); err != nil {
		return err
	}
	for _, k := range sortedKeys(m) {
		if err := r.rec.Metric(step, k, m[k]); err != nil {
			return err
		}
	}
	r.lastEval = m
	r.track(step, m)
	r.rec.Progress(Progress{Step: step, Total: r.total, Loss: r.st.LastLoss, Eval: m})
	return r.checkpoint()
}

// track updates the best value of the early-stopping metric.
func (r *run) track(step int, m map[string]float64) {
	es := r.cfg.Train.EarlyStopping
	v, ok := m[es.Metric]
	if !ok || math.IsNaN(v) {
		return
	}
	better := !r.st.HasBest || (es.Mode == "max" && v > r.st.Best) || (es.Mode != "max" && v < r.st.Best)
	if better {
		r.st.Best, r.st.BestStep, r.st.BadEvals, r.st.HasBest = v, step, 0, true
		r.bestEval = m
		if es.Patience > 0 {
			r.saveBest()
		}
		return
	}
	r.st.BadEvals++
	if es.Patience > 0 && r.st.BadEvals >= es.Patience {
		r.st.Stopped = "early stopping"
	}
}

// saveBest copies the current parameters as the best ones.
func (r *run) saveBest() {
	if r.best == nil {
		r.best = make([][]float32, len(r.params))
	}
	for i, p := range r.params {
		r.best[i] = append(r.best[i][:0], p.Data...)
	}
}

// finish evaluates on the test split and stores the summaries and
// artifacts.
func (r *run) finish() (*Result, error) {
	if r.best != nil && r.st.BestStep != r.st.Step {
		for i, p := range r.params {
			copy(p.Data, r.best[i])
		}
	}
	back := r.evalMode()
	defer back()
	// valid/* describe the weights test/* are measured on: the last
	// evaluation's, or the best one's when early stopping restored its
	// weights; best/valid/* are the best evaluation's (best/step), by
	// train.early_stopping.metric.
	sum := map[string]float64{}
	valid := r.lastEval
	if r.best != nil || valid == nil { // restored, or a checkpoint from before lastEval
		valid = r.bestEval
	}
	for k, v := range valid {
		sum[k] = v
	}
	for k, v := range r.bestEval {
		sum["best/"+k] = v
	}
	if r.st.HasBest {
		sum["best/"+r.cfg.Train.EarlyStopping.Metric] = r.st.Best
		sum["best/step"] = float64(r.st.BestStep)
	}
	test := r.testSplit()
	loss, acc := r.teacherForced(test)
	if err := r.stopped(); err != nil {
		return nil, err
	}
	// Weights that diverged at the last step (no step or evaluation came
	// after to see it, as without a validation split) fail the run, as a
	// diverged validation does, rather than store NaN test metrics.
	if math.IsInf(loss, 0) || (math.IsNaN(loss) && test.Len() > 0) {
		return nil, &FailedError{Step: r.st.Step, Reason: fmt.Sprintf("test loss is %v", loss)}
	}
	sum["test/loss"], sum["test/ppl"], sum["test/token_acc"] = loss, metrics.Perplexity(loss), acc
	if err := notFinite(r.st.Step, sum); err != nil {
		return nil, err // a finite loss beyond exp's range (test/ppl +Inf), before decoding anything
	}
	sum["model/params"] = float64(layers.CountParams(r.params))
	if r.st.PeakBytes > 0 {
		sum["perf/peak_mib"] = float64(r.st.PeakBytes) / (1 << 20)
	}
	if r.st.SharingSteps > 0 {
		sum["perf/concurrent_runs"] = r.st.Sharing / float64(r.st.SharingSteps)
	}
	sum["perf/threads"] = float64(tensor.Threads())
	for name, n := range kernelSteps(r.st.Kernels, r.st.Step) {
		sum["perf/steps_"+name] = float64(n)
	}
	sum["train/steps"] = float64(r.st.Step)
	for k, v := range trainLengths(r.data, r.cfg.Eval.LengthBuckets) {
		sum[k] = v
	}
	if r.st.TrainSecs > 0 {
		sum["perf/tokens_per_s"] = float64(r.st.Tokens) / r.st.TrainSecs
		if r.st.SrcTokens > 0 {
			sum["perf/src_tokens_per_s"] = float64(r.st.SrcTokens) / r.st.TrainSecs
		}
		sum["perf/train_seconds"] = r.st.TrainSecs
		sum["perf/loop_seconds"] = r.st.LoopSecs
		if secs := r.st.LoopSecs - r.st.EvalSecs; secs > 0 {
			sum["perf/loop_tokens_per_s"] = float64(r.st.Tokens) / secs
		}
	}
	if r.data.LM {
		if err := r.contextLosses(sum); err != nil {
			return nil, err
		}
		if err := notFinite(r.st.Step, sum); err != nil {
			return nil, err // a test/loss@N that overflowed, before storing samples
		}
		if err := r.lmSamples(); err != nil {
			return nil, err
		}
	} else if err := r.testDecode(sum); err != nil {
		return nil, err
	}
	if err := notFinite(r.st.Step, sum); err != nil {
		return nil, err
	}
	if err := r.saveModel(); err != nil {
		return nil, err
	}
	return &Result{Summaries: sum, Steps: r.st.Step, Stopped: r.st.Stopped}, nil
}

// notFinite fails the run at step when a loss-derived metric of m (in
// key order; metrics.InfiniteLoss) is +Inf or −Inf: a loss or a perplexity that
// overflowed (a perplexity is +Inf above a loss of about 709.78 nats per
// token, the largest that exp keeps finite), which compare would
// otherwise average with the seeds that trained. Any other metric may be
// +Inf legitimately (a registered metrics.TextMetric whose Scale.Max is
// +Inf, as a length ratio over empty references) and is left alone. A NaN
// is left alone too: a loss over data that is NaN has failed the run
// already, and any other NaN says that nothing was measured (a ratio over
// an empty split or bucket).
func notFinite(step int, m map[string]float64) error {
	k := metrics.InfiniteLoss(m)
	if k == "" {
		return nil
	}
	reason := fmt.Sprintf("%s is %v", k, m[k])
	if split, ok := strings.CutSuffix(k, "/ppl"); ok {
		if loss, ok := m[split+"/loss"]; ok {
			reason += fmt.Sprintf(": %s/loss diverged to %.4g nats per token", split, loss)
		}
	}
	return &FailedError{Step: step, Reason: reason}
}

// testSplit is the test examples every test/* metric is measured on: the
// first eval.max_examples of a sequence-to-sequence task's (0: all), the
// whole split of a language model's, which decodes none.
func (r *run) testSplit() tasks.Examples {
	test := r.data.Test
	if n := r.cfg.Eval.MaxExamples; n > 0 && n < test.Len() && !r.data.LM {
		test = test.Head(n)
	}
	return test
}

func (r *run) testDecode(sum map[string]float64) error {
	split := r.testSplit()
	opt := r.decodeOptions(false)
	opt.KeepAttention = r.cfg.Eval.AttentionMaps // only those are stored whole
	hyps, err := r.decode(split, opt)
	if err != nil {
		return err
	}
	ts, outs, err := r.scoreOutputs(hyps, split)
	if err != nil {
		return err
	}
	test := split.All() // a sequence-to-sequence split: its examples as held
	buckets := metrics.NewBucketedExactMatch(r.cfg.Eval.LengthBuckets)
	var entropySum float64
	var entropyN, hits, alignN int
	for i, h := range hyps {
		buckets.Add(len(test[i].Src), r.scores.Match(outs[i], test[i].Ref))
		if attended(h.Focus) {
			if e, n := metrics.MeanEntropy(h.Focus); n > 0 {
				entropySum += e * float64(n)
				entropyN += n
			}
			if r.data.Alignment != "" {
				hh, nn := metrics.AlignmentHits(h.Focus, metrics.IdealPositions(r.data.Alignment, len(h.Focus), len(test[i].Src)))
				hits += hh
				alignN += nn
			}
		}
	}
	sum["test/exact_match"], sum["test/examples"] = ts.ExactMatch(), float64(len(test))
	sum["test/src_in_train"] = inTrain(r.data.Train, test)
	if maj, ok := majorityRef(r.data.Train); ok {
		floor := metrics.NewBucketedExactMatch(r.cfg.Eval.LengthBuckets)
		hits := 0
		for i := range test {
			m := r.scores.Match(maj, test[i].Ref)
			floor.Add(len(test[i].Src), m)
			if m {
				hits++
			}
		}
		sum["test/majority_exact_match"] = metrics.Ratio(hits, len(test))
		for k, v := range floor.Metrics("test") {
			if bucket, ok := strings.CutPrefix(k, "test/exact_match/"); ok {
				sum["test/majority_exact_match/"+bucket] = v
			}
		}
	}
	sum["test/bleu"], sum["test/chrf"], sum["test/chrf++"] = ts.BLEU.Score, ts.ChrF.Score, ts.ChrFPP.Score
	if tms := metrics.TextMetrics(); len(tms) > 0 {
		refs := make([]string, len(test))
		for i, ex := range test {
			refs[i] = ex.Ref
		}
		for _, m := range tms {
			sum["test/"+m.Name] = m.Score(outs, refs)
		}
	}
	for k, v := range buckets.Metrics("test") {
		sum[k] = v
	}
	if entropyN > 0 {
		sum["test/attn_entropy"] = entropySum / float64(entropyN)
	}
	if alignN > 0 {
		sum["test/align_acc"] = metrics.Ratio(hits, alignN)
	}
	var samples []artifact.Sample
	var maps []artifact.AttentionMap
	for i, h := range hyps {
		if i < r.cfg.Eval.Samples {
			samples = append(samples, artifact.Sample{Index: i, Source: r.data.SrcTok.Join(r.data.SrcVocab.Decode(test[i].Src)),
				Reference: test[i].Ref, Output: outs[i], Correct: r.scores.Match(outs[i], test[i].Ref)})
		}
		if i < r.cfg.Eval.AttentionMaps && attended(h.Focus) {
			out := r.data.TgtVocab.Decode(h.Tokens)
			if h.Finished {
				out = append(out, tasks.EOSToken)
			}
			maps = append(maps, artifact.AttentionMap{Index: i, Source: r.data.SrcVocab.Decode(test[i].Src), Output: out, Weights: h.Attention})
		}
	}
	if err := r.putJSON(artifact.KindSamples, artifact.NameSamples, samples); err != nil {
		return err
	}
	if err := r.putJSON(artifact.KindScores, artifact.NameScores, ts.Artifacts("test")); err != nil {
		return err
	}
	if maps != nil {
		return r.putJSON(artifact.KindAttention, artifact.NameAttention, maps)
	}
	return nil
}

// trainLengths returns the lengths the model was trained on, for length
// plots to mark: train/src_len_min and train/src_len_max of a
// sequence-to-sequence task's training sources and how many fall in each
// length bucket of edges (train/examples/len_A_B, zeros included), or
// train/context, the
// longest training window's context, of a language model's; none when the
// training split is empty.
func trainLengths(d *tasks.Dataset, edges []int) map[string]float64 {
	if d.Train.Len() == 0 {
		return nil
	}
	if d.LM {
		n := 0
		for i := range d.Train.Len() {
			_, tgt := d.Train.Lens(i)
			n = max(n, tgt-1)
		}
		return map[string]float64{"train/context": float64(n)}
	}
	out := map[string]float64{}
	for _, b := range metrics.LengthBuckets(edges) {
		out["train/examples/"+b] = 0
	}
	lo, _ := d.Train.Lens(0)
	hi := 0
	for i := range d.Train.Len() {
		src, _ := d.Train.Lens(i)
		lo, hi = min(lo, src), max(hi, src)
		out["train/examples/"+metrics.LengthBucket(src, edges)]++
	}
	out["train/src_len_min"], out["train/src_len_max"] = float64(lo), float64(hi)
	return out
}

// inTrain returns the fraction of the examples test whose source tokens
// are also those of a training example's source: 0 for a drawn split,
// which never puts a source in two splits, but a test file given with the
// task may overlap the training data.
func inTrain(train tasks.Examples, test []tasks.Example) float64 {
	if len(test) == 0 {
		return 0
	}
	key := func(src []int) string {
		var b strings.Builder
		for _, id := range src {
			b.WriteString(strconv.Itoa(id))
			b.WriteByte(' ')
		}
		return b.String()
	}
	seen := make(map[string]bool, train.Len())
	for i := range train.Len() {
		seen[key(train.At(i).Src)] = true
	}
	hits := 0
	for _, ex := range test {
		if seen[key(ex.Src)] {
			hits++
		}
	}
	return metrics.Ratio(hits, len(test))
}

// majorityRef returns the most frequent reference text of ex (of the
// smallest, among ties), the answer of the majority-class baseline; ok is
// false when ex is empty.
func majorityRef(ex tasks.Examples) (ref string, ok bool) {
	counts := map[string]int{}
	for i := range ex.Len() {
		counts[ex.At(i).Ref]++
	}
	best := -1
	for r, n := range counts {
		if n > best || n == best && r < ref {
			ref, best = r, n
		}
	}
	return ref, best > 0
}

// contextLosses records test/loss@N for each context length N of
// eval.context: the test split's token stream cut into windows of N+1
// tokens (tasks.Windows), so that every context predicts the same tokens
// and the losses differ only by how much context the model is given.
//
// A stream of T tokens gives at most T−1 tokens of context: a longer N
// (which plan refuses when it measured the task's data, as for a file
// task; a run queued before it did may still ask) is measured at T−1 and
// recorded under the context it was measured at, test/loss@(T−1), never
// under N. A test split of fewer than 2 tokens records none. Every
// context measured has a target to predict, so a NaN loss is a numeric
// failure of the model at that context, not an empty measure: it fails
// the run (a FailedError naming the key) before anything else of the
// test is stored.
func (r *run) contextLosses(sum map[string]float64) error {
	most := len(r.data.TestTokens) - 1
	for _, n := range r.cfg.Eval.Context {
		n = min(n, most)
		key := metrics.AtContext("test/loss", n)
		if _, done := sum[key]; done || n < 1 {
			continue
		}
		loss, _ := r.teacherForcedBy(tasks.Windows(r.data.TestTokens, n), experiments.ContextBatch(r.cfg.Train.BatchSize, n))
		if err := r.stopped(); err != nil {
			return err
		}
		if math.IsNaN(loss) {
			// Never a loss over nothing: n ≥ 1 and a stream of 2 tokens
			// or more give at least one window with a target, and no
			// token is padding. The model's arithmetic failed at this
			// context (an activation that overflows past the training
			// length), as a NaN test loss fails the run.
			return &FailedError{Step: r.st.Step, Reason: fmt.Sprintf("%s is NaN (test/loss is %.4g)", key, sum["test/loss"])}
		}
		sum[key] = loss
	}
	return nil
}

// lmSamples stores continuations of a few test prompts.
func (r *run) lmSamples() error {
	n := min(r.cfg.Eval.Samples, r.data.Test.Len())
	if n == 0 {
		return nil
	}
	var prompts []tasks.Example
	for i := range n {
		ex := r.data.Test.At(i)
		p := ex.Tgt[:min(len(ex.Tgt), 16)]
		prompts = append(prompts, tasks.Example{Tgt: append(append([]int(nil), p...), 0)}) // LM batches drop the last token from In
	}
	opt := r.decodeOptions(false)
	opt.MaxLen = 64
	hyps, err := r.decode(tasks.ListOf(prompts), opt)
	if err != nil {
		return err
	}
	var samples []artifact.Sample
	for i, h := range hyps {
		prompt := r.data.TgtTok.Join(r.data.TgtVocab.Decode(prompts[i].Tgt[:len(prompts[i].Tgt)-1]))
		samples = append(samples, artifact.Sample{Index: i, Source: prompt, Output: r.data.TgtTok.Join(r.data.TgtVocab.Decode(h.Tokens))})
	}
	return r.putJSON(artifact.KindSamples, artifact.NameSamples, samples)
}

// attended reports whether a hypothesis has attention weights: a row with
// a positive weight, not the all-zero rows of the no-attention baseline,
// whose alignment and entropy mean nothing.
func attended(rows []metrics.Focus) bool {
	return slices.ContainsFunc(rows, func(f metrics.Focus) bool { return f.Peak >= 0 })
}

func (r *run) putJSON(kind, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return r.rec.Artifact(kind, name, b)
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
