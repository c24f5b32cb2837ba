package experiments

import (
	"strings"

	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
)

// dataFiles reads the files of the tasks of an experiment, once each, for
// their fingerprints.
type dataFiles struct {
	opt  tasks.Options // BaseDir: the experiment file's directory
	seen map[string]dataFile
}

type dataFile struct {
	fp  tasks.Fingerprint
	err error
}

// fingerprints returns the fingerprint of every file the resolved task
// reads (tasks.FileParams), by parameter key; a file that cannot be read is
// reported on its key.
func (d *dataFiles) fingerprints(r *resolver, task resolved) map[string]tasks.Fingerprint {
	p, err := task.info.Decode(task.Params, registry.DecodeOptions{NoValidate: true})
	if err != nil {
		return nil
	}
	fp, ok := p.(tasks.FileParams)
	if !ok {
		return nil
	}
	var out map[string]tasks.Fingerprint
	for _, key := range sortedKeys(fp.Files()) {
		path := fp.Files()[key]
		f, ok := d.seen[path]
		if !ok {
			f.fp, f.err = tasks.FingerprintFile(task.Name, path, d.opt)
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
	return out
}
