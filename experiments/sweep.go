package experiments

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/registry"
)

// MaxRuns bounds the runs of one experiment (sweep points × seeds).
const MaxRuns = 10_000

// sweep is the parsed sweep section.
type sweep struct {
	variants []variant
	grid     []axis // sorted by key
	zip      []axis // sorted by key, all of one length
	random   *random
	exclude  []rule
}

type variant struct {
	name   string
	keys   []string // sorted
	values map[string]any
	path   string // sweep.variants[i]
}

type axis struct {
	key    string
	values []any
	path   string // where the key is written
}

type random struct {
	samples, seed int
	params        []dist // sorted by key
}

type dist struct {
	key    string
	kind   string // uniform, log_uniform, int, choice
	lo, hi float64
	values []any // choice
	path   string
}

type rule struct {
	values map[string]any
	path   string // sweep.exclude[i]
}

// point is one sweep point: the overrides it applies to the configuration.
type point struct {
	keys    []string       // override keys, in the order they were swept
	values  map[string]any // override key → value
	locs    map[string]location
	variant string
	label   []string // the keys of the label, in order
}

var nameRE = regexp.MustCompile(`^[a-z0-9_.-]+$`)

// dotName reports whether a name is "." or "..", which nameRE allows but
// a path, a run name or a browser's link would take for a directory.
func dotName(name string) bool { return name == "." || name == ".." }

var distKinds = []string{"uniform", "log_uniform", "int", "choice"}

// parseSweep reads the sweep section, reporting every problem through r.
func (r *resolver) parseSweep(v any) (*sweep, bool) {
	sw := &sweep{}
	if v == nil {
		return sw, true
	}
	m, ok := asMap(v)
	if !ok {
		r.bad("sweep", "want a map with grid, zip, variants, random or exclude, got %s", describe(v))
		return nil, false
	}
	n := len(r.errs)
	for _, k := range sortedKeys(m) {
		if !slices.Contains(sweepKinds, k) {
			r.bad("sweep."+k, "unknown key (known: %s)%s", strings.Join(sweepKinds, ", "), didYouMean(k, sweepKinds))
		}
	}
	sw.grid = r.axes("sweep.grid", m["grid"], m["grid"] != nil)
	sw.zip = r.axes("sweep.zip", m["zip"], m["zip"] != nil)
	for _, a := range sw.zip {
		if len(a.values) != len(sw.zip[0].values) {
			here := strconv.Itoa(len(a.values)) + " values"
			if len(a.values) == 1 {
				here = "1 value"
			}
			r.bad(a.path, "zip lists must have one length: %s here, %d for %s", here, len(sw.zip[0].values), sw.zip[0].key)
		}
	}
	if v, ok := m["variants"]; ok {
		sw.variants = r.variants(v)
	}
	if v, ok := m["random"]; ok {
		sw.random = r.random(v)
	}
	// A key may be swept once (different variants may set the same key).
	type claim struct{ key, owner, path string }
	var claims []claim
	take := func(key, owner, path string) {
		for _, c := range claims {
			overlap := c.key == key || isUnder(c.key, key) || isUnder(key, c.key)
			bothVariants := strings.HasPrefix(c.owner, "sweep.variants[") && strings.HasPrefix(owner, "sweep.variants[")
			if overlap && !(bothVariants && c.owner != owner) {
				r.bad(path, "%s is also swept by %s", key, c.path)
				return
			}
		}
		claims = append(claims, claim{key, owner, path})
	}
	for _, vr := range sw.variants {
		for _, k := range vr.keys {
			take(k, vr.path, vr.path+"."+k)
		}
	}
	for _, a := range sw.grid {
		take(a.key, "sweep.grid", a.path)
	}
	for _, a := range sw.zip {
		take(a.key, "sweep.zip", a.path)
	}
	if sw.random != nil {
		for _, d := range sw.random.params {
			take(d.key, "sweep.random", d.path)
		}
	}
	// A --set of a key that the grid, a zip or a random search sets at
	// every point would be overridden by each: said, not silently ignored.
	// (A variant sets its keys at its own points only; a key under a swept
	// map is merged into each point's map: both --sets take effect.)
	for _, s := range r.loc.sources {
		if s.file != "--set" {
			continue
		}
		for _, k := range sortedKeys(s.lines) {
			if i := slices.IndexFunc(claims, func(c claim) bool {
				return k == c.key && !strings.HasPrefix(c.owner, "sweep.variants[")
			}); i >= 0 {
				r.errs = append(r.errs, &ConfigError{File: s.file, Key: k, rank: s.rank,
					Msg: sprintf("swept by %s, which sets it at every sweep point: change the sweep instead", claims[i].path)})
			}
		}
	}
	swept := map[string]bool{}
	for _, c := range claims {
		swept[c.key] = true
	}
	if v, ok := m["exclude"]; ok {
		sw.exclude = r.rules(v, swept, len(sw.variants) > 0)
	}
	return sw, len(r.errs) == n
}

// sweepKey checks that a swept key is a configuration path.
func (r *resolver) sweepKey(path, key string) bool {
	parts := strings.Split(key, ".")
	if slices.Contains(parts, "") || strings.ContainsAny(key, "[] ") || !slices.Contains(configBlocks, parts[0]) {
		r.bad(path, "not a configuration key: a sweep key is a dotted path under %s", strings.Join(configBlocks, ", "))
		return false
	}
	return true
}

func (r *resolver) axes(path string, v any, present bool) []axis {
	if !present {
		return nil
	}
	m, ok := asMap(v)
	if !ok || len(m) == 0 {
		r.bad(path, "want a map of config keys to lists of values, got %s", describe(v))
		return nil
	}
	var out []axis
	for _, k := range sortedKeys(m) {
		p := path + "." + k
		if !r.sweepKey(p, k) {
			continue
		}
		vals, ok := m[k].([]any)
		if !ok || len(vals) == 0 {
			r.bad(p, "want a non-empty list of values, got %s", describe(m[k]))
			continue
		}
		if i, j, dup := duplicate(vals); dup {
			r.bad(p+"["+strconv.Itoa(j)+"]", "value %s repeats item %d", FormatValue(vals[j]), i)
			continue
		}
		out = append(out, axis{key: k, values: vals, path: p})
	}
	return out
}

func (r *resolver) variants(v any) []variant {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		r.bad("sweep.variants", "want a non-empty list of maps, each with a name and config overrides, got %s", describe(v))
		return nil
	}
	var out []variant
	seen := map[string]int{}
	for i, it := range list {
		path := "sweep.variants[" + strconv.Itoa(i) + "]"
		m, ok := asMap(it)
		if !ok {
			r.bad(path, "want a map with a name and config overrides, got %s", describe(it))
			continue
		}
		name, ok := m["name"].(string)
		if m["name"] == nil {
			r.bad(path+".name", "required: the variant's name, of characters among a-z, 0-9, _, . and -")
			continue
		}
		if !ok || !nameRE.MatchString(name) {
			r.bad(path+".name", "want a name of characters among a-z, 0-9, _, . and -, got %s", describe(m["name"]))
			continue
		}
		if dotName(name) {
			r.bad(path+".name", "%q reads as a directory in a run name (%s/seed=1): choose another name", name, name)
			continue
		}
		if j, dup := seen[name]; dup {
			r.bad(path+".name", "variant %q already defined by sweep.variants[%d]", name, j)
			continue
		}
		seen[name] = i
		vr := variant{name: name, values: map[string]any{}, path: path}
		for _, k := range sortedKeys(m) {
			if k == "name" || !r.sweepKey(path+"."+k, k) {
				continue
			}
			vr.keys = append(vr.keys, k)
			vr.values[k] = m[k]
		}
		out = append(out, vr)
	}
	return out
}

func (r *resolver) random(v any) *random {
	m, ok := asMap(v)
	if !ok {
		r.bad("sweep.random", "want a map with samples, seed and params, got %s", describe(v))
		return nil
	}
	rs := &random{}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(randomKeys, k) {
			r.bad("sweep.random."+k, "unknown key (known: %s)%s", strings.Join(randomKeys, ", "), didYouMean(k, randomKeys))
		}
	}
	samples, ok := asInt(m["samples"])
	big, tooLarge := tooLargeInt(&registry.Range{Lo: 1, Hi: MaxRuns}, m["samples"])
	switch {
	case m["samples"] == nil:
		r.bad("sweep.random.samples", "required: the number of random points to draw")
	case tooLarge:
		r.bad("sweep.random.samples", "%s", big)
	case !ok:
		r.bad("sweep.random.samples", "want int, got %s", describe(m["samples"]))
	case samples < 1 || samples > MaxRuns:
		r.bad("sweep.random.samples", "must be in [1, %d], got %d", MaxRuns, samples)
	}
	rs.samples = samples
	if sv, ok := m["seed"]; ok {
		if msg, big := tooLargeInt(nil, sv); big {
			r.bad("sweep.random.seed", "%s", msg)
		} else if rs.seed, ok = asInt(sv); !ok {
			r.bad("sweep.random.seed", "want int, got %s", describe(sv))
		}
	}
	pm, ok := asMap(m["params"])
	if !ok || len(pm) == 0 {
		r.bad("sweep.random.params", "want a map of config keys to distributions ({uniform: [lo, hi]}, {log_uniform: [lo, hi]}, {int: [lo, hi]} or {choice: [values]}), got %s", describe(m["params"]))
		return nil
	}
	for _, k := range sortedKeys(pm) {
		path := "sweep.random.params." + k
		if !r.sweepKey(path, k) {
			continue
		}
		if d, ok := r.dist(path, k, pm[k]); ok {
			rs.params = append(rs.params, d)
		}
	}
	return rs
}

func (r *resolver) dist(path, key string, v any) (dist, bool) {
	m, ok := asMap(v)
	if !ok || len(m) != 1 {
		r.bad(path, "want one distribution ({uniform: [lo, hi]}, {log_uniform: [lo, hi]}, {int: [lo, hi]} or {choice: [values]}), got %s", describe(v))
		return dist{}, false
	}
	kind := sortedKeys(m)[0]
	d := dist{key: key, kind: kind, path: path}
	args, isList := m[kind].([]any)
	switch kind {
	case "choice":
		if !isList || len(args) == 0 {
			r.bad(path+".choice", "want a non-empty list of values, got %s", describe(m[kind]))
			return d, false
		}
		if i, j, dup := duplicate(args); dup {
			r.bad(path+".choice["+strconv.Itoa(j)+"]", "value %s repeats item %d", FormatValue(args[j]), i)
			return d, false
		}
		d.values = args
		return d, true
	case "uniform", "log_uniform", "int":
		if !isList || len(args) != 2 {
			r.bad(path+"."+kind, "want [lo, hi], got %s", describe(m[kind]))
			return d, false
		}
		var ok1, ok2 bool
		if kind == "int" {
			var lo, hi int
			lo, ok1 = asInt(args[0])
			hi, ok2 = asInt(args[1])
			d.lo, d.hi = float64(lo), float64(hi)
		} else {
			d.lo, ok1 = asFloat(args[0])
			d.hi, ok2 = asFloat(args[1])
		}
		switch {
		case !ok1 || !ok2:
			r.bad(path+"."+kind, "want two %s bounds, got %s", map[bool]string{true: "integer", false: "numeric"}[kind == "int"], describe(m[kind]))
		case math.IsNaN(d.lo) || math.IsNaN(d.hi) || math.IsInf(d.lo, 0) || math.IsInf(d.hi, 0):
			r.bad(path+"."+kind, "want finite bounds, got %s", describe(m[kind]))
		case !(d.lo < d.hi) && kind != "int" || kind == "int" && d.lo > d.hi:
			r.bad(path+"."+kind, "want lo < hi, got %s", describe(m[kind]))
		case kind == "uniform" && math.IsInf(d.hi-d.lo, 0):
			r.bad(path+"."+kind, "the bounds are too far apart to draw between (hi - lo is above the largest float, about 1.8e308), got %s", describe(m[kind]))
		case kind == "log_uniform" && d.lo <= 0:
			r.bad(path+"."+kind, "log_uniform bounds must be positive, got %s", describe(m[kind]))
		default:
			return d, true
		}
		return d, false
	}
	r.bad(path+"."+kind, "unknown distribution (known: %s)", strings.Join(distKinds, ", "))
	return d, false
}

func (r *resolver) rules(v any, swept map[string]bool, hasVariants bool) []rule {
	list, ok := v.([]any)
	if !ok {
		r.bad("sweep.exclude", "want a list of maps of swept keys to values, got %s", describe(v))
		return nil
	}
	known := sortedKeys(swept)
	if hasVariants {
		known = append([]string{"variant"}, known...)
	}
	var out []rule
	for i, it := range list {
		path := "sweep.exclude[" + strconv.Itoa(i) + "]"
		m, ok := asMap(it)
		if !ok || len(m) == 0 {
			r.bad(path, "want a map of swept keys to values, got %s", describe(it))
			continue
		}
		good := true
		for _, k := range sortedKeys(m) {
			if !slices.Contains(known, k) {
				if len(known) == 0 {
					r.bad(path+"."+k, "not a swept key: the sweep has no grid, zip, variants or random to exclude points of")
				} else {
					r.bad(path+"."+k, "not a swept key (swept: %s)%s", strings.Join(known, ", "), didYouMean(k, known))
				}
				good = false
			}
		}
		if good {
			out = append(out, rule{values: m, path: path})
		}
	}
	return out
}

// keys returns every key the sweep sets, in no particular order.
func (sw *sweep) keys() []string {
	var out []string
	for _, vr := range sw.variants {
		out = append(out, vr.keys...)
	}
	for _, a := range append(slices.Clone(sw.grid), sw.zip...) {
		out = append(out, a.key)
	}
	if sw.random != nil {
		for _, d := range sw.random.params {
			out = append(out, d.key)
		}
	}
	return out
}

// underScalar reports whether a key the sweep sets lies under a value of
// tree that is not a map, null included (model.attention.name under
// model: 5 or model.attention: null).
func (sw *sweep) underScalar(tree map[string]any) bool {
	for _, k := range sw.keys() {
		parts := strings.Split(k, ".")
		t := tree
		for _, p := range parts[:len(parts)-1] {
			v, ok := t[p]
			if !ok {
				break
			}
			if t, ok = asMap(v); !ok {
				return true
			}
		}
	}
	return false
}

// count returns the number of sweep points before exclusion (saturating
// at MaxRuns+1).
func (sw *sweep) count() int {
	n := 1
	mul := func(k int) {
		if k > 0 {
			n = min(n*k, MaxRuns+1)
		}
	}
	mul(len(sw.variants))
	for _, a := range sw.grid {
		mul(len(a.values))
	}
	if len(sw.zip) > 0 {
		mul(len(sw.zip[0].values))
	}
	if sw.random != nil {
		mul(sw.random.samples)
	}
	return n
}

// expand returns the sweep points in plan order: variants outermost, then
// the grid keys in sorted order, the zip rows, and the random samples
// innermost; excluded points are left out. Once stop (when not nil)
// reports true, the exclusion stops and expand returns nil, reporting
// nothing (Ctrl-C: see excluder.apply).
func (r *resolver) expand(sw *sweep, locs func(path string) location, stop func() bool) []*point {
	pts := []*point{{values: map[string]any{}, locs: map[string]location{}}}
	product := func(n int, apply func(p *point, i int)) {
		var out []*point
		for _, p := range pts {
			for i := range n {
				q := p.clone()
				apply(q, i)
				out = append(out, q)
			}
		}
		pts = out
	}
	if len(sw.variants) > 0 {
		product(len(sw.variants), func(p *point, i int) {
			vr := sw.variants[i]
			p.variant = vr.name
			p.label = append(p.label, "variant")
			for _, k := range vr.keys {
				at := locs(vr.path + "." + k)
				at.strTag = r.loc.strTag(vr.path + "." + k)
				p.set(k, vr.values[k], at)
			}
		})
	}
	for _, a := range sw.grid {
		product(len(a.values), func(p *point, i int) {
			at := locs(a.path)
			at.strTag = r.loc.strTag(a.path + "[" + strconv.Itoa(i) + "]")
			p.set(a.key, a.values[i], at)
			p.label = append(p.label, a.key)
		})
	}
	if len(sw.zip) > 0 {
		product(len(sw.zip[0].values), func(p *point, i int) {
			for _, a := range sw.zip {
				at := locs(a.path + "[" + strconv.Itoa(i) + "]")
				at.strTag = r.loc.strTag(a.path + "[" + strconv.Itoa(i) + "]")
				p.set(a.key, a.values[i], at)
				p.label = append(p.label, a.key)
			}
		})
	}
	if sw.random != nil {
		draws := r.draw(sw.random)
		if draws == nil {
			return nil
		}
		product(len(draws), func(p *point, i int) {
			for j, d := range sw.random.params {
				p.set(d.key, draws[i][j], locs(d.path))
				p.label = append(p.label, d.key)
			}
		})
	}
	ex := newExcluder(sw.exclude)
	ex.stop = stop
	dropped, matched := ex.apply(pts)
	if dropped == nil {
		return nil // stopped
	}
	kept := pts[:0]
	for i, p := range pts {
		if !dropped[i] {
			kept = append(kept, p)
		}
	}
	for i, ru := range sw.exclude {
		if !matched[i] {
			r.bad(ru.path, "matches no sweep point")
		}
	}
	if len(kept) == 0 && len(pts) > 0 {
		r.bad("sweep.exclude", "every sweep point is excluded")
	}
	return kept
}

// draw returns the random samples: for each, one value per parameter in
// the order of rs.params. Samples are distinct; floats are rounded to four
// significant digits, so that labels and stored configs stay readable.
func (r *resolver) draw(rs *random) [][]any {
	rng := rand.New(rand.NewPCG(uint64(rs.seed), 0x6174746e6c6162)) // "attnlab"
	var out [][]any
	seen := map[string]bool{}
	for tries := 0; len(out) < rs.samples && tries < 100*rs.samples+100; tries++ {
		s := make([]any, len(rs.params))
		for j, d := range rs.params {
			switch d.kind {
			case "uniform":
				s[j] = round4(d.lo + (d.hi-d.lo)*rng.Float64())
			case "log_uniform":
				s[j] = round4(math.Exp(math.Log(d.lo) + (math.Log(d.hi)-math.Log(d.lo))*rng.Float64()))
			case "int":
				s[j] = int(d.lo) + rng.IntN(int(d.hi-d.lo)+1)
			case "choice":
				s[j] = d.values[rng.IntN(len(d.values))]
			}
		}
		key := FormatValue(s)
		if !seen[key] {
			seen[key] = true
			out = append(out, s)
		}
	}
	if len(out) < rs.samples {
		r.bad("sweep.random.samples", "only %d distinct points can be drawn from these distributions, not %d", len(out), rs.samples)
		return nil
	}
	return out
}

func round4(x float64) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 4, 64), 64)
	return f
}

func (p *point) clone() *point {
	q := &point{keys: slices.Clone(p.keys), values: make(map[string]any, len(p.values)), locs: make(map[string]location, len(p.locs)),
		variant: p.variant, label: slices.Clone(p.label)}
	for k, v := range p.values {
		q.values[k] = v
	}
	for k, v := range p.locs {
		q.locs[k] = v
	}
	return q
}

func (p *point) set(key string, v any, at location) {
	p.keys = append(p.keys, key)
	p.values[key] = v
	p.locs[key] = at
}

// excluder finds the points that exclude maps match, without comparing
// every map with every point. A map matches a point when the point has
// every one of its keys ("variant": the point's variant's name) with the
// same value, as valueKey compares them; a map holding a NaN matches
// nothing.
//
// The maps are grouped by their set of keys, and within a group by their
// values at those keys (identical maps share a bucket). A group is then
// matched in whichever way costs less: each point looks its values up in
// the group's hash map (a lookup per point), or each bucket goes through
// the points that have its value at the key where the fewest do (a
// pass over those candidates). The time is linear in the points, the
// maps and their values when the maps name one or a few sets of keys, and
// stays within points × distinct key sets (usually far below) when they
// name many (seconds for thousands of key sets over thousands of points):
// apply asks stop, when not nil, before each group, and returns nil once
// it reports true (Ctrl-C).
type excluder struct {
	keys   []string // every key a map names, sorted: the columns of a point's value keys
	groups []excludeGroup
	maps   int
	stop   func() bool
}

type excludeGroup struct {
	cols    []int          // the group's keys, by column
	byVals  map[string]int // joined value keys → bucket
	buckets []excludeBucket
}

type excludeBucket struct {
	vals []string // value keys at the group's columns
	maps []int    // the maps with those values, by index
}

func newExcluder(rules []rule) *excluder {
	col := map[string]int{}
	for _, ru := range rules {
		for k := range ru.values {
			col[k] = 0
		}
	}
	ex := &excluder{keys: sortedKeys(col), maps: len(rules)}
	for c, k := range ex.keys {
		col[k] = c
	}
	byKeys := map[string]int{} // joined keys → group
	for i, ru := range rules {
		keys := sortedKeys(ru.values)
		g := excludeGroup{cols: make([]int, len(keys)), byVals: map[string]int{}}
		vals := make([]string, len(keys))
		ok := true
		for j, k := range keys {
			g.cols[j] = col[k]
			if vals[j], ok = valueKey(ru.values[k]); !ok {
				break
			}
		}
		if !ok {
			continue // a NaN: the map matches no point
		}
		gi, seen := byKeys[joinKeys(keys)]
		if !seen {
			gi = len(ex.groups)
			byKeys[joinKeys(keys)] = gi
			ex.groups = append(ex.groups, g)
		}
		gr := &ex.groups[gi]
		b, seen := gr.byVals[joinKeys(vals)]
		if !seen {
			b = len(gr.buckets)
			gr.byVals[joinKeys(vals)] = b
			gr.buckets = append(gr.buckets, excludeBucket{vals: vals})
		}
		gr.buckets[b].maps = append(gr.buckets[b].maps, i)
	}
	return ex
}

// apply returns which points some map matches, and which maps match some
// point (by index in the rules newExcluder was given); nil, nil once
// ex.stop reports true.
func (ex *excluder) apply(pts []*point) (dropped, matched []bool) {
	dropped, matched = make([]bool, len(pts)), make([]bool, ex.maps)
	// Each point's value keys by column ("": the point lacks the key, or
	// its value is a NaN), and for each column and value the points that
	// have it, in order.
	pk := make([][]string, len(pts))
	having := make([]map[string][]int, len(ex.keys))
	for c := range having {
		having[c] = map[string][]int{}
	}
	for i, p := range pts {
		pk[i] = make([]string, len(ex.keys))
		for c, k := range ex.keys {
			v, set := any(p.variant), true
			if k != "variant" {
				v, set = p.values[k]
			}
			if vk, ok := valueKey(v); set && ok {
				pk[i][c] = vk
				having[c][vk] = append(having[c][vk], i)
			}
		}
	}
	for _, g := range ex.groups {
		if ex.stop != nil && ex.stop() {
			return nil, nil
		}
		hit := make([]bool, len(g.buckets))
		// Going through the points that have each bucket's rarest value
		// costs their number; looking each point up costs one a point.
		rarest, through := make([][]int, len(g.buckets)), 0
		for b, bk := range g.buckets {
			for j, c := range g.cols {
				if ps := having[c][bk.vals[j]]; j == 0 || len(ps) < len(rarest[b]) {
					rarest[b] = ps
				}
			}
			through += len(rarest[b])
		}
		lookup := len(g.cols) == 0 || through >= len(pts) // an empty map (in tests) matches every point
		if lookup {
			clear(rarest) // no candidates to go through
		}
		vals := make([]string, len(g.cols))
	points:
		for i := 0; lookup && i < len(pts); i++ {
			for j, c := range g.cols {
				if vals[j] = pk[i][c]; vals[j] == "" {
					continue points
				}
			}
			if b, ok := g.byVals[joinKeys(vals)]; ok {
				dropped[i], hit[b] = true, true
			}
		}
		for b, bk := range g.buckets {
			for _, i := range rarest[b] {
				if !lookup && slices.EqualFunc(g.cols, bk.vals, func(c int, v string) bool { return pk[i][c] == v }) {
					dropped[i], hit[b] = true, true
				}
			}
			if hit[b] {
				for _, m := range bk.maps {
					matched[m] = true
				}
			}
		}
	}
	return dropped, matched
}

// joinKeys joins strings so that different lists give different strings:
// each is prefixed by its length.
func joinKeys(parts []string) string {
	var b strings.Builder
	for _, s := range parts {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	return b.String()
}

// Label returns the point as "key=value" pairs in sweep order (the variant
// by name).
func (p *point) labelText() string {
	parts := make([]string, 0, len(p.label))
	for _, k := range p.label {
		if k == "variant" {
			parts = append(parts, "variant="+p.variant)
		} else {
			parts = append(parts, k+"="+FormatValue(p.values[k]))
		}
	}
	return strings.Join(parts, " ")
}

// variantKeys returns the keys the point's variant sets: those of its
// overrides that are not in its label.
func (p *point) variantKeys() []string {
	var out []string
	for _, k := range p.keys {
		if !slices.Contains(p.label, k) {
			out = append(out, k)
		}
	}
	return out
}

// pointMap returns the point's overrides by dotted key, with the variant's
// name under "variant".
func (p *point) pointMap() map[string]any {
	m := make(map[string]any, len(p.values)+1)
	for k, v := range p.values {
		m[k] = cloneValue(v)
	}
	if p.variant != "" {
		m["variant"] = p.variant
	}
	return m
}

// tree returns the point's overrides as a nested map.
func (p *point) tree() map[string]any {
	t := map[string]any{}
	for _, k := range p.keys {
		put(t, strings.Split(k, "."), cloneValue(p.values[k]))
	}
	return t
}

// FormatValue shows a configuration value as labels, plans and error
// messages write it: numbers in their shortest form, strings bare, null as
// "null", anything else (lists, maps) as compact JSON.
func FormatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// duplicate returns the indexes of the first value that repeats an earlier
// one, as valueKey compares them. It keys each value once, in one pass: a
// list may hold 100,000 values, and comparing every pair took minutes.
func duplicate(vals []any) (int, int, bool) {
	first := make(map[string]int, len(vals))
	for j, v := range vals {
		key, ok := valueKey(v)
		if !ok {
			continue // NaN equals nothing
		}
		if i, ok := first[key]; ok {
			return i, j, true
		}
		first[key] = j
	}
	return 0, 0, false
}

// valueKey returns the key by which sweep values compare: two values are
// the same when their keys are. Numbers (int, int64, uint64, float64)
// compare by value, so 1 and 1.0 are the same, and -0 and 0; anything else
// by its Go type and FormatValue, so the string "1" is not the number 1,
// and lists and maps compare by their JSON (a number inside one by its
// JSON spelling). It returns false for a NaN, which is the same as nothing,
// not even itself (a NaN inside a list or map is formatted like the rest).
func valueKey(v any) (string, bool) {
	if f, ok := asFloat(v); ok {
		if f != f {
			return "", false
		}
		if f == 0 {
			f = 0 // -0 equals 0
		}
		return "n" + strconv.FormatUint(math.Float64bits(f), 16), true
	}
	return fmt.Sprintf("%T ", v) + FormatValue(v), true
}
