package experiments

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/knadh/koanf/v2"

	"github.com/attnlab/attnlab/registry"
)

// maxDescription bounds an experiment's description, in characters.
const maxDescription = 4000

// Run is one run of an experiment's plan: one sweep point with one seed.
type Run struct {
	Index int // position in the plan
	Seed  int
	// Point holds the sweep point's overrides by dotted key, and the
	// variant's name under "variant"; it is empty without a sweep.
	Point map[string]any
	// Label shows the point briefly, e.g. "variant=mha4
	// train.optimizer.lr=0.001"; "" without a sweep.
	Label string
	// VariantKeys are the keys of Point the variant sets: they follow
	// from its name (see StoredPoint).
	VariantKeys []string
	Config      Config // resolved, every default filled, Seed set
	// Canonical is the canonical JSON of Config: keys sorted, defaults
	// filled, the seed included, Description and BaseDir left out.
	Canonical []byte
	// Hash is the hex SHA-256 of Canonical, first 16 characters: the run's
	// identity within its experiment.
	Hash string
	// Params lists every leaf of Canonical, sorted by dotted key.
	Params []Param
}

// Param is one resolved leaf of a run's configuration: a dotted key
// ("model.attention.heads", "seed") and its value: a string, an int, a
// float64, a bool, or the compact JSON text of a list.
type Param struct {
	Key   string
	Value any
}

// Plan returns the runs of the experiment: every sweep point (in the order
// variants, grid keys in sorted order, zip rows, random samples, the last
// varying fastest) for the first seed, then every point for the next seed,
// and so on, so that an interrupted plan has seen every point before it
// repeats one. The runs are computed and validated by Load; Plan returns
// fresh copies and no error for an Experiment returned by Load.
func (x *Experiment) Plan() ([]Run, error) {
	if x == nil || len(x.runs) == 0 {
		return nil, fmt.Errorf("experiments: Plan of an experiment not returned by Load")
	}
	out := make([]Run, len(x.runs))
	for i, r := range x.runs {
		r.Point = cloneMap(r.Point)
		r.VariantKeys = slices.Clone(r.VariantKeys)
		r.Config = r.Config.Clone()
		r.Canonical = slices.Clone(r.Canonical)
		r.Params = slices.Clone(r.Params)
		out[i] = r
	}
	return out, nil
}

// StoredPoint returns the point as a run stores it (store.Run.Point, which
// names the run): Point without the keys the variant sets, which its name
// stands for (the run's config holds their values), so that the name of a
// run of variant chunked is ".../chunked/seed=1", not followed by the
// plugin block the variant sets. Variants never share a key with the
// grid, a zip or a random search, so the point still tells the runs apart.
func (r Run) StoredPoint() map[string]any {
	m := cloneMap(r.Point)
	for _, k := range r.VariantKeys {
		delete(m, k)
	}
	return m
}

// VaryingKeys returns the param keys, sorted, whose values are not the same
// in every run (a key missing from some runs varies); the seed is left out.
// Comparisons group runs by these keys.
func VaryingKeys(runs []Run) []string {
	values := map[string]map[string]bool{}
	count := map[string]int{}
	for _, r := range runs {
		for _, p := range r.Params {
			if p.Key == "seed" {
				continue
			}
			if values[p.Key] == nil {
				values[p.Key] = map[string]bool{}
			}
			values[p.Key][fmt.Sprintf("%T %s", p.Value, FormatValue(p.Value))] = true
			count[p.Key]++
		}
	}
	var out []string
	for k, vs := range values {
		if len(vs) > 1 || count[k] < len(runs) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// searchOrder returns the sources in the order a key's location is
// looked up: --set, then the experiment file, then its bases.
func (l *loader) searchOrder() []*source {
	n := len(l.sources)
	return append([]*source{l.sources[n-1]}, l.sources[:n-1]...)
}

// pointBase returns a deep copy of tree without its sweep, the tree a
// point's overrides are merged into. The sweep is no part of a point's
// configuration, and it grows with the points: copied for each of them
// (and kept, as plan keeps each point's tree), it made a plan of n points
// take time and memory in n² — 2,000 variants took 1.8 GB.
func pointBase(tree map[string]any) map[string]any {
	t := make(map[string]any, len(tree))
	for k, v := range tree {
		if k != "sweep" {
			t[k] = cloneValue(v)
		}
	}
	return t
}

// checkAlone resolves the configuration with p's overrides alone set and
// reports, through r, what it finds wrong at one of p's keys or under it
// (other problems are the configuration's own, which r has checked, or
// may come from keys swept with p's), each key once.
func (l *loader) checkAlone(r *resolver, tree map[string]any, sources []*source, p *point) {
	if l.stopped() {
		return
	}
	t := pointBase(tree)
	l.merge(p.tree(), t, "", false)
	pr := &resolver{sites: l.sites, data: l.data, noLint: l.noLint, loc: &locator{sources: sources, point: p}}
	pr.config(t)
	for _, e := range pr.errs.sorted() {
		if r.reported[e.Key] || !slices.ContainsFunc(p.keys, func(k string) bool { return e.Key == k || isUnder(e.Key, k) }) {
			continue
		}
		if r.reported == nil {
			r.reported = map[string]bool{}
		}
		r.reported[e.Key] = true
		r.errs = append(r.errs, e)
	}
}

// checkParts checks, when the sweep as a whole cannot be expanded, each
// value of its well-formed grid and zip keys and each of its variants on
// its own, so that a key the configuration does not take
// (model.attention.nme) or a value it refuses is said with the sweep's
// other problems, not once they are fixed.
func (l *loader) checkParts(r *resolver, tree map[string]any, sources []*source, sw *sweep) {
	alone := func() *point { return &point{values: map[string]any{}, locs: map[string]location{}} }
	for _, a := range sw.grid {
		for _, v := range a.values {
			p := alone()
			p.set(a.key, v, r.loc.at(a.path))
			l.checkAlone(r, tree, sources, p)
		}
	}
	for _, a := range sw.zip {
		for i, v := range a.values {
			p := alone()
			p.set(a.key, v, r.loc.at(a.path+"["+strconv.Itoa(i)+"]"))
			l.checkAlone(r, tree, sources, p)
		}
	}
	for _, vr := range sw.variants {
		p := alone()
		p.variant = vr.name
		for _, k := range vr.keys {
			p.set(k, vr.values[k], r.loc.at(vr.path+"."+k))
		}
		l.checkAlone(r, tree, sources, p)
	}
}

// plan validates the experiment-level keys, expands the sweep, resolves
// every point and fills x.
func (l *loader) plan(x *Experiment, full *koanf.Koanf) {
	tree := full.Raw()
	sources := l.searchOrder()
	r := &resolver{sites: l.sites, data: l.data, noLint: l.noLint, loc: &locator{sources: sources}}
	defer func() { l.errs = append(l.errs, r.errs...) }()

	for _, k := range sortedKeys(tree) {
		if !slices.Contains(topKeys, k) {
			r.bad(k, "unknown key (known: %s)%s", strings.Join(topKeys, ", "), didYouMean(k, topKeys))
		}
	}
	switch name := tree["name"].(type) {
	case nil:
		r.bad("name", "required: the experiment's name, 1 to 100 characters among a-z, 0-9, _, . and -, not starting with -")
	case string:
		switch {
		case !nameRE.MatchString(name) || len(name) > 100 || strings.HasPrefix(name, "-"):
			// Not starting with -: "show -n/none/seed=1" would be a flag.
			r.bad("name", "want 1 to 100 characters among a-z, 0-9, _, . and -, not starting with -, got %q", name)
		case dotName(name):
			r.bad("name", "%q names a directory in a path or a link (/x/%s): choose another name", name, name)
		}
		x.Name = name
	default:
		r.badType("name", "string", "want string, got "+describe(name))
	}
	if d, ok := tree["description"]; ok {
		if s, ok := d.(string); ok {
			x.Description = s
			if n := utf8.RuneCountInString(s); n > maxDescription {
				r.bad("description", "%d characters, more than %d: a description is a sentence or a paragraph", n, maxDescription)
			}
		} else {
			r.badType("description", "string", "want string, got "+describe(d))
		}
	}
	x.Seeds = r.seeds(tree["seeds"])
	if l.data != nil {
		// The data check builds each file task's dataset as the first
		// run will, so that run can take it (tasks' memo).
		seeds := x.Seeds
		if len(seeds) == 0 {
			seeds = DefaultSeeds
		}
		l.data.opt.Seed = uint64(seeds[0])
	}
	sw, ok := r.parseSweep(tree["sweep"])
	if !ok {
		// Still check the configuration without the sweep, and the
		// sweep's well-formed parts one by one.
		r.config(tree)
		if sw != nil {
			l.checkParts(r, tree, sources, sw)
		}
		return
	}
	if sw.underScalar(tree) {
		// A sweep key under a value that is not a map (--set model=5 with
		// a grid of model.attention.name) would replace that value at
		// every point, and its problem be blamed on the keys below it:
		// when the configuration without the sweep is refused, that is
		// what is reported.
		cr := &resolver{sites: l.sites, data: l.data, noLint: l.noLint, loc: r.loc}
		if cr.config(tree); len(cr.errs) > 0 {
			r.config(tree)
			return
		}
	}
	if n := sw.count() * max(len(x.Seeds), 1); n > MaxRuns {
		r.bad("sweep", "the sweep has more than %d runs (points × seeds)", MaxRuns)
		return
	}
	if l.stopped() {
		return
	}
	pts := r.expand(sw, func(path string) location { return r.loc.at(path) }, l.stopped)
	if l.stopped() {
		return
	}
	for _, p := range pts {
		l.points = append(l.points, p.tree())
	}
	if len(pts) == 0 {
		r.config(tree)
		return
	}

	type failure struct {
		err       *ConfigError
		labels    []string
		points    map[int]bool   // the failing points
		values    map[string]int // the key's values at them, as JSON, and at how many
		ofVariant bool           // a variant of a failing point set the key
	}
	// What the failures ask of every point, by key, found once per key: a
	// question asked of every point for each failing one took time in n²
	// (a grid of 3,000 misspelt names, 12 s of CPU).
	var (
		trees   = make([]map[string]any, len(pts))
		counts  = map[string]map[string]int{} // key → value as JSON → the points with it
		lacking = map[string]bool{}           // key → some point does not set it
	)
	valueCounts := func(key string) map[string]int {
		c, ok := counts[key]
		if !ok {
			c = map[string]int{}
			for _, t := range trees {
				c[valueAt(t, key)]++
			}
			counts[key] = c
		}
		return c
	}
	someLacks := func(key string) bool {
		lack, ok := lacking[key]
		if !ok {
			lack = slices.ContainsFunc(pts, func(q *point) bool {
				_, set := q.values[key]
				return !set
			})
			lacking[key] = lack
		}
		return lack
	}
	var failures []*failure
	byText := map[string]*failure{}
	configs := make([]Config, len(pts))
	l.pruned = map[string]int{}
	defer func() { l.pruned = nil }()
	for i, p := range pts {
		if l.stopped() {
			return
		}
		// The point is the last layer, merged by the same rules as the
		// others (directly: a koanf copy per point is slow for big sweeps).
		t := pointBase(tree)
		l.merge(p.tree(), t, "", false)
		trees[i] = t
		pr := &resolver{sites: l.sites, data: l.data, noLint: l.noLint, loc: &locator{sources: sources, point: p}}
		configs[i] = pr.config(t)
		for _, e := range pr.errs.sorted() {
			key := e.Error()
			f := byText[key]
			if f == nil {
				f = &failure{err: e}
				byText[key] = f
				failures = append(failures, f)
			}
			if f.points == nil {
				f.points, f.values = map[int]bool{}, map[string]int{}
			}
			if f.points[i] {
				continue
			}
			f.labels = append(f.labels, p.labelText())
			f.points[i] = true
			f.values[valueAt(t, e.Key)]++
			// An item's key (eval.context[1]) is its list's, as in valueAt:
			// a point sets the list as a whole.
			set, _, _ := strings.Cut(e.Key, "[")
			if _, ok := p.values[set]; ok && p.variant != "" && someLacks(set) {
				f.ofVariant = true // set by the point's variant: other points lack it, as grid keys are at every point
			}
		}
	}
	// A key the file or --set wrote under a plugin that every point
	// replaces by one that does not take it would be silently ignored.
	bySource := &locator{sources: sources}
	for _, k := range slices.Sorted(maps.Keys(l.pruned)) {
		if l.pruned[k] == len(pts) && bySource.wrote(k) {
			site, param := k[:strings.LastIndex(k, ".")], k[strings.LastIndex(k, ".")+1:]
			r.bad(k, "set for nothing: every sweep point names at %s a plugin that takes no %s", site, param)
		}
	}
	for _, f := range failures {
		if len(pts) > 1 && len(f.labels) < len(pts) {
			f.err.Msg += " (sweep point " + abbreviate(f.labels[0])
			if len(f.labels) > 1 {
				f.err.Msg += " and " + strconv.Itoa(len(f.labels)-1) + " more"
			}
			// The same value of the key passes at another point: the
			// point's other keys refuse it (a dim the monotonic mode does
			// not take), and variants give a key to some points only. (A
			// value refused everywhere, or one a variant set — fix the
			// variant — gets no hint.)
			if !f.ofVariant {
				all := valueCounts(f.err.Key)
				for v, n := range f.values {
					if all[v] > n { // a point that passes has the value
						f.err.Msg += "; sweep.variants sets keys for some points only"
						break
					}
				}
			}
			f.err.Msg += ")"
		}
		r.errs = append(r.errs, f.err)
	}
	if len(r.errs) > 0 {
		return
	}

	// Two points that resolve to one configuration would be one run.
	seen := map[string]int{}
	for i, c := range configs {
		if l.stopped() {
			return
		}
		b, err := json.Marshal(c.tree())
		if err != nil {
			r.bad("sweep", "sweep point %s: encode config: %v", pts[i].labelText(), err)
			return
		}
		if j, dup := seen[string(b)]; dup {
			r.bad("sweep", "sweep points %s and %s resolve to the same configuration", pts[j].labelText(), pts[i].labelText())
			continue
		}
		seen[string(b)] = i
	}
	if len(r.errs) > 0 {
		return
	}
	for _, seed := range x.Seeds {
		for i, p := range pts {
			if l.stopped() {
				return
			}
			c := configs[i].Clone()
			c.Name, c.Description, c.Seed, c.BaseDir = x.Name, x.Description, seed, x.BaseDir
			t := c.tree()
			canon, err := json.Marshal(t)
			if err != nil {
				r.bad("", "encode the configuration of sweep point %s: %v", p.labelText(), err)
				return
			}
			sum := sha256.Sum256(canon)
			run := Run{Index: len(x.runs), Seed: seed, Point: p.pointMap(), Label: p.labelText(), Config: c,
				Canonical: canon, Hash: hex.EncodeToString(sum[:])[:16], VariantKeys: p.variantKeys()}
			flatten("", t, &run.Params)
			slices.SortFunc(run.Params, func(a, b Param) int { return strings.Compare(a.Key, b.Key) })
			x.runs = append(x.runs, run)
		}
	}
}

func (r *resolver) seeds(v any) []int {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		r.bad("seeds", "want a non-empty list of integer seeds such as [1, 2, 3], got %s", describe(v))
		return nil
	}
	var out []int
	for i, it := range list {
		key := "seeds[" + strconv.Itoa(i) + "]"
		n, ok := asInt(it)
		big, tooLarge := tooLargeInt(nil, it)
		switch {
		case tooLarge:
			r.bad(key, "%s", big)
		case !ok:
			r.bad(key, "want int, got %s%s", describe(it), registry.MismatchHint("int", it))
		case n < 0:
			r.bad(key, "must not be negative, got %d", n)
		case slices.Contains(out, n):
			r.bad(key, "seed %d is listed twice", n)
		default:
			out = append(out, n)
		}
	}
	return out
}

// flatten appends the leaves of t as Params: nested maps join their keys
// with '.', lists become compact JSON text.
func flatten(prefix string, t map[string]any, out *[]Param) {
	for k, v := range t {
		key := joinPath(prefix, k)
		switch x := v.(type) {
		case map[string]any:
			flatten(key, x, out)
		case []any, []int, []float64, []string, []bool:
			b, _ := json.Marshal(x)
			*out = append(*out, Param{Key: key, Value: string(b)})
		default:
			*out = append(*out, Param{Key: key, Value: x})
		}
	}
}

// valueAt returns the value at a dotted key of a configuration tree as
// JSON ("" when the tree has none there), for comparing points. The key of
// an item (eval.length_buckets[1]) gives its whole list, which is what a
// sweep point sets: an item matched nothing, so every point had "" there.
func valueAt(t map[string]any, key string) string {
	key, _, _ = strings.Cut(key, "[")
	var v any = t
	for part := range strings.SplitSeq(key, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		if v, ok = m[part]; !ok {
			return ""
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
