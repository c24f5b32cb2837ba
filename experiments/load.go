package experiments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	kyaml "github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"
	"go.yaml.in/yaml/v3"

	"github.com/attnlab/attnlab/internal/safein"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
)

// Experiment is a loaded, fully validated experiment: what the store keeps
// about it and the plan of its runs.
type Experiment struct {
	Name        string
	Description string
	File        string   // the path given to Load
	BaseDir     string   // absolute directory of File: relative task paths resolve against it
	YAML        string   // the text of File, as written
	Sources     []Source // File and then every base it extends, in that order
	Sets        []string // the --set overrides, as given
	// Tree is the merged configuration as the user wrote it: the bases
	// under the file, --set over it, extends removed, defaults not filled.
	Tree  map[string]any
	Seeds []int

	runs []Run
}

// Source is one file of an experiment's extends chain.
type Source struct {
	File string // path as shown in errors: the experiment file as given, a base joined to its directory
	Text string
}

// maxExtends bounds an extends chain.
const maxExtends = 32

// MaxFileSize bounds the size of an experiment file and of each base it
// extends (1 MiB); each must be a regular file (a FIFO or a device is
// refused at once, without blocking).
const MaxFileSize = 1 << 20

// Load reads the experiment file at path and the bases it extends, applies
// the --set overrides (each "key.path=value", the value parsed as YAML),
// validates everything against the plugin registries and expands the
// sweep. Any problem a user can cause is returned as an Errors value listing
// every problem found, one line each; Load never trains anything and does
// not panic on any input. It is safe for concurrent use.
func Load(path string, sets []string) (*Experiment, error) {
	return load(Sites, path, sets, LoadOptions{})
}

// LoadOptions are the options of LoadWith.
type LoadOptions struct {
	// Memory bounds the memory building a file task's dataset may take
	// while Load checks the data (tasks.Options.Memory): a file that needs
	// more is reported on the task's key without being built further.
	Memory tasks.MemoryLimit
	// NoLint skips the checks that only new experiments must pass (their
	// problems are ConfigError.Lint): for a plan whose runs are all
	// stored already, which load and resume with those settings.
	NoLint bool
	// Context, when not nil, ends the load early: once it is done, Load
	// stops between sweep points (a plan of 10,000 points takes seconds),
	// and in the middle of reading or hashing a data file for its
	// fingerprint (tasks.FingerprintFileContext: a corpus of a gigabyte
	// takes seconds), and returns an error that wraps its Err
	// (context.Canceled after Ctrl-C), not a partial plan.
	Context context.Context
}

// LoadWith is Load with options.
func LoadWith(path string, sets []string, opt LoadOptions) (*Experiment, error) {
	return load(Sites, path, sets, opt)
}

type loader struct {
	sites   registry.Sites
	data    *dataFiles
	sources []*source // the extends chain (experiment file first), then --set
	errs    Errors
	noLint  bool // LoadOptions.NoLint
	// pruned, while the sweep points are merged, counts for each key how
	// many points dropped it (prune): a key the user wrote that every point
	// drops is set for nothing.
	pruned map[string]int
	ctx    context.Context // LoadOptions.Context; nil: never done
	// points holds the overrides of each sweep point once plan has
	// expanded the sweep (nil without one): a key every point sets is
	// written by a layer above the files and --set (tinyNumbers).
	points []map[string]any
}

func load(sites registry.Sites, path string, sets []string, opt LoadOptions) (*Experiment, error) {
	l := &loader{sites: sites, noLint: opt.NoLint, ctx: opt.Context}
	chain := l.readChain(path)
	if len(l.errs) > 0 {
		return nil, l.errs.sorted()
	}
	// A malformed --set is reported with the rest; the others still apply.
	baseDir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		baseDir = filepath.Dir(path)
	}
	set, setTree := l.parseSets(sets, len(chain), baseDir)
	setErrs := len(l.errs)
	l.sources = append(slices.Clone(chain), set)

	// The user's layers: the deepest base first, the experiment file over
	// it, --set last.
	user := koanf.New(".")
	for i := len(chain) - 1; i >= 0; i-- {
		s := chain[i]
		if err := user.Load(rawbytes.Provider(s.text), kyaml.Parser(), koanf.WithMergeFunc(l.mergeFunc(s, false))); err != nil {
			l.errs = append(l.errs, yamlError(s, err))
		}
	}
	if err := user.Load(confmap.Provider(setTree, ""), nil, koanf.WithMergeFunc(l.mergeFunc(set, true))); err != nil {
		l.errs = append(l.errs, set.errorf(0, "", "%v", err))
	}
	if len(l.errs) > setErrs {
		return nil, l.errs.sorted()
	}
	// The defaults under everything.
	full := koanf.New(".")
	if err := full.Load(confmap.Provider(defaultTree(), ""), nil); err != nil {
		return nil, fmt.Errorf("experiments: load defaults: %w", err)
	}
	if err := full.Load(confmap.Provider(user.Raw(), ""), nil, koanf.WithMergeFunc(l.mergeFunc(nil, false))); err != nil {
		return nil, fmt.Errorf("experiments: merge defaults: %w", err)
	}

	x := &Experiment{File: path, Sets: slices.Clone(sets), Tree: user.Raw(), YAML: string(chain[0].text)}
	for _, s := range chain {
		x.Sources = append(x.Sources, Source{File: s.file, Text: string(s.text)})
	}
	x.BaseDir = baseDir
	l.data = &dataFiles{opt: tasks.Options{BaseDir: x.BaseDir, Memory: opt.Memory}, ctx: opt.Context, seen: map[string]dataFile{}}
	l.plan(x, full)
	if l.stopped() {
		return nil, fmt.Errorf("experiments: load %s: %w", path, l.ctx.Err())
	}
	if !l.noLint {
		l.errs = append(l.errs, tinyNumbers(l.sources, l.points, l.errs)...)
	}
	if len(l.errs) > 0 {
		return nil, l.errs.sorted()
	}
	return x, nil
}

// stopped reports whether the load's context is done: the loops over
// sweep points and runs ask it at each one, and stop.
func (l *loader) stopped() bool { return l.ctx != nil && l.ctx.Err() != nil }

// tinyNumbers reports, as lints, the numbers of the layers (source.tiny)
// that YAML reads as 0 though written with a digit other than 0, where no
// layer above writes the key too; the sweep points (their overrides) are
// the layer above all, so a key that every point sets (a grid over it, or
// every variant writing it) is no run's value. A lint, not a parse error:
// runs stored with the 0 it read keep resuming (LoadOptions.NoLint). A key
// that does not take a number (description: 1e-400) is no lint: its
// problem is its type, among errs (ConfigError.want), which shows the
// number as written (source.literals).
func tinyNumbers(sources []*source, points []map[string]any, errs Errors) Errors {
	var lints Errors
	for i, s := range sources {
		for path, n := range s.tiny {
			above := slices.ContainsFunc(sources[:i], func(o *source) bool { _, ok := o.lines[path]; return ok })
			if s.file != "--set" && sources[len(sources)-1].file == "--set" {
				_, set := sources[len(sources)-1].lines[path]
				above = above || set
			}
			if above || len(points) > 0 && !slices.ContainsFunc(points, func(p map[string]any) bool { return !writes(p, path) }) {
				continue
			}
			if slices.ContainsFunc(errs, func(e *ConfigError) bool { return e.Key == path && e.want != "" }) {
				continue
			}
			e := s.errorf(n.line, path, "the number %s is too small for a float64: it would read as 0 (write 0 if 0 is meant)", n.text)
			if s.file == "--set" {
				e.Line = 0
			}
			e.Lint = true
			lints = append(lints, e)
		}
	}
	return lints
}

// writes reports whether the overrides t of a sweep point write the
// configuration key path (train.clip, sizes[1]): the key itself, or a
// value above it that is not a map, which replaces the layers' as a whole
// (a list, null).
func writes(t map[string]any, path string) bool {
	var v any = t
	for part := range strings.SplitSeq(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return true
		}
		name, _, indexed := strings.Cut(part, "[")
		if v, ok = m[name]; !ok {
			return false
		}
		if indexed {
			return true // a list replaces the layers' as a whole
		}
	}
	return true
}

// readChain reads the experiment file and the bases it extends, checking
// each one's YAML; it returns the files read, the experiment file first.
func (l *loader) readChain(path string) []*source {
	var chain []*source
	seen := map[string]bool{}
	file := path
	for rank := 0; ; rank++ {
		var child *source
		if rank > 0 {
			child = chain[rank-1]
		}
		abs, err := filepath.Abs(file)
		if err != nil {
			abs = filepath.Clean(file)
		}
		if seen[abs] {
			names := make([]string, 0, len(chain)+1)
			for _, s := range chain {
				names = append(names, s.file)
			}
			names = append(names, file)
			l.errs = append(l.errs, child.errorf(child.extendsLine, "extends", "cycle: %s", strings.Join(names, " → ")))
			return nil
		}
		seen[abs] = true
		if rank > maxExtends {
			l.errs = append(l.errs, child.errorf(child.extendsLine, "extends", "extends chain longer than %d files", maxExtends))
			return nil
		}
		text, err := safein.ReadFile(file, MaxFileSize)
		if err != nil {
			if child == nil {
				l.errs = append(l.errs, &ConfigError{File: file, Msg: "read experiment file: " + err.Error()})
			} else {
				l.errs = append(l.errs, child.errorf(child.extendsLine, "extends", "base file %s: %s", file, err.Error()))
			}
			return nil
		}
		s := &source{file: file, rank: rank, text: text}
		if errs := parseSource(s); len(errs) > 0 {
			l.errs = append(l.errs, errs...)
			return nil
		}
		chain = append(chain, s)
		if s.extends == nil {
			return chain
		}
		if s.extends.Kind != yaml.ScalarNode || s.extends.ShortTag() != "!!str" || s.extends.Value == "" {
			l.errs = append(l.errs, s.errorf(s.extendsLine, "extends", "want the path of a base experiment file, got %s", nodeKind(s.extends)))
			return nil
		}
		next := s.extends.Value
		if !filepath.IsAbs(next) {
			next = filepath.Join(filepath.Dir(file), next)
		}
		file = next
	}
}

// parseSets turns the --set overrides into a nested tree (sweep keys keep
// their dotted config keys whole) and the source recording their paths. A
// relative file path given on the command line (task.path, task.src_path,
// ...) is relative to the working directory, as a shell user means it, not
// to the experiment file's directory (baseDir) as in the file: it is
// rewritten relative to baseDir.
func (l *loader) parseSets(sets []string, rank int, baseDir string) (*source, map[string]any) {
	s := &source{file: "--set", rank: rank, lines: map[string]int{}, stamps: map[string]string{}, dotted: map[string][2]string{}, literals: map[string]literal{}, tiny: map[string]tinyNumber{}, strTags: map[string]bool{}}
	tree := map[string]any{}
	for _, kv := range sets {
		key, raw, ok := strings.Cut(kv, "=")
		key = strings.TrimSpace(key)
		parts := setPath(key)
		if msg := setShape(kv, key, raw, ok, parts); msg != "" {
			l.errs = append(l.errs, s.errorf(0, "", "%q: %s", kv, msg))
			continue
		}
		if key == "extends" {
			l.errs = append(l.errs, s.errorf(0, key, "cannot be set with --set: write it in the experiment file"))
			continue
		}
		var doc yaml.Node
		var val any
		dec := yaml.NewDecoder(strings.NewReader(raw))
		err := dec.Decode(&doc)
		if err == nil {
			var line int
			if line, err = secondDocument(dec); err == nil && line > 0 {
				l.errs = append(l.errs, s.errorf(0, key, "value %q: a second YAML document (line %d, after ---): --set takes one value", raw, line))
				continue
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			msg := strings.TrimPrefix(err.Error(), "yaml: ")
			if strings.Contains(msg, "exceeded max depth of ") {
				msg = tooDeep // the library's own bound, far above ours
			} else if b := unbalanced(raw); b != "" {
				msg = b // what the library's words ("did not find expected node content") mean here
			}
			l.errs = append(l.errs, s.errorf(0, key, "value %q: %s", raw, msg))
			continue
		}
		// The walker first: its messages say more than the library's.
		for p := range s.literals {
			if p == key || isUnder(p, key) {
				delete(s.literals, p) // an earlier --set of the key
			}
		}
		for p := range s.tiny {
			if p == key || isUnder(p, key) {
				delete(s.tiny, p)
			}
		}
		for p := range s.strTags {
			if p == key || isUnder(p, key) {
				delete(s.strTags, p)
			}
		}
		w := &walker{src: s, budget: maxNodes}
		if len(doc.Content) > 0 {
			w.walk(doc.Content[0], key, 0)
		}
		if len(w.errs) > 0 || w.budget < 0 {
			msg := w.tooMany()
			switch {
			case w.deep > 0:
				msg = tooDeep
			case len(w.errs) > 0:
				msg = w.errs[0].Msg
				if sub, ok := strings.CutPrefix(w.errs[0].Key, key+"."); ok {
					msg = sub + ": " + msg // the key inside the value
				}
			}
			l.errs = append(l.errs, s.errorf(0, key, "value %q: %s", raw, msg))
			continue
		}
		if err := yaml.Unmarshal([]byte(raw), &val); err != nil {
			l.errs = append(l.errs, s.errorf(0, key, "value %q: %s", raw, strings.TrimPrefix(err.Error(), "yaml: ")))
			continue
		}
		for p := range s.lines {
			s.lines[p] = 0
		}
		s.lines[key] = 0
		if str, ok := val.(string); ok && len(parts) == 2 && parts[0] == "task" && strings.HasSuffix(parts[1], "path") &&
			str != "" && !filepath.IsAbs(str) {
			if abs, err := filepath.Abs(str); err == nil {
				if rel, err := filepath.Rel(baseDir, abs); err == nil {
					val = rel
				} else {
					val = abs
				}
			}
		}
		// Each override merges over the ones before it, map by map:
		// train={steps: 3} after train.optimizer.lr=0.1 keeps the
		// learning rate.
		one := map[string]any{}
		put(one, parts, s.normalize(val, key))
		mergeSet(one, tree, "")
	}
	return s, tree
}

// mergeSet merges the --set override in into the ones before it, dest:
// maps key by key (under sweep, as the --set layer merges: grid, zip,
// random and random.params entry by entry), anything else replaced. Unlike
// the merging of layers, a plugin named by a later override does not drop
// the parameters of an earlier one: both are the user's, checked together.
func mergeSet(in, dest map[string]any, path string) {
	for k, v := range in {
		p := joinPath(path, k)
		im, iok := v.(map[string]any)
		dm, dok := dest[k].(map[string]any)
		if iok && dok && mergeable(p, true) {
			mergeSet(im, dm, p)
			continue
		}
		dest[k] = v
	}
}

// setShape says what is wrong with the shape of the --set override kv,
// cut at its first = into key (trimmed) and raw (ok: there was an =), the
// key split into parts by setPath; "" when nothing is.
func setShape(kv, key, raw string, ok bool, parts []string) string {
	const want = "want key.path=value, such as train.steps=500"
	switch {
	case strings.TrimSpace(kv) == "":
		return "empty: " + want
	case !ok:
		return `no "=": ` + want
	case key == "":
		return `no key before "=": ` + want
	case parts == nil:
		return "an empty part in the key " + strconv.Quote(key) + ": " + want
	case strings.TrimSpace(raw) == "":
		return `no value after "=" (an empty string is written "")`
	}
	return ""
}

// setPath splits a --set key into map keys. Under sweep.grid, sweep.zip and
// sweep.random.params the rest of the key is one dotted config key.
func setPath(key string) []string {
	parts := strings.Split(key, ".")
	if slices.Contains(parts, "") {
		return nil
	}
	if parts[0] == "sweep" && len(parts) > 2 {
		switch {
		case parts[1] == "grid" || parts[1] == "zip":
			return []string{"sweep", parts[1], strings.Join(parts[2:], ".")}
		case parts[1] == "random" && parts[2] == "params" && len(parts) > 3:
			return []string{"sweep", "random", "params", strings.Join(parts[3:], ".")}
		}
	}
	return parts
}

// put sets tree[parts...] = v, replacing whatever is not a map on the way.
func put(tree map[string]any, parts []string, v any) {
	for _, p := range parts[:len(parts)-1] {
		sub, ok := tree[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			tree[p] = sub
		}
		tree = sub
	}
	tree[parts[len(parts)-1]] = v
}

// mergeFunc returns the koanf merge function of one layer (src is that
// layer's source, nil for an already normalized tree). It merges maps key by
// key, the layer winning, with three exceptions:
//   - extends is not merged (each file names its own base);
//   - under sweep, a file replaces each of grid, zip, variants, random and
//     exclude as a whole, while --set (sweepEntries) merges grid, zip,
//     random and random.params entry by entry;
//   - when a layer names a different plugin in a plugin block than the
//     layers under it, the lower layers' keys that the new plugin does not
//     take are dropped (switching attention from additive to dot drops dim;
//     switching the encoder from lstm to gru keeps hidden; switching to a
//     model that reads no encoder or attention drops those blocks).
func (l *loader) mergeFunc(src *source, sweepEntries bool) func(in, dest map[string]any) error {
	return func(in, dest map[string]any) error {
		if src != nil {
			src.normalize(in, "")
		}
		l.merge(in, dest, "", sweepEntries)
		return nil
	}
}

func (l *loader) merge(in, dest map[string]any, path string, sweepEntries bool) {
	for _, k := range sortedKeys(in) {
		if path == "" && k == "extends" {
			continue
		}
		p := joinPath(path, k)
		im, iok := in[k].(map[string]any)
		dm, dok := dest[k].(map[string]any)
		if !iok || !dok || !mergeable(p, sweepEntries) {
			dest[k] = cloneValue(in[k])
			continue
		}
		l.prune(p, im, dm)
		l.merge(im, dm, p, sweepEntries)
	}
}

func mergeable(path string, sweepEntries bool) bool {
	if path != "sweep" && !strings.HasPrefix(path, "sweep.") {
		return true
	}
	switch path {
	case "sweep":
		return true
	case "sweep.grid", "sweep.zip", "sweep.random", "sweep.random.params":
		return sweepEntries
	}
	return false
}

// prune drops from the lower block dest the keys that the plugin named by
// the upper block in neither takes as parameters nor reads as nested
// blocks, when in names a different plugin at a site of the table.
func (l *loader) prune(path string, in, dest map[string]any) {
	site, ok := l.sites.At(path)
	if !ok {
		return
	}
	name, ok := in["name"].(string)
	if !ok || name == dest["name"] {
		return
	}
	info, err := site.Catalog.Info(name)
	if err != nil {
		return
	}
	for k := range dest {
		if k != "name" && !info.IsParam(k) && !slices.Contains(info.Uses, k) {
			delete(dest, k)
			if l.pruned != nil {
				l.pruned[path+"."+k]++
			}
		}
	}
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	for i, a := range args {
		if s, ok := a.(string); ok && len(s) > maxEcho {
			args[i] = abbreviate(s)
		}
	}
	return fmt.Sprintf(format, args...)
}

// maxEcho bounds a string that an error echoes (a value from the file):
// a 200,000-character name is not repeated whole in a one-line error.
const maxEcho = 256

// abbreviate returns the first 64 characters of s and how long it was:
// "xxxx… (200000 bytes)"; s itself when it is at most maxEcho bytes.
func abbreviate(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut, n := 0, 0
	for i := range s {
		if n == 64 {
			cut = i
			break
		}
		n++
	}
	return s[:cut] + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// unbalanced says which bracket of a --set value that is a flow
// collection ([…] or {…}) is never closed, or closes nothing, outside
// quoted strings; "" when they pair up, or when the value is no flow
// collection (a plain or quoted scalar's brackets are text, and the
// library's message is the one to give).
func unbalanced(raw string) string {
	v := strings.TrimSpace(raw)
	if v == "" || (v[0] != '[' && v[0] != '{') {
		return ""
	}
	closer := map[rune]rune{'[': ']', '{': '}'}
	var open []rune
	var quote, prev rune // prev: the last rune outside quotes that is not a space
	escaped := false
	for _, r := range v {
		switch {
		case quote != 0:
			switch {
			case escaped:
				escaped = false
			case quote == '"' && r == '\\':
				escaped = true
			case r == quote:
				quote = 0
			}
			prev = r
			continue
		case (r == '"' || r == '\'') && strings.ContainsRune("[{,:", prev):
			quote = r // a quote opens a scalar only where one starts
		case r == '[' || r == '{':
			open = append(open, r)
		case r == ']' || r == '}':
			want := map[rune]rune{']': '[', '}': '{'}[r]
			switch {
			case len(open) == 0:
				return fmt.Sprintf("a %c closes no %c", r, want)
			case open[len(open)-1] != want:
				return fmt.Sprintf("a %c where %c closes the %c", r, closer[open[len(open)-1]], open[len(open)-1])
			}
			open = open[:len(open)-1]
		}
		if !unicode.IsSpace(r) {
			prev = r
		}
	}
	if len(open) > 0 {
		return fmt.Sprintf("a %c is never closed", open[len(open)-1])
	}
	return ""
}
