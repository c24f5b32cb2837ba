package experiments

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
)

// dataFiles reads the files of the tasks of an experiment, once each, for
// their fingerprints.
type dataFiles struct {
	opt tasks.Options // BaseDir: the experiment file's directory
	// ctx is the load's context (LoadOptions.Context; nil: never done):
	// reading and hashing a file of a gigabyte stops once it is done.
	ctx  context.Context
	seen map[string]dataFile
	// checked holds what tasks.CheckData found, by task name and
	// parameters (JSON), so that a sweep builds each dataset once.
	checked map[string]checkedData
}

// checkedData is what tasks.CheckData found of a task's data: its problems,
// or the longest source and target.
type checkedData struct {
	problems []string
	lengths  [2]int
	bytes    int64 // the memory the dataset takes
	vocab    int   // the larger vocabulary's size
	sizes    tasks.DataSizes
	key      string // the task parameter the problems are about, if one is
}

type dataFile struct {
	fp  tasks.Fingerprint
	err error
}

// fingerprints returns the fingerprint of every file the resolved task
// reads (tasks.FileParams), by parameter key, and, when every file could be
// read and its data has no problem, the data's longest source and target
// (see check); a file that cannot be read is reported on its key.
func (d *dataFiles) fingerprints(r *resolver, task resolved) (fps map[string]tasks.Fingerprint, data checkedData) {
	p, err := task.info.Decode(task.Params, registry.DecodeOptions{NoValidate: true})
	if err != nil {
		return nil, data
	}
	fp, ok := p.(tasks.FileParams)
	if !ok {
		return nil, data
	}
	var out map[string]tasks.Fingerprint
	for _, key := range sortedKeys(fp.Files()) {
		path := fp.Files()[key]
		f, ok := d.seen[path]
		if !ok {
			ctx := d.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			f.fp, f.err = tasks.FingerprintFileContext(ctx, task.Name, path, d.opt)
			if f.err != nil && ctx.Err() != nil {
				// Stopped (Ctrl-C): no problem of the file's, and nothing
				// kept; the load returns the context's error.
				return nil, data
			}
			d.seen[path] = f
		}
		if f.err != nil {
			r.bad("task."+key, "%s", strings.TrimPrefix(f.err.Error(), task.Name+": "))
			continue
		}
		if out == nil {
			out = map[string]tasks.Fingerprint{}
		}
		out[key] = f.fp
	}
	if ho, ok := p.(tasks.HeldOutFiles); ok {
		r.lint(func() { heldOutInTrain(r, ho, fp.Files(), out) })
	}
	if len(out) == len(fp.Files()) {
		data = d.check(r, task, out)
	}
	return out, data
}

// heldOutInTrain reports, as a lint, each held-out split's file (valid_path,
// test_path) that is a training file too, or the file of an earlier
// held-out split (test_path the valid_path): the same path, or the same
// contents (fingerprint) under another. Its split would hold training
// examples only (a run records test/src_in_train 1, once trained), or the
// examples early stopping chose the weights on.
func heldOutInTrain(r *resolver, ho tasks.HeldOutFiles, paths map[string]string, fps map[string]tasks.Fingerprint) {
	train, heldOut := ho.HeldOut()
	split := func(key string) string { return strings.TrimSuffix(key, "_path") }
	for i, h := range heldOut {
		for _, k := range append(slices.Clone(train), heldOut[:i]...) {
			hf, hok := fps[h]
			kf, kok := fps[k]
			if !hok || !kok || hf != kf { // a file not read is an error already
				continue
			}
			same := "is the same file as"
			if paths[h] != paths[k] {
				same = "has the same contents as"
			}
			what := "training examples only"
			if !slices.Contains(train, k) {
				what = "the " + split(k) + " split's examples"
			}
			r.bad("task."+h, "%q %s task.%s (%q): the %s split would be %s; give a file of held-out pairs, or leave %s out to draw the split",
				paths[h], same, k, paths[k], split(h), what, h)
			break
		}
	}
}

// check builds the dataset of a task whose files could all be read, as a
// run would (tasks.CheckData), and reports every problem with the data on
// the task's key: every bad line of a file, too few distinct sources for
// the splits, an empty split; a min_count that leaves no token of the
// data in a vocabulary is reported on task.min_count. Plan thus finds what would otherwise fail
// every run of a sweep, each at its start. Given the fingerprints and the
// first run's seed (opt.Seed), CheckData reuses the bytes the fingerprints
// were read from and keeps the dataset (a text corpus: those bytes) for
// that run (tasks' memo): a run in this process reads its files once. It returns the
// data's longest source and target and the memory its dataset takes, zero
// when it has problems.
func (d *dataFiles) check(r *resolver, task resolved, fps map[string]tasks.Fingerprint) checkedData {
	b, err := json.Marshal(task.Params)
	if err != nil {
		return checkedData{}
	}
	id := task.Name + " " + string(b)
	c, ok := d.checked[id]
	if !ok {
		opt := d.opt
		opt.Data = fps
		opt.Context = d.ctx
		dc := tasks.CheckData(task.Name, task.Params, opt)
		if d.ctx != nil && d.ctx.Err() != nil {
			// Stopped (Ctrl-C) while building or measuring: no problem
			// of the data's, nothing kept; the load returns the
			// context's error.
			return checkedData{}
		}
		c = checkedData{problems: dc.Problems, lengths: [2]int{dc.Src, dc.Tgt}, bytes: dc.Bytes, vocab: dc.Vocab, sizes: dc.Sizes, key: dc.Key}
		if d.checked == nil {
			d.checked = map[string]checkedData{}
		}
		d.checked[id] = c
	}
	if c.key != "" { // a parameter's problem with this data: min_count
		for _, p := range c.problems {
			r.bad("task."+c.key, "%s", p)
		}
		return c
	}
	for i, p := range c.problems {
		r.badEach("task", i+1, "%s", p)
	}
	return c
}
