package experiments

import (
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/registry"
)

// KeyDoc documents one key of the experiment format.
type KeyDoc struct {
	Key     string // dotted path: "train.batch_size"
	Type    string // int, float, bool, string, list of int, map, list of map, plugin
	Default string // the default, formatted; "" when the key has none
	Doc     string
	Range   string // the allowed numbers ("≥ 1", "[0, 1)") or choices ("min, max, auto"), or ""
	// Site is the registry whose entries a plugin block names, with the
	// name `attnlab list` shows them under; "" for other keys.
	Site string
}

// Section documents the keys of one part of the format.
type Section struct {
	Name string // what `attnlab list` calls it: experiment, train, eval, sweep
	Doc  string
	Keys []KeyDoc
}

// topLevel documents the top-level keys of an experiment file, in the order
// of the format; Load accepts exactly these keys.
var topLevel = []KeyDoc{
	{Key: "name", Type: "string", Doc: "required: the experiment's name, 1 to 100 characters among a-z, 0-9, _, . and -, not starting with -, not . or .."},
	{Key: "description", Type: "string", Doc: "free text shown by plan and show; not part of any run's identity"},
	{Key: "extends", Type: "string", Doc: "a base experiment file, relative to this one, whose keys this file overrides " +
		"(maps merge key by key, lists are replaced); each file names its own base, up to " + strconv.Itoa(maxExtends) + " deep"},
	{Key: "task", Doc: "required: the task and its parameters"},
	{Key: "model", Doc: "the model assembly, its parameters and the nested blocks it reads"},
	{Key: "train", Type: "map", Doc: "the training settings (attnlab list train)"},
	{Key: "eval", Type: "map", Doc: "the evaluation settings (attnlab list eval)"},
	{Key: "seeds", Type: "list of int", Doc: "distinct seeds, each ≥ 0: every sweep point runs once per seed"},
	{Key: "sweep", Type: "map", Doc: "the points of the experiment besides the seeds (attnlab list sweep)"},
}

// topKeys are every top-level key of an experiment file.
var topKeys = keysOf(topLevel, "")

// distDoc names the distributions of sweep.random.params.
const distDoc = "{uniform: [lo, hi]}, {log_uniform: [lo, hi]} (0 < lo), {int: [lo, hi]} (inclusive) or {choice: [values]}"

// sweepLevel documents the keys of the sweep block; parseSweep accepts
// exactly these keys.
var sweepLevel = []KeyDoc{
	{Key: "sweep.grid", Type: "map", Doc: "config key → list of values: every combination of the lists " +
		"(keys in sorted order, the last varying fastest)"},
	{Key: "sweep.zip", Type: "map", Doc: "config key → list of values, every list of one length: the lists advance together"},
	{Key: "sweep.variants", Type: "list of map", Doc: "named override maps, {name: mha4, model.attention.name: multi-head, " +
		"model.attention.heads: 4}; the outermost loop"},
	{Key: "sweep.random", Type: "map", Doc: "random search: samples distinct points drawn from the distributions of params, " +
		"floats rounded to four significant digits"},
	{Key: "sweep.random.samples", Type: "int", Range: "[1, " + strconv.Itoa(MaxRuns) + "]", Doc: "required: the points to draw"},
	{Key: "sweep.random.seed", Type: "int", Default: "0", Doc: "seed of the draws"},
	{Key: "sweep.random.params", Type: "map", Doc: "config key → distribution: " + distDoc},
	{Key: "sweep.exclude", Type: "list of map", Doc: "drop every point that matches all the keys of one map " +
		"(swept keys; variant: a variant's name); a map that matches no point is an error"},
}

// sweepKinds are the keys of the sweep block, randomKeys those of
// sweep.random.
var (
	sweepKinds = keysOf(sweepLevel, "sweep")
	randomKeys = keysOf(sweepLevel, "sweep.random")
)

// keysOf returns the last part of the keys of docs directly under prefix.
func keysOf(docs []KeyDoc, prefix string) []string {
	var out []string
	for _, d := range docs {
		parent, key := "", d.Key
		if i := strings.LastIndexByte(d.Key, '.'); i >= 0 {
			parent, key = d.Key[:i], d.Key[i+1:]
		}
		if parent == prefix {
			out = append(out, key)
		}
	}
	return out
}

// Reference documents every key of the experiment format except the
// plugins' own parameters, which their registry entries document (see
// [Sites] and `attnlab list tasks`): the top-level keys, the nested plugin
// blocks, the train and eval settings, and the sweep. It is generated from
// what Load validates against (the key tables, the Train and Eval structs
// and their doc, range and enum tags, the site table) and from [Defaults],
// so it cannot drift from them.
func Reference() []Section { return reference(Sites) }

func reference(sites registry.Sites) []Section {
	defaults := defaultTree()
	top := Section{Name: "experiment", Doc: "the top-level keys of an experiment file, and the plugin blocks nested in them"}
	var nested func(path string)
	nested = func(path string) {
		for _, k := range sites.Children(path) {
			sub, _ := sites.At(path + "." + k)
			parent, _ := sites.At(path)
			top.Keys = append(top.Keys, siteDoc(KeyDoc{Key: sub.Path, Doc: "read by the " + parent.Catalog.Kind() + " entries that name it"}, sub, defaults))
			nested(sub.Path)
		}
	}
	for _, d := range topLevel {
		st, isSite := sites.At(d.Key)
		if isSite {
			d = siteDoc(d, st, defaults)
		}
		if d.Key == "seeds" {
			d.Default = FormatValue(defaults["seeds"])
		}
		top.Keys = append(top.Keys, d)
		if isSite {
			nested(d.Key)
		}
	}
	out := []Section{top}
	d := Defaults()
	out = append(out,
		Section{Name: "train", Doc: "the training settings", Keys: structDocs("train", reflect.ValueOf(d.Train), sites, defaults)},
		Section{Name: "eval", Doc: "the evaluation settings", Keys: structDocs("eval", reflect.ValueOf(d.Eval), sites, defaults)},
		Section{Name: "sweep", Doc: "the sweep: each kind is optional, and the kinds combine as a product " +
			"(variants outermost, then grid, zip, random); a key may be swept by one kind only; " +
			"a sweep key is a dotted path under " + strings.Join(configBlocks, ", ") + ", a whole block included",
			Keys: slices.Clone(sweepLevel)},
	)
	return out
}

// siteDoc fills the key of a plugin site: its type, default and registry.
func siteDoc(d KeyDoc, st registry.Site, defaults map[string]any) KeyDoc {
	d.Type, d.Site = "plugin", st.List
	if m, ok := lookup(defaults, st.Path).(map[string]any); ok {
		if name, ok := m["name"].(string); ok {
			d.Default = name
		}
	}
	d.Doc += " (attnlab list " + st.List + ")"
	return d
}

// lookup returns the value at a dotted path of a tree, or nil.
func lookup(t map[string]any, path string) any {
	var v any = t
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// structDocs documents the json-tagged fields of a settings struct (nested
// structs flattened), with the defaults v holds.
func structDocs(prefix string, v reflect.Value, sites registry.Sites, defaults map[string]any) []KeyDoc {
	var out []KeyDoc
	for _, tf := range taggedFields(prefix, v) {
		path, f, fv := tf.path, tf.field, tf.value
		d := KeyDoc{Key: path, Doc: f.Tag.Get("doc")}
		switch {
		case f.Type == pluginType:
			if st, ok := sites.At(path); ok {
				d = siteDoc(d, st, defaults)
			}
			out = append(out, d)
			continue
		case fv.Kind() == reflect.Struct:
			d.Type = "map"
			out = append(out, d)
			out = append(out, structDocs(path, fv, sites, defaults)...)
			continue
		}
		d.Type = valueType(f.Type)
		d.Default = FormatValue(registry.PlainValue(fv))
		if fv.Kind() == reflect.String && fv.String() == "" {
			d.Default = `""`
		}
		if tag, ok := f.Tag.Lookup("range"); ok {
			if r, err := registry.ParseRange(tag); err == nil {
				d.Range = r.String()
			}
		}
		if tag, ok := f.Tag.Lookup("enum"); ok {
			d.Range = strings.ReplaceAll(tag, ",", ", ")
		}
		out = append(out, d)
	}
	return out
}

func valueType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int:
		return "int"
	case reflect.Float64:
		return "float"
	case reflect.Bool:
		return "bool"
	case reflect.String:
		return "string"
	case reflect.Slice:
		return "list of " + valueType(t.Elem())
	}
	return t.String()
}
