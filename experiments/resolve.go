package experiments

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/internal/editdist"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
)

// locator finds where a key path was written: the sweep point's overrides
// first, then --set, the experiment file and its bases.
type locator struct {
	sources []*source // in search order
	point   *point    // nil outside a sweep point
}

type location struct {
	file       string
	line, rank int
	swept      string // the sweep key the location comes from, if any
	// strTag is the hint for a swept value written with an explicit
	// !!str tag (locator.strTag), which replaces "(drop the quotes)".
	strTag string
}

func (l *locator) at(path string) location {
	for p := path; p != ""; p = parentPath(p) {
		if l.point != nil {
			for _, k := range l.point.keys {
				if p == k || isUnder(p, k) || isUnder(k, p) {
					at := l.point.locs[k]
					at.swept = k
					return at
				}
			}
		}
		for _, s := range l.sources {
			if line, ok := s.lines[p]; ok {
				return location{file: s.file, line: line, rank: s.rank}
			}
		}
		// Nothing written at p itself: the first key written under it.
		for _, s := range l.sources {
			first := -1
			for k, line := range s.lines {
				if isUnder(k, p) && (first < 0 || line < first) {
					first = line
				}
			}
			if first >= 0 {
				return location{file: s.file, line: first, rank: s.rank}
			}
		}
	}
	for _, s := range l.sources {
		if s.rank == 0 {
			return location{file: s.file}
		}
	}
	return location{}
}

// dotted returns how the key at path, if a layer wrote it with a dot
// outside the sweep, splits at its first dot.
func (l *locator) dotted(path string) ([2]string, bool) {
	for _, s := range l.sources {
		if d, ok := s.dotted[path]; ok {
			return d, true
		}
	}
	return [2]string{}, false
}

// asWritten returns msg, a problem with the value at path, with the value
// shown as the layer that set it wrote it when Go shows it otherwise
// (source.literals): "got 9223372036854775808", not "got
// 9.223372036854776e+18"; and with the hint to drop the quotes of a
// number in a string made one by an explicit !!str tag (source.strTags)
// naming the tag, which is what to drop.
func (l *locator) asWritten(path, msg string) string {
	for _, s := range l.sources {
		if _, ok := s.lines[path]; ok {
			if lit, ok := s.literals[path]; ok {
				msg = strings.Replace(msg, "got "+lit.shown, "got "+lit.text, 1)
			}
			if hint := strTagHint(s, path); hint != "" {
				msg = strings.Replace(msg, " (drop the quotes)", hint, 1)
			}
			return msg
		}
	}
	return msg
}

// strTag returns the hint for the scalar at path (a sweep value:
// sweep.grid.train.steps[0]) when the layer that wrote it tagged it !!str,
// or "".
func (l *locator) strTag(path string) string {
	for _, s := range l.sources {
		if _, ok := s.lines[path]; ok {
			return strTagHint(s, path)
		}
	}
	return ""
}

// strTagHint is the hint that replaces "(drop the quotes)" for the scalar
// s wrote at path with an explicit !!str tag, or "" (no tag).
func strTagHint(s *source, path string) string {
	quoted, ok := s.strTags[path]
	switch {
	case !ok:
		return ""
	case quoted:
		return " (the !!str tag and the quotes make it a string: drop both)"
	}
	return " (the !!str tag makes it a string: drop the tag)"
}

// wroteAt reports whether a layer above the defaults wrote the key path
// itself (model.attention: null), not only keys under it.
func (l *locator) wroteAt(path string) bool {
	for _, s := range l.sources {
		if _, ok := s.lines[path]; ok {
			return true
		}
	}
	return false
}

// wrote reports whether any layer above the defaults wrote path or a key
// under it.
func (l *locator) wrote(path string) bool {
	if l.point != nil {
		for _, k := range l.point.keys {
			if k == path || isUnder(k, path) || isUnder(path, k) {
				return true
			}
		}
	}
	for _, s := range l.sources {
		for p := range s.lines {
			if p == path || isUnder(p, path) {
				return true
			}
		}
	}
	return false
}

// isUnder reports whether path is strictly below prefix.
func isUnder(path, prefix string) bool {
	return len(path) > len(prefix) && strings.HasPrefix(path, prefix) && (path[len(prefix)] == '.' || path[len(prefix)] == '[')
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// resolver turns one merged configuration tree into a Config, collecting
// every problem.
type resolver struct {
	sites    registry.Sites
	data     *dataFiles // reads the task's files; nil reads none
	loc      *locator
	errs     Errors
	reported map[string]bool
	// noLint skips the checks of new experiments' settings only
	// (LoadOptions.NoLint); linting marks the problems reported meanwhile
	// as ConfigError.Lint.
	noLint, linting bool
}

// bad reports a problem with key; only the first problem of each key is
// kept, so a value gets one complaint.
func (r *resolver) bad(key, format string, args ...any) {
	if r.reported[key] {
		return
	}
	if r.reported == nil {
		r.reported = map[string]bool{}
	}
	r.reported[key] = true
	at := r.loc.at(key)
	msg := sprintf(format, args...)
	if d, ok := r.loc.dotted(key); ok && strings.HasPrefix(msg, "unknown key") {
		msg += sprintf("; a key with a dot is a path only in --set and the sweep: nest the keys, %s: {%s: ...}", d[0], d[1])
	}
	if at.swept != "" && at.swept != key && !isUnder(key, at.swept) {
		msg += " (swept as " + at.swept + ")"
	}
	if at.swept == "" {
		msg = r.loc.asWritten(key, msg)
	} else if at.swept == key && at.strTag != "" {
		msg = strings.Replace(msg, " (drop the quotes)", at.strTag, 1)
	}
	r.errs = append(r.errs, &ConfigError{File: at.file, Line: at.line, Key: key, Msg: msg, Lint: r.linting, rank: at.rank})
}

// lint runs check, whose problems are ConfigError.Lint, unless r.noLint.
func (r *resolver) lint(check func()) {
	if r.noLint {
		return
	}
	r.linting = true
	defer func() { r.linting = false }()
	check()
}

// badEach reports the i-th (from 1) of a list of problems with key, such
// as the bad lines of a data file, even if key already has one; the list
// keeps its order (ConfigError.order), not the order of its text.
func (r *resolver) badEach(key string, i int, format string, args ...any) {
	at := r.loc.at(key)
	r.errs = append(r.errs, &ConfigError{File: at.file, Line: at.line, Key: key, Msg: sprintf(format, args...), Lint: r.linting, rank: at.rank, order: i})
}

// configBlocks are the top-level keys of a run's configuration: the keys
// a sweep may set.
var configBlocks = []string{"task", "model", "train", "eval"}

// ConfigBlocks returns the top-level keys of a run's configuration, under
// which every sweep key lies: task, model, train and eval.
func ConfigBlocks() []string { return slices.Clone(configBlocks) }

// config resolves the task, model, train and eval blocks of t.
func (r *resolver) config(t map[string]any) Config {
	for _, b := range configBlocks {
		r.finite(b, t[b])
	}
	var c Config
	task, taskOK := r.plugin("task", t["task"])
	c.Task = task.Plugin
	var model resolved
	c.Model, model = r.model(t["model"])
	c.Train = r.train(t["train"])
	c.Eval = r.eval(t["eval"])
	if model.info.Name != "" && taskOK {
		r.compatible(model.info, task.info, c.Train)
	}
	if model.info.Name != "" && c.Model.Attention != nil {
		r.attentionFits(model.info, c.Model)
	}
	if model.info.Name != "" && c.Model.Encoder != nil {
		r.encoderFits(model.info, c.Model)
	}
	if taskOK {
		r.stoppingMetric(c, task.info.Has(tasks.LanguageModel))
	}
	if taskOK && r.data != nil {
		var data checkedData
		c.Data, data = r.data.fingerprints(r, task)
		c.DataLengths, c.DataBytes, c.DataVocab, c.DataSizes = data.lengths, data.bytes, data.vocab, data.sizes
	}
	if taskOK {
		r.stoppingSplit(c, task)
	}
	if taskOK && model.info.Name != "" && model.Params != nil {
		r.lengths(model, task, c.DataLengths)
	}
	if taskOK && !task.info.Has(tasks.LanguageModel) {
		if src, tgt, ok := longestSequences(task.info, task.Params, c.DataLengths); ok {
			if err := c.Eval.Decode.CheckOutputLimit(tgt); err != nil {
				r.bad("eval.decode.max_len", "%v", err)
			}
			r.attentionMaps(&c.Eval, src, tgt)
		}
	}
	if len(c.Eval.Context) > 0 && model.info.Name != "" && taskOK {
		r.evalContext(model.info, task.info, c)
	}
	return c
}

// attentionMaps checks that the attention maps eval.attention_maps stores
// keep at most artifact.MaxAttentionWeights weights for sources of up to
// src tokens and targets of up to tgt: each map is up to the output limit
// × src, for every hypothesis a beam search keeps while decoding. A
// number written is refused above that; the default is lowered to what
// fits (the resolved configuration says how many).
func (r *resolver) attentionMaps(e *Eval, src, tgt int) {
	n := int64(e.AttentionMaps)
	if n == 0 || src == 0 {
		return
	}
	per, what := e.mapWeights(src, tgt), ""
	if e.Decode.Strategy == "beam" {
		what = fmt.Sprintf(" (%d beam hypotheses each)", e.Decode.Beam)
	}
	if n*per <= artifact.MaxAttentionWeights {
		return
	}
	fit := artifact.MaxAttentionWeights / per
	if r.loc == nil || !r.loc.wrote("eval.attention_maps") {
		e.AttentionMaps = int(fit)
		return
	}
	hint := fmt.Sprintf("at most %d at these lengths", fit)
	if fit == 0 {
		hint = "0 at these lengths, or a lower eval.decode.max_len"
	}
	r.bad("eval.attention_maps", "%d of up to %d output × %d source tokens%s would keep %s of attention weights, over the %s a run stores: set %s",
		n, e.Decode.OutputLimit(tgt), src, what, FormatBytes(4*n*per), FormatBytes(4*artifact.MaxAttentionWeights), hint)
}

// mapWeights returns the most attention weights one stored map keeps
// while the test split is decoded, for sources of up to src tokens and
// targets of up to tgt: the output limit × src, for every hypothesis of a
// beam search.
func (e Eval) mapWeights(src, tgt int) int64 {
	n := int64(e.Decode.OutputLimit(tgt)) * int64(src)
	if e.Decode.Strategy == "beam" {
		n *= int64(max(e.Decode.Beam, 1))
	}
	return n
}

// evalContext checks eval.context: it needs a language-modelling task,
// each length must fit in the task's test split when its data was
// measured (a file task: DataSizes.TestTokens), and a model whose
// parameters bound the length of its inputs (learned positions: a
// models.LengthChecker) must accept every context length beside the
// task's training context (tasks.Windowed).
func (r *resolver) evalContext(model, task registry.Info, c Config) {
	if !task.Has(tasks.LanguageModel) {
		r.bad("eval.context", "measures a language model's loss at other context lengths: it needs a language-modelling task (%s), not task %q",
			strings.Join(r.withCap("task", tasks.LanguageModel), ", "), task.Name)
		return
	}
	fits := true
	r.lint(func() { fits = r.contextsFit(task.Name, c) }) // stored runs measure what their split allows
	if !fits {
		return
	}
	trained := 0
	if tp, err := task.Decode(c.Task.Params, registry.DecodeOptions{}); err == nil {
		if w, ok := tp.(tasks.Windowed); ok {
			trained = w.Window()
		}
	}
	mp, err := model.Decode(c.Model.Params, registry.DecodeOptions{})
	if err != nil {
		return // reported where the parameters were resolved
	}
	lc, ok := mp.(models.LengthChecker)
	if !ok {
		return
	}
	for i, n := range c.Eval.Context {
		if err := lc.CheckLength(n, trained); err != nil {
			r.bad("eval.context["+strconv.Itoa(i)+"]", "%d: %v", n, err)
			return
		}
	}
}

// contextsFit checks eval.context against a language model's test split
// when its data was measured (DataSizes.TestTokens, a file task's): a
// context of N tokens is measured on windows of N+1 tokens of the test
// stream, so one longer than the stream can hold would be measured at a
// shorter context than its key says (test/loss@N). It reports false when
// the task has no test split at all.
func (r *resolver) contextsFit(task string, c Config) bool {
	d := c.DataSizes
	if !d.LM || d.Train == 0 { // not measured
		return true
	}
	if d.TestTokens < 2 {
		r.bad("eval.context", "measures the loss on the test split, but task %q has no test tokens: give it a test split, or remove eval.context", task)
		return false
	}
	for i, n := range c.Eval.Context {
		if most := d.TestTokens - 1; n > most {
			r.bad("eval.context["+strconv.Itoa(i)+"]", "%d: longer than the test split allows: its %d tokens give at most %d tokens of context; lower it, or give the test split more text",
				n, d.TestTokens, most)
			break
		}
	}
	return true
}

// encoderFits asks a model whose parameters can tell (a
// models.EncoderChecker) whether it takes the settings of its encoder
// block, and reports a refused one on its key.
func (r *resolver) encoderFits(info registry.Info, m Model) {
	p, err := info.Decode(m.Params, registry.DecodeOptions{})
	if err != nil {
		return // reported where the parameters were resolved
	}
	c, ok := p.(models.EncoderChecker)
	if !ok {
		return
	}
	if err := c.CheckEncoder(*m.Encoder); err != nil {
		var pe *registry.ParamError
		if errors.As(err, &pe) && pe.Key != "" {
			r.bad("model.encoder."+pe.Key, "%s (model %q)", pe.Msg, m.Name)
			return
		}
		r.bad("model.encoder", "does not suit model %q: %v", m.Name, err)
	}
}

// attentionFits asks a model whose parameters can tell (a
// models.AttentionChecker) whether the attention block suits every
// attention site the model would build, with its position scheme. The
// check builds real attentions, so it runs only when the site table's
// attention catalog is the real registry (tests use stand-ins).
func (r *resolver) attentionFits(info registry.Info, m Model) {
	if st, _ := r.sites.At("model.attention"); st.Catalog != registry.Catalog(attention.Registry) {
		return
	}
	p, err := info.Decode(m.Params, registry.DecodeOptions{})
	if err != nil {
		return // reported where the parameters were resolved
	}
	if c, ok := p.(models.AttentionChecker); ok {
		if err := c.CheckAttention(*m.Attention, m.Encoder); err != nil {
			r.bad("model.attention", "does not suit model %q: %v", m.Name, err)
		}
	}
}

// lengths refuses a model whose length limit (models.LengthLimited) is
// shorter than the batches of the task: their lengths follow from the
// task's parameters (tasks.Lengths) or from its data files (data, see
// Config.DataLengths).
func (r *resolver) lengths(model, task resolved, data [2]int) {
	mp, err := model.info.Decode(model.Params, registry.DecodeOptions{NoValidate: true})
	if err != nil {
		return
	}
	ll, ok := mp.(models.LengthLimited)
	if !ok || ll.LengthLimit() == 0 {
		return
	}
	src, tgt, ok := longestSequences(task.info, task.Params, data)
	if !ok {
		return
	}
	s, t := tasks.BatchLengths(src, tgt, task.info.Has(tasks.LanguageModel))
	if need, limit := max(s, t), ll.LengthLimit(); need > limit {
		what := "sources of up to " + strconv.Itoa(s) + " tokens and decoder inputs of up to " + strconv.Itoa(t)
		if s == 0 {
			what = "inputs of up to " + strconv.Itoa(t) + " tokens"
		}
		r.bad("model.max_len", "%d is shorter than task %q's sequences: it makes %s (set model.max_len to at least %d, or to 0 to size the model from the task)",
			limit, task.Name, what, need)
	}
}

// longestSequences returns the longest source and target of a task, in
// tokens without BOS or EOS: what its parameters declare (tasks.Lengths),
// else what its data files hold (data: Config.DataLengths); ok is false
// when neither tells.
func longestSequences(info registry.Info, params map[string]any, data [2]int) (src, tgt int, ok bool) {
	if p, err := info.Decode(params, registry.DecodeOptions{NoValidate: true}); err == nil {
		if l, ok := p.(tasks.Lengths); ok {
			src, tgt = l.MaxLengths()
			return src, tgt, true
		}
	}
	return data[0], data[1], data != [2]int{}
}

// EvalMetrics returns the metrics each evaluation of a run records, in the
// order runs records them: valid/loss, valid/ppl and valid/token_acc, and,
// for a task that is not language modelling with eval.valid_exact_match,
// valid/bleu, valid/chrf, valid/chrf++ and valid/exact_match; none when
// the task has no validation split. These are the metrics
// train.early_stopping.metric may name. (A test of package runs checks
// that an evaluation records exactly these.)
func EvalMetrics(lm bool, e Eval) []string {
	out := []string{"valid/loss", "valid/ppl", "valid/token_acc"}
	if !lm && e.ValidExactMatch {
		out = append(out, "valid/bleu", "valid/chrf", "valid/chrf++", "valid/exact_match")
	}
	return out
}

// stoppingMetric checks that the early-stopping metric is one each
// evaluation records, suggesting the closest when it is not.
func (r *resolver) stoppingMetric(c Config, lm bool) {
	m := c.Train.EarlyStopping.Metric
	known := EvalMetrics(lm, c.Eval)
	if slices.Contains(known, m) {
		return
	}
	why := "not a metric each evaluation records"
	if slices.Contains(EvalMetrics(false, Eval{ValidExactMatch: true}), m) {
		why = "not recorded by this run's evaluations (eval.valid_exact_match, or a language-modelling task)"
	}
	hint := ""
	if best := closest(m, known); best != "" {
		hint = ": did you mean " + best + "?"
	}
	r.bad("train.early_stopping.metric", "%q is %s (known: %s)%s", m, why, strings.Join(known, ", "), hint)
}

// stoppingSplit refuses early stopping when the task's validation split
// is known to be empty (valid_size 0, a valid_fraction that rounds to no
// example): every evaluation would then be over nothing, so training
// would never stop early, and the best weights would never be kept.
func (r *resolver) stoppingSplit(c Config, task resolved) {
	es := c.Train.EarlyStopping
	if es.Patience == 0 {
		return
	}
	valid, known := c.DataSizes.Valid, c.DataSizes.Train > 0 // a file task's data, measured
	if !known {
		p, err := task.info.Decode(task.Params, registry.DecodeOptions{NoValidate: true})
		if vs, ok := p.(tasks.ValidSized); ok && err == nil {
			valid, known = vs.ValidExamples(), true
		}
	}
	if known && valid == 0 { // a lint: older versions ran it (without ever stopping)
		r.lint(func() {
			r.bad("train.early_stopping.patience", "early stopping watches %s, but task %q has no validation examples: give it a validation split, or set patience to 0", es.Metric, task.Name)
		})
	}
}

// closest returns the string of known nearest to s: one that ends with
// "/"+s's last part, else the nearest by edit distance if it is at most a
// third of s's length away.
func closest(s string, known []string) string {
	last := s[strings.LastIndex(s, "/")+1:]
	for _, k := range known {
		if strings.HasSuffix(k, "/"+last) {
			return k
		}
	}
	best, bestD := "", len(s)/3+1
	for _, k := range known {
		if d := editdist.Distance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// didYouMean returns ": did you mean K?" for the known key or name K
// nearest to s (see closest), "" when none is near or s is longer than a
// name (the edit distance is quadratic).
func didYouMean(s string, known []string) string {
	if len(s) > 64 || s == "" || strings.Contains(s, ".") && !slices.ContainsFunc(known, func(k string) bool { return strings.Contains(k, ".") }) {
		return ""
	}
	if best := closest(s, known); best != "" && best != s {
		return ": did you mean " + best + "?"
	}
	return ""
}

// finite reports every NaN or infinite number under path.
func (r *resolver) finite(path string, v any) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			r.bad(path, "want a finite number, got %v", x)
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			r.finite(path+"."+k, x[k])
		}
	case []any:
		for i, e := range x {
			r.finite(path+"["+strconv.Itoa(i)+"]", e)
		}
	}
}

// compatible checks that the model and the task go together, by their
// capabilities: a language model needs a language-modelling task and any
// other model a task that is not one; teacher forcing below 1 needs a model
// with a recurrent decoder.
func (r *resolver) compatible(model, task registry.Info, train Train) {
	lm, taskLM := model.Has(models.LanguageModel), task.Has(tasks.LanguageModel)
	switch {
	case lm && !taskLM:
		r.bad("model.name", "model %q is a language model: it needs a language-modelling task (%s), not task %q",
			model.Name, strings.Join(r.withCap("task", tasks.LanguageModel), ", "), task.Name)
	case !lm && taskLM:
		r.bad("model.name", "task %q is a language-modelling task: it needs a language model (%s), not model %q",
			task.Name, strings.Join(r.withCap("model", models.LanguageModel), ", "), model.Name)
	}
	if train.TeacherForcing < 1 && !model.Has(models.RNNDecoder) {
		r.bad("train.teacher_forcing", "%v: feeding back predictions needs a model with a recurrent decoder (%s), not model %q",
			train.TeacherForcing, strings.Join(r.withCap("model", models.RNNDecoder), ", "), model.Name)
	}
}

// withCap returns the names of the entries of the site at path that have
// capability c.
func (r *resolver) withCap(path string, c registry.Capability) []string {
	var out []string
	if st, ok := r.sites.At(path); ok {
		for _, e := range st.Catalog.Infos() {
			if e.Has(c) {
				out = append(out, e.Name)
			}
		}
	}
	return out
}

// resolved is a plugin block resolved by plugin: the plugin with every
// parameter filled, its entry, and the nested blocks it reads that are not
// parameters (a model's encoder and attention).
type resolved struct {
	registry.Plugin
	info registry.Info
	subs map[string]*registry.Plugin
}

// plugin resolves the plugin block at path, a site of the table: its name
// (required) in the site's registry, the nested blocks its entry reads
// (each resolved at its own site, recursively), and its parameters,
// decoded strictly by the entry. Every unknown key and every mistyped
// value is reported; only when there are none does the entry's own
// validation run (its first complaint is reported). A nested block the
// entry does not read is an error when the user wrote it and is dropped
// when it comes from the defaults. ok is false when anything was wrong.
func (r *resolver) plugin(path string, v any) (out resolved, ok bool) {
	site, _ := r.sites.At(path)
	cat := site.Catalog
	m, isMap := asMap(v)
	if !isMap {
		switch {
		case v == nil && r.loc.wroteAt(path):
			r.bad(path, "want a map naming the %s, got null (known: %s)", cat.Kind(), strings.Join(cat.Names(), ", "))
		case v == nil:
			r.bad(path, "required: a map naming the %s (known: %s)", cat.Kind(), strings.Join(cat.Names(), ", "))
		default:
			r.bad(path, "want a map with a name key and the %s's parameters, got %s%s", cat.Kind(), describe(v), r.nameHint(path, v, cat.Names()))
		}
		return out, false
	}
	children := r.sites.Children(path)
	nv, hasName := m["name"]
	name, isString := nv.(string)
	var info registry.Info
	var err error
	switch {
	case !hasName:
		r.bad(path+".name", "required: the %s to use (known: %s)", cat.Kind(), strings.Join(cat.Names(), ", "))
	case !isString:
		r.bad(path+".name", "want string, got %s", describe(nv))
	default:
		if info, err = cat.Info(name); err != nil {
			r.bad(path+".name", "unknown %s %q (known: %s)%s", cat.Kind(), name, strings.Join(cat.Names(), ", "), didYouMean(name, cat.Names()))
		}
	}
	if info.Name == "" {
		// The entry is unknown: check only the nested blocks the user wrote.
		for _, k := range children {
			if sv, present := m[k]; present && r.loc.wrote(path+"."+k) {
				r.plugin(path+"."+k, sv)
			}
		}
		return resolved{Plugin: registry.Plugin{Name: name}}, false
	}
	what := info.Kind + " " + strconv.Quote(info.Name)
	ok = true
	params := make(map[string]any, len(m))
	for k, x := range m {
		switch {
		case k == "name" || slices.Contains(info.Uses, k):
		case slices.Contains(children, k):
			if r.loc.wrote(path + "." + k) {
				r.bad(path+"."+k, "not used by %s", what)
				ok = false
			}
		default:
			params[k] = x
		}
	}
	out = resolved{Plugin: registry.Plugin{Name: name}, info: info}
	for _, u := range info.Uses {
		if !slices.Contains(children, u) {
			r.bad(path+".name", "%s cannot be used at %s: it reads a nested block %s, which is not a plugin site there", what, path, u)
			return out, false
		}
	}
	var defaults map[string]any
	for _, u := range info.Uses {
		sv, present := m[u]
		if !present && info.IsParam(u) {
			if defaults == nil {
				defaults = registry.Values(info.Defaults())
			}
			sv, present = defaults[u], true
		}
		if !present {
			r.bad(path+"."+u, "required by %s", what)
			ok = false
			continue
		}
		sub, subOK := r.plugin(path+"."+u, sv)
		ok = ok && subOK
		switch {
		case !subOK:
		case info.IsParam(u):
			params[u] = sub.Tree()
		default:
			if out.subs == nil {
				out.subs = map[string]*registry.Plugin{}
			}
			out.subs[u] = &sub.Plugin
		}
	}
	p, err := info.Decode(params, registry.DecodeOptions{NoValidate: true})
	if err == nil {
		err = info.Validate(p)
	}
	if err != nil {
		r.paramErrors(path, what, info, err)
		return out, false
	}
	linted := false
	r.lint(func() { // a new experiment's settings only (registry.Linter)
		if err := info.Lint(p); err != nil {
			r.paramErrors(path, what, info, err)
			linted = true
		}
	})
	if linted {
		return out, false
	}
	out.Params = registry.Values(p)
	return out, ok
}

// nameHint returns, for a plugin block at path written as a string (task:
// reverse), how to write it: ": write task: {name: reverse}" in a file,
// ": write --set task.name=reverse" for --set, the known names added
// when the string is not one; "" for any other value.
func (r *resolver) nameHint(path string, v any, known []string) string {
	name, ok := v.(string)
	if !ok {
		return ""
	}
	isKnown := slices.Contains(known, name)
	if !isKnown {
		name = "..."
	}
	write := path[strings.LastIndex(path, ".")+1:] + ": {name: " + name + "}"
	if r.loc.at(path).file == "--set" {
		write = "--set " + path + ".name=" + name
	}
	if !isKnown {
		return ": write " + write + " (known: " + strings.Join(known, ", ") + ")"
	}
	return ": write " + write
}

// paramErrors reports each problem of a plugin's parameters on its key.
func (r *resolver) paramErrors(path, what string, info registry.Info, err error) {
	var pes registry.ParamErrors
	if !errors.As(err, &pes) {
		r.bad(path, "%s: %v", what, err)
		return
	}
	for _, pe := range pes {
		key := path
		if pe.Key != "" {
			key = path + "." + pe.Key
		}
		switch {
		case pe.Unknown && len(info.Params) == 0 && len(info.Uses) == 0:
			r.bad(key, "unknown key: %s takes no parameters", what)
		case pe.Unknown:
			known := append(append([]string{"name"}, pluginParams(info)...), info.Uses...)
			r.bad(key, "unknown key for %s (known: %s)%s", what, strings.Join(known, ", "), didYouMean(pe.Key, known))
		case pe.Want != "":
			r.badType(key, pe.Want, pe.Msg+" for "+what)
		default:
			r.bad(key, "%s for %s", pe.Msg, what)
		}
	}
}

// model resolves the model block; the nested blocks its entry reads go to
// Model's own fields.
func (r *resolver) model(v any) (Model, resolved) {
	p, _ := r.plugin("model", v)
	out := Model{Name: p.Name, Params: p.Params, Encoder: p.subs["encoder"], Attention: p.subs["attention"]}
	return out, p
}

func (r *resolver) train(v any) Train {
	t := Defaults().Train
	m, ok := asMap(v)
	if !ok {
		r.bad("train", "want a map of training settings, got %s", describe(v))
		return t
	}
	decodeStruct("train", &t, m, r.badErr)
	opt, _ := r.plugin("train.optimizer", m["optimizer"])
	sched, _ := r.plugin("train.schedule", m["schedule"])
	t.Optimizer, t.Schedule = opt.Plugin, sched.Plugin
	checkTags("train", t, r.badMsg)
	switch {
	case t.Steps == 0 && t.Epochs == 0:
		r.bad("train.steps", "one of train.steps and train.epochs must be positive")
	case t.Steps > 0 && t.Epochs > 0:
		r.bad("train.epochs", "train.steps and train.epochs are exclusive: set train.steps: 0 to train for %d epochs", t.Epochs)
	}
	es := &t.EarlyStopping
	if es.Mode == "auto" {
		es.Mode = autoMode(es.Metric)
	}
	if es.Patience > 0 && t.EvalEvery == 0 {
		r.bad("train.early_stopping.patience", "early stopping needs periodic evaluations: set train.eval_every")
	}
	return t
}

// autoMode is the direction in which metric improves (metrics.Describe):
// "max" if higher is better, else "min".
func autoMode(metric string) string {
	if metrics.Describe(metric).Direction == metrics.HigherIsBetter {
		return "max"
	}
	return "min"
}

func (r *resolver) eval(v any) Eval {
	e := Defaults().Eval
	m, ok := asMap(v)
	if !ok {
		r.bad("eval", "want a map of evaluation settings, got %s", describe(v))
		return e
	}
	decodeStruct("eval", &e, m, r.badErr)
	checkTags("eval", e, r.badMsg)
	if !slices.Contains(BLEUTokenizers, e.BLEU.Tokenize) {
		r.bad("eval.bleu.tokenize", "unknown tokenizer %q (known: %s)", e.BLEU.Tokenize, strings.Join(BLEUTokenizers, ", "))
	}
	for i, b := range e.LengthBuckets {
		key := "eval.length_buckets[" + strconv.Itoa(i) + "]"
		if i > 0 && b <= e.LengthBuckets[i-1] {
			r.bad(key, "bucket bounds must increase, got %d after %d", b, e.LengthBuckets[i-1])
		}
	}
	for i, n := range e.Context {
		if i > 0 && n <= e.Context[i-1] {
			r.bad("eval.context["+strconv.Itoa(i)+"]", "context lengths must increase, got %d after %d", n, e.Context[i-1])
		}
	}
	return e
}

func (r *resolver) badMsg(key, msg string) { r.bad(key, "%s", msg) }

// badErr reports err, a problem with key, as the problem of a value of the
// wrong type when it is one (badType).
func (r *resolver) badErr(key string, err error) {
	if me := (*mismatchError)(nil); errors.As(err, &me) {
		r.badType(key, me.want, err.Error())
		return
	}
	r.bad(key, "%v", err)
}

// badType reports msg, a value of key of another type than want
// ("string"): ConfigError.want, so that the lint on a number that reads
// as 0 (tinyNumbers) keeps to keys that take a number.
func (r *resolver) badType(key, want, msg string) {
	n := len(r.errs)
	r.bad(key, "%s", msg)
	if len(r.errs) > n {
		r.errs[n].want = want
	}
}
