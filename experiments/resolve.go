package experiments

import (
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/registry"
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
	regs     *registries
	loc      *locator
	errs     Errors
	reported map[string]bool
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
	if at.swept != "" && at.swept != key && !isUnder(key, at.swept) {
		msg += " (swept as " + at.swept + ")"
	}
	r.errs = append(r.errs, &ConfigError{File: at.file, Line: at.line, Key: key, Msg: msg, rank: at.rank})
}

// configBlocks are the top-level keys of a run's configuration: the keys
// a sweep may set.
var configBlocks = []string{"task", "model", "train", "eval"}

// topKeys are every top-level key of an experiment file.
var topKeys = []string{"name", "description", "extends", "task", "model", "train", "eval", "seeds", "sweep"}

// config resolves the task, model, train and eval blocks of t.
func (r *resolver) config(t map[string]any) Config {
	for _, b := range configBlocks {
		r.finite(b, t[b])
	}
	var c Config
	task, taskOK := r.plugin("task", t["task"], r.regs.tasks, nil, true)
	c.Task = task
	c.Model = r.model(t["model"])
	c.Train = r.train(t["train"])
	c.Eval = r.eval(t["eval"])
	if kind, ok := r.regs.kind(c.Model.Name); ok && taskOK {
		r.compatible(kind.LM, c.Task.Name, c.Model.Name)
	}
	return c
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

func (r *resolver) compatible(lm bool, task, model string) {
	taskLM := r.regs.isLMTask(task)
	switch {
	case lm && !taskLM:
		r.bad("model.name", "model %q is a language model: it needs a language-modelling task (%s), not task %q",
			model, strings.Join(r.regs.lmTasks, ", "), task)
	case !lm && taskLM:
		var lms []string
		for _, n := range r.regs.models.names() {
			if k, _ := r.regs.kind(n); k.LM {
				lms = append(lms, n)
			}
		}
		r.bad("model.name", "task %q is a language-modelling task: it needs a language model (%s), not model %q",
			task, strings.Join(lms, ", "), model)
	}
}

// plugin resolves the plugin block at path: its name (required) in cat,
// and its parameters, decoded strictly by the registry entry. extra are the
// block's keys that are not parameters (the model's encoder and attention);
// they are left to the caller.
func (r *resolver) plugin(path string, v any, cat catalog, extra []string, required bool) (Plugin, bool) {
	m, ok := asMap(v)
	if !ok {
		if v == nil && required {
			r.bad(path, "required: a map naming the %s (known: %s)", cat.kind, strings.Join(cat.names(), ", "))
		} else {
			r.bad(path, "want a map with a name key and the %s's parameters, got %s", cat.kind, describe(v))
		}
		return Plugin{}, false
	}
	nv, ok := m["name"]
	if !ok {
		r.bad(path+".name", "required: the %s to use (known: %s)", cat.kind, strings.Join(cat.names(), ", "))
		return Plugin{}, false
	}
	name, ok := nv.(string)
	if !ok {
		r.bad(path+".name", "want string, got %s", describe(nv))
		return Plugin{}, false
	}
	e, ok := cat.lookup(name)
	if !ok {
		r.bad(path+".name", "%s", cat.unknown(name))
		return Plugin{}, false
	}
	params := make(map[string]any, len(m))
	for k, x := range m {
		if k != "name" && !slices.Contains(extra, k) {
			params[k] = x
		}
	}
	p, ok := r.params(path, cat.kind, e, params, extra)
	if !ok {
		return Plugin{Name: name}, false
	}
	return Plugin{Name: name, Params: paramsOf(p)}, true
}

// params decodes a plugin's parameters: every unknown key and every
// mistyped value is reported; only when there are none does the entry's own
// validation run (its first complaint is reported).
func (r *resolver) params(path, kind string, e registry.Entry[any], m map[string]any, extra []string) (any, bool) {
	what := kind + " " + strconv.Quote(e.Name)
	if e.Params == nil {
		for _, k := range sortedKeys(m) {
			r.bad(path+"."+k, "unknown key: %s takes no parameters", what)
		}
		return nil, len(m) == 0
	}
	known := paramKeys(e.Params)
	check := typeChecker(e)
	ok := true
	for _, k := range sortedKeys(m) {
		if !slices.Contains(known, k) {
			r.bad(path+"."+k, "unknown key for %s (known: %s)", what, strings.Join(append(slices.Clone(known), extra...), ", "))
			ok = false
			continue
		}
		if _, err := check.Decode(kind, map[string]any{k: m[k]}); err != nil {
			r.paramError(path, what, err)
			ok = false
		}
	}
	if !ok {
		return nil, false
	}
	p, err := e.Decode(kind, m)
	if err != nil {
		r.paramError(path, what, err)
		return nil, false
	}
	return p, true
}

func (r *resolver) paramError(path, what string, err error) {
	var pe *registry.ParamError
	if !errors.As(err, &pe) {
		r.bad(path, "%s: %v", what, err)
		return
	}
	key := path
	if pe.Key != "" {
		key = path + "." + pe.Key
	}
	r.bad(key, "%s for %s", pe.Msg, what)
}

func (r *resolver) model(v any) Model {
	p, _ := r.plugin("model", v, r.regs.models, []string{"encoder", "attention"}, true)
	out := Model{Name: p.Name, Params: p.Params}
	m, _ := asMap(v)
	kind, known := r.regs.kind(p.Name)
	for _, sub := range []struct {
		key  string
		uses bool
		cat  catalog
		dst  **Plugin
	}{
		{"encoder", kind.UsesEncoder, r.regs.encoders, &out.Encoder},
		{"attention", kind.UsesAttention, r.regs.attention, &out.Attention},
	} {
		path := "model." + sub.key
		sv, present := m[sub.key]
		switch {
		case known && !sub.uses:
			if present && r.loc.wrote(path) {
				r.bad(path, "not used by model %q", p.Name)
			}
		case !known && !(present && r.loc.wrote(path)):
			// The model is unknown: check only what the user wrote.
		case !present:
			r.bad(path, "required by model %q", p.Name)
		default:
			sp, _ := r.plugin(path, sv, sub.cat, nil, true)
			*sub.dst = &sp
		}
	}
	return out
}

var metricRE = regexp.MustCompile(`^(train|valid)/[a-z0-9_]+(/[a-z0-9_]+)*$`)

func (r *resolver) train(v any) Train {
	t := Defaults().Train
	m, ok := asMap(v)
	if !ok {
		r.bad("train", "want a map of training settings, got %s", describe(v))
		return t
	}
	decodeStruct("train", &t, m, r.badMsg)
	t.Optimizer, _ = r.plugin("train.optimizer", m["optimizer"], r.regs.optimizers, nil, true)
	t.Schedule, _ = r.plugin("train.schedule", m["schedule"], r.regs.schedules, nil, true)
	r.atLeast("train.batch_size", t.BatchSize, 1)
	r.atLeast("train.steps", t.Steps, 0)
	r.atLeast("train.epochs", t.Epochs, 0)
	switch {
	case t.Steps == 0 && t.Epochs == 0:
		r.bad("train.steps", "one of train.steps and train.epochs must be positive")
	case t.Steps > 0 && t.Epochs > 0:
		r.bad("train.epochs", "train.steps and train.epochs are exclusive: set train.steps: 0 to train for %d epochs", t.Epochs)
	}
	r.inRange("train.clip", t.Clip, 0, math.Inf(1), true)
	r.atLeast("train.eval_every", t.EvalEvery, 0)
	r.atLeast("train.log_every", t.LogEvery, 1)
	r.inRange("train.teacher_forcing", t.TeacherForcing, 0, 1, true)
	r.inRange("train.label_smoothing", t.LabelSmoothing, 0, 1, false)
	r.atLeast("train.threads", t.Threads, 1)
	es := &t.EarlyStopping
	if !metricRE.MatchString(es.Metric) {
		r.bad("train.early_stopping.metric", "want a train/ or valid/ metric such as valid/loss or valid/exact_match, got %q", es.Metric)
	}
	r.atLeast("train.early_stopping.patience", es.Patience, 0)
	switch es.Mode {
	case "min", "max":
	case "auto":
		es.Mode = autoMode(es.Metric)
	default:
		r.bad("train.early_stopping.mode", "want min, max or auto, got %q", es.Mode)
	}
	if es.Patience > 0 && t.EvalEvery == 0 {
		r.bad("train.early_stopping.patience", "early stopping needs periodic evaluations: set train.eval_every")
	}
	return t
}

// autoMode is the direction in which metric improves.
func autoMode(metric string) string {
	switch metric[strings.LastIndex(metric, "/")+1:] {
	case "acc", "token_acc", "exact_match", "bleu":
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
	decodeStruct("eval", &e, m, r.badMsg)
	d := e.Decode
	if !slices.Contains(Strategies, d.Strategy) {
		r.bad("eval.decode.strategy", "unknown strategy %q (known: %s)", d.Strategy, strings.Join(Strategies, ", "))
	}
	r.atLeast("eval.decode.beam", d.Beam, 1)
	r.inRange("eval.decode.length_penalty", d.LengthPenalty, 0, math.Inf(1), true)
	if !(d.Temperature > 0) {
		r.bad("eval.decode.temperature", "must be positive, got %v", d.Temperature)
	}
	r.atLeast("eval.decode.top_k", d.TopK, 0)
	if !(d.TopP > 0 && d.TopP <= 1) {
		r.bad("eval.decode.top_p", "must be in (0, 1], got %v", d.TopP)
	}
	r.atLeast("eval.decode.max_len", d.MaxLen, 0)
	r.atLeast("eval.max_examples", e.MaxExamples, 0)
	r.atLeast("eval.samples", e.Samples, 0)
	r.atLeast("eval.attention_maps", e.AttentionMaps, 0)
	for i, b := range e.LengthBuckets {
		key := "eval.length_buckets[" + strconv.Itoa(i) + "]"
		switch {
		case b < 1:
			r.bad(key, "must be at least 1, got %d", b)
		case i > 0 && b <= e.LengthBuckets[i-1]:
			r.bad(key, "bucket bounds must increase, got %d after %d", b, e.LengthBuckets[i-1])
		}
	}
	return e
}

func (r *resolver) atLeast(key string, v, lo int) {
	if v < lo {
		if lo == 0 {
			r.bad(key, "must not be negative, got %d", v)
		} else {
			r.bad(key, "must be at least %d, got %d", lo, v)
		}
	}
}

// inRange checks lo <= v and v < hi (v <= hi when closed).
func (r *resolver) inRange(key string, v, lo, hi float64, closed bool) {
	ok := v >= lo && (v < hi || closed && v <= hi)
	if ok {
		return
	}
	switch {
	case math.IsInf(hi, 1):
		r.bad(key, "must not be negative, got %v", v)
	case closed:
		r.bad(key, "must be in [%v, %v], got %v", lo, hi, v)
	default:
		r.bad(key, "must be in [%v, %v), got %v", lo, hi, v)
	}
}

func (r *resolver) badMsg(key, msg string) { r.bad(key, "%s", msg) }
