package report

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/store"
)

// selection is the runs a query selected, with their params and summaries.
type selection struct {
	runs   []store.Run
	params map[int64]map[string]store.Value // of runs, failed and pending
	sums   map[int64]map[string]float64     // of runs
	where  string                           // Query.Where as text
	// whereResults are the metric keys the resolved Query.Where reads.
	whereResults []string
	// With the default status (done): the failed runs the query's other
	// filters select, the runs not finished (queued, running,
	// interrupted) and how many of those in each status.
	failed     []store.Run
	pending    []store.Run
	unfinished map[store.Status]int
	// diverged are the runs of failed that failDiverged moved there
	// (Comparison.Diverged).
	diverged []store.Run
	// steps is the fewest and most steps the selected runs not done had
	// logged metrics at (Comparison.StepRange).
	steps [2]int
}

// selectRuns reads the runs of q's experiments (all if none) with q's
// status (done if none) that match q.Where (its keys resolved, see
// ResolveWhere) and are among q.IDs (when given), with their params and
// summaries.
func selectRuns(ctx context.Context, st *store.Store, q Query) (*selection, error) {
	status := q.Status
	switch status {
	case "":
		status = store.StatusDone
	case StatusAny:
		status = "" // store.RunFilter: any status
	}
	all, err := st.Experiments(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if err := checkExperiments(all, q.Experiments); err != nil {
		return nil, err
	}
	where, whereResults, err := resolveWhere(ctx, st, q.Experiments, q.Where)
	if err != nil {
		return nil, err
	}
	runs, err := st.Runs(ctx, store.RunFilter{Experiments: q.Experiments, IDs: q.IDs, Status: status, Where: where})
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if len(runs) == 0 {
		return nil, noRunsErr(all, q.Experiments, q.IDs, status, where)
	}
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	sel := &selection{runs: runs, whereResults: whereResults}
	if q.Where != nil {
		sel.where = q.Where.String()
	}
	paramIDs := ids
	if q.Status == "" {
		// The runs left out for not being done: failed runs are reported
		// with their rows, the others counted.
		others, err := st.Runs(ctx, store.RunFilter{Experiments: q.Experiments, IDs: q.IDs, Where: where})
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		sel.unfinished = map[store.Status]int{}
		withFailed := slices.Clone(ids)
		for _, r := range others {
			switch r.Status {
			case store.StatusDone:
			case store.StatusFailed:
				sel.failed = append(sel.failed, r)
				withFailed = append(withFailed, r.ID)
			default:
				sel.unfinished[r.Status]++
				sel.pending = append(sel.pending, r)
				withFailed = append(withFailed, r.ID)
			}
		}
		paramIDs = withFailed
	}
	if sel.params, err = st.Params(ctx, paramIDs); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if sel.sums, err = st.Summaries(ctx, ids); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if q.Status == "" || q.Status == store.StatusDone {
		sel.failDiverged()
		if len(sel.runs) == 0 {
			arg, note := st.CommandDB()
			return nil, &DivergedError{Runs: slices.Clone(sel.diverged), DB: arg, Note: note}
		}
	}
	// A run not done (--status running, interrupted, failed, any) has
	// written no summaries, or those of an earlier attempt (a done run
	// queued again): its values are the last it logged of each metric. A
	// failed run keeps the summaries it wrote when it failed where it
	// logged nothing later.
	var unfinished []int64
	for _, r := range runs {
		if r.Status == store.StatusDone {
			continue
		}
		unfinished = append(unfinished, r.ID)
		if r.Status != store.StatusFailed {
			delete(sel.sums, r.ID)
		}
	}
	if len(unfinished) > 0 {
		latest, err := st.LatestMetrics(ctx, unfinished)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		for id, m := range latest {
			if sel.sums[id] == nil {
				sel.sums[id] = map[string]float64{}
			}
			maps.Copy(sel.sums[id], m)
		}
		steps, err := st.LastSteps(ctx, unfinished)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		for i, s := range slices.Sorted(maps.Values(steps)) {
			if i == 0 {
				sel.steps[0] = s
			}
			sel.steps[1] = s
		}
	}
	return sel, nil
}

// failDiverged counts as failed the done runs whose loss or perplexity
// (metrics.IsLoss) is ±Inf: runs that diverged, which builds before
// 2fdf9d8 (2026-12-06) stored done, and today's fail. Like a failed run,
// such a run is left out of every cell of its row, not only of its
// infinite ones, and its row is never marked best.
func (s *selection) failDiverged() {
	var kept []store.Run
	for _, r := range s.runs {
		if key := metrics.InfiniteLoss(s.sums[r.ID]); r.Status == store.StatusDone && key != "" {
			r.Status = store.StatusFailed
			r.Error = fmt.Sprintf("diverged: %s %v, stored done by a build before 2026-12-06", key, s.sums[r.ID][key])
			s.failed = append(s.failed, r)
			s.diverged = append(s.diverged, r)
			delete(s.sums, r.ID) // as a failed run's: its keys make no columns
			continue
		}
		kept = append(kept, r)
	}
	s.runs = kept
}

// explained reports whether k differing between rows is accounted for by
// the keys shown: k is a parameter of a plugin whose name is shown
// (model.attention.dim behind model.attention.name), a task key (rows of
// different tasks are never compared), a setting of the experiment when
// rows of several experiments are shown, or a setting of the named sweep
// variant shown (the variant's name stands for what it sets). Being set by
// the sweep is not enough: in a zip or a random search every point sets
// every key, and the one key a table happened to show would take the
// credit for the others (a learning rate zipped with the attention).
func (s *selection) explained(k string, shown []string) bool {
	under := func(k, p string) bool {
		block := strings.TrimSuffix(p, ".name")
		return p == k || strings.HasPrefix(k, p+".") || (block != p && strings.HasPrefix(k, block+"."))
	}
	if isTaskKey(k) {
		return true
	}
	if slices.Contains(shown, KeyExperiment) && s.determined(k, []string{KeyExperiment}) {
		return true // rows of different experiments: the experiment column says so
	}
	for _, p := range shown {
		if strings.HasSuffix(p, ".name") && under(k, p) {
			return true
		}
	}
	return slices.Contains(shown, KeyVariant) && s.determined(k, []string{KeyVariant})
}

// rowKeys are the keys that head the rows of a default grouping: the
// smallest readable set that tells the rows apart (displayKeys), then
// every key that differs between rows without being explained by those
// (explained), so that no setting hides behind another that happens to
// determine it.
func (s *selection) rowKeys(varying []string) []string {
	keys := s.displayKeys(varying)
	for _, k := range varying {
		if !slices.Contains(keys, k) && !s.explained(k, keys) {
			keys = append(keys, k)
		}
	}
	return keys
}

// live reports whether selected run id is still training: queued,
// running or interrupted (a curve that ends early for now).
func (s *selection) live(id int64) bool {
	for _, r := range s.runs {
		if r.ID == id {
			switch r.Status {
			case store.StatusQueued, store.StatusRunning, store.StatusInterrupted:
				return true
			}
			return false
		}
	}
	return false
}

// setting identifies the setting a run was trained with: its experiment
// and every param but the seed. Two runs of one setting differ only by
// seed.
func (s *selection) setting(r store.Run) string {
	keys := slices.Sorted(maps.Keys(s.params[r.ID]))
	var b strings.Builder
	b.WriteString(r.Experiment)
	for _, k := range keys {
		if k == "seed" {
			continue
		}
		_, id := s.value(r, k)
		fmt.Fprintf(&b, "\x00%s=%s", k, id)
	}
	return b.String()
}

// placeFailed puts each failed run of the selection with the row whose
// runs have its setting (Row.Failed), or, when no done run has it, in
// c.FailedElsewhere; and counts the runs not finished of each row's
// setting (Row.Unfinished).
func (s *selection) placeFailed(c *Comparison, members [][]store.Run) {
	rowOf := map[string]int{}
	for i, rs := range members {
		for _, r := range rs {
			rowOf[s.setting(r)] = i
		}
	}
	for _, r := range s.pending {
		if i, ok := rowOf[s.setting(r)]; ok {
			c.Rows[i].Unfinished++
		}
	}
	var keys []string // the keys that differ among all the runs, failed ones included
	labelled := false
	for _, r := range s.failed {
		f := FailedRun{ID: r.ID, Error: r.Error}
		if i, ok := rowOf[s.setting(r)]; ok {
			c.Rows[i].Failed = append(c.Rows[i].Failed, f)
			continue
		}
		if !labelled {
			all := &selection{runs: append(slices.Clone(s.runs), s.failed...), params: s.params}
			keys, labelled = all.varyingKeys(), true
		}
		f.Label = s.failedLabel(r, keys)
		c.FailedElsewhere = append(c.FailedElsewhere, f)
	}
}

// failedLabel names a failed run's setting by its values of keys (those
// that differ among all the selected runs, failed ones included): every
// one, since the one left out might be what sets the run apart (an
// optimizer's name behind its learning rate).
func (s *selection) failedLabel(r store.Run, keys []string) string {
	short := ShortKeys(keys)
	var parts []string
	for i, k := range keys {
		if v, _ := s.value(r, k); v != "" {
			parts = append(parts, short[i]+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// groupQuery selects the runs of q and groups them (see Query.By): it
// returns a Comparison with keys and rows but no metrics.
//
// Runs are never pooled across settings unless asked: without q.By the
// rows are the classes of runs that agree on every varying key
// (varyingKeys), and the keys shown are a smallest readable set that
// tells those rows apart (displayKeys). With q.By, a key that then varies
// inside a row must be in q.Pool, or it is an error naming it.
func groupQuery(ctx context.Context, st *store.Store, q Query) (*selection, *Comparison, error) {
	sel, err := selectRuns(ctx, st, q)
	if err != nil {
		return nil, nil, err
	}
	varying := sel.varyingKeys()
	c := &Comparison{Baseline: -1, Diverged: sel.diverged}
	if len(q.By) == 0 {
		// A key that differs between rows (runs of one name submitted with
		// different files, a zip, a random search) is shown, not left
		// behind the keys that happen to determine it: a learning rate
		// behind the attention's name would pass a confound off as the
		// attention's effect.
		c.Keys = sel.rowKeys(varying)
		// When no key tells the rows apart but failed or unfinished runs
		// differ from them (every run of another setting failed, or is
		// still queued or running), the keys they differ in are shown: the
		// failed runs' labels name their values, and a lone row labelled
		// by its experiment only hid which setting survived, or finished.
		if len(c.Keys) == 0 && len(sel.failed)+len(sel.pending) > 0 {
			all := &selection{runs: slices.Concat(sel.runs, sel.failed, sel.pending), params: sel.params}
			// The keys that would label the rows were they all finished:
			// attention.name, not also the attention.context it sets.
			for _, k := range all.rowKeys(all.varyingKeys()) {
				if !slices.Contains(c.Keys, k) && !slices.Contains(varying, k) {
					c.Keys = append(c.Keys, k)
				}
			}
		}
	} else {
		if c.Keys, err = sel.resolveKeys(q.By, "--by", varying); err != nil {
			return nil, nil, err
		}
		var pool []string
		if pool, err = sel.resolveKeys(q.Pool, "--pool", varying); err != nil {
			return nil, nil, err
		}
		var missing []string
		for _, k := range varying {
			if slices.Contains(c.Keys, k) || sel.determined(k, c.Keys) {
				continue
			}
			c.Pooled = append(c.Pooled, k)
			// A key that the keys of --by and --pool determine (attention.dim
			// beside a pooled attention.name) adds no setting to a row: it
			// is pooled along, and shown as pooled.
			if !slices.Contains(pool, k) && !sel.determined(k, slices.Concat(c.Keys, pool)) {
				missing = append(missing, k)
			}
		}
		for _, k := range c.Pooled {
			if !slices.Contains(pool, k) {
				c.PooledAlong = append(c.PooledAlong, k)
			}
		}
		if len(missing) > 0 {
			// Name the fewest keys that settle the others: head.name, not
			// also the head.block and head.window its variants set, which
			// pool along with it.
			var named []string
			for _, k := range sel.fewest(missing, slices.Concat(c.Keys, pool)) {
				named = append(named, fmt.Sprintf("%s (%s)", k, strings.Join(sel.values(k, sel.runs), ", ")))
			}
			return nil, nil, keyErrorf("report: --by %s would put runs with different %s in one group: add %s to --by, or to --pool to average over %s",
				strings.Join(q.By, ","), strings.Join(named, " and "), them(len(named)), them(len(named)))
		}
		// A key that --by's keys determine without accounting for it (a
		// learning rate zipped with the attention named by --by) is shown
		// too, as in the default grouping: it splits no row, but the rows'
		// differences are its effect as much as the --by key's.
		for _, k := range varying {
			if !slices.Contains(c.Keys, k) && !slices.Contains(c.Pooled, k) && !sel.explained(k, c.Keys) {
				c.Keys = append(c.Keys, k)
			}
		}
	}
	if len(c.Keys) == 0 {
		c.Keys = []string{KeyExperiment}
	}
	for _, k := range varying {
		if !slices.Contains(c.Keys, k) && !slices.Contains(c.Pooled, k) {
			c.Derived = append(c.Derived, k)
		}
	}
	index := map[string]int{}
	var members [][]store.Run
	for _, r := range sel.runs {
		vals := make([]string, len(c.Keys))
		ids := make([]string, len(c.Keys))
		for i, k := range c.Keys {
			vals[i], ids[i] = sel.value(r, k)
		}
		id := strings.Join(ids, "\x00")
		i, ok := index[id]
		if !ok {
			i = len(c.Rows)
			index[id] = i
			c.Rows = append(c.Rows, Row{Group: vals})
			members = append(members, nil)
		}
		c.Rows[i].Runs = append(c.Rows[i].Runs, r.ID)
		members[i] = append(members[i], r)
	}
	sel.placeFailed(c, members)
	c.Where, c.WhereResults, c.Unfinished = sel.where, sel.whereResults, sel.unfinished
	if q.Status != store.StatusDone {
		c.Status, c.StepRange = q.Status, sel.steps
	}
	all := map[string]bool{}
	for i, rs := range members {
		row := map[string]bool{}
		for _, r := range rs {
			if r.Version != "" {
				row[r.Version], all[r.Version] = true, true
			}
		}
		if len(row) > 1 {
			c.MixedBuilds = append(c.MixedBuilds, i)
		}
	}
	c.Builds = len(all)
	tasks := map[string]int{}
	for i := range c.Rows {
		row := &c.Rows[i]
		slices.Sort(row.Runs)
		seeds, settings := map[int64]int64{}, map[int64]string{}
		for _, r := range members[i] {
			seeds[r.ID] = r.Seed
			ids := make([]string, len(c.Pooled))
			for k, key := range c.Pooled {
				_, ids[k] = sel.value(r, key)
			}
			settings[r.ID] = strings.Join(ids, "\x00")
		}
		row.Seeds = make([]int64, len(row.Runs))
		row.settings = make([]string, len(row.Runs))
		for k, id := range row.Runs {
			row.Seeds[k], row.settings[k] = seeds[id], settings[id]
		}
		for _, k := range c.Pooled {
			row.Pooled = append(row.Pooled, sel.values(k, members[i]))
		}
		row.Task = -1
		if t, ok := sel.task(members[i]); ok {
			if _, seen := tasks[t]; !seen {
				tasks[t] = len(tasks)
			}
			row.Task = tasks[t]
		}
	}
	return sel, c, nil
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// value returns the formatted value of group key k for run r, and a string
// that identifies it exactly (with its kind).
func (s *selection) value(r store.Run, k string) (display, id string) {
	switch k {
	case KeyExperiment:
		return r.Experiment, "e" + r.Experiment
	case KeySeed:
		v := fmt.Sprint(r.Seed)
		return v, "s" + v
	}
	v, ok := s.params[r.ID][k]
	if !ok && k == KeyVariant {
		if name, _ := pointOf(r)[KeyVariant].(string); name != "" {
			return name, "v" + name
		}
	}
	if !ok {
		return "", "-"
	}
	return formatValue(v), string(v.Kind) + ":" + v.String()
}

// values returns the distinct formatted values of k over runs, in the order
// they first appear ("—" for runs that lack k).
func (s *selection) values(k string, runs []store.Run) []string {
	var out, ids []string
	for _, r := range runs {
		v, id := s.value(r, k)
		if slices.Contains(ids, id) {
			continue
		}
		ids = append(ids, id)
		out = append(out, displayGroup(v))
	}
	return out
}

// isTaskKey reports whether param key k describes the task or its data:
// the task's parameters (task.*) and the fingerprints of the files a
// file-backed task reads (data.*: sha256, size, lines). Rows whose task
// keys differ are not compared (no best across them, no test against a
// baseline of another task).
func isTaskKey(k string) bool { return strings.HasPrefix(k, "task.") || strings.HasPrefix(k, "data.") }

// task returns the identity of the task the runs share (the values of
// every task key, see isTaskKey), and false when they do not share one.
func (s *selection) task(runs []store.Run) (string, bool) {
	id := func(r store.Run) string {
		var b strings.Builder
		keys := make([]string, 0, len(s.params[r.ID]))
		for k := range s.params[r.ID] {
			if isTaskKey(k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			_, v := s.value(r, k)
			fmt.Fprintf(&b, "%s=%s\x00", k, v)
		}
		return b.String()
	}
	if len(runs) == 0 {
		return "", false
	}
	first := id(runs[0])
	for _, r := range runs[1:] {
		if id(r) != first {
			return "", false
		}
	}
	return first, true
}

// varyingKeys returns the keys whose values differ between the selected
// runs (a key some runs lack varies): "experiment" first when the runs span
// several experiments, then every such param key, sorted, without seed
// and the experiment's name. These are the settings no row may pool
// unasked.
func (s *selection) varyingKeys() []string {
	var out []string
	if s.varies(KeyExperiment) {
		out = append(out, KeyExperiment)
	}
	for _, k := range s.paramKeys() {
		if k != "seed" && k != "name" && s.varies(k) {
			out = append(out, k)
		}
	}
	return out
}

// varies reports whether key k takes more than one value over the runs.
func (s *selection) varies(k string) bool {
	first, seen := "", false
	for _, r := range s.runs {
		_, id := s.value(r, k)
		if !seen {
			first, seen = id, true
		} else if id != first {
			return true
		}
	}
	return false
}

// determined reports whether the values of the keys by determine the value
// of k over the runs: grouping by by alone then never puts two values of k
// in one row.
func (s *selection) determined(k string, by []string) bool {
	seen := map[string]string{}
	for _, r := range s.runs {
		var b strings.Builder
		for _, key := range by {
			_, id := s.value(r, key)
			b.WriteString(id)
			b.WriteByte(0)
		}
		_, v := s.value(r, k)
		if old, ok := seen[b.String()]; ok && old != v {
			return false
		}
		seen[b.String()] = v
	}
	return true
}

// distinct returns the number of distinct values of k over the runs.
func (s *selection) distinct(k string) int {
	set := map[string]bool{}
	for _, r := range s.runs {
		_, id := s.value(r, k)
		set[id] = true
	}
	return len(set)
}

// everywhere reports whether every selected run has param k.
func (s *selection) everywhere(k string) bool {
	for _, r := range s.runs {
		if _, ok := s.params[r.ID][k]; !ok {
			return false
		}
	}
	return true
}

// displayKeys chooses the keys that head the rows of a default grouping:
// keys that together determine every varying key, so that the rows they
// make are exactly the classes of varyingKeys. "experiment" comes first
// when it varies, then the sweep's variant; then, among the sweep's keys
// and after them among the other varying keys, the key with the most
// distinct values (preferring keys every run has) is taken while some key
// is not yet determined by those taken. So a named variant stands for the keys it sets, and a plugin's
// parameters (multi-head's heads) stand behind the plugin's name. The keys
// are returned in that order, the keys of each phase sorted.
func (s *selection) displayKeys(varying []string) []string {
	var chosen []string
	if slices.Contains(varying, KeyExperiment) {
		chosen = append(chosen, KeyExperiment)
	}
	sweep := map[string]bool{}
	for _, r := range s.runs {
		for k := range pointOf(r) {
			sweep[k] = true
		}
	}
	if sweep[KeyVariant] && s.varies(KeyVariant) {
		chosen = append(chosen, KeyVariant)
	}
	phase := func(cands []string) {
		chosen = append(chosen, s.fewest(cands, chosen)...)
	}
	var first, rest []string
	for _, k := range varying {
		if k == KeyExperiment {
			continue
		}
		if sweep[k] {
			first = append(first, k)
		} else {
			rest = append(rest, k)
		}
	}
	phase(first)
	phase(rest)
	return chosen
}

// fewest returns, sorted, keys of cands that together with given determine
// every key of cands, taken one at a time while some key is not yet
// determined: a key every run has before one some runs lack, then the
// one with more distinct values, then the first in cands' order.
func (s *selection) fewest(cands, given []string) []string {
	var out []string
	for {
		best, bestScore := "", 0
		for _, k := range cands {
			if slices.Contains(given, k) || slices.Contains(out, k) || s.determined(k, slices.Concat(given, out)) {
				continue
			}
			score := s.distinct(k)
			if s.everywhere(k) {
				score += len(s.runs) + 1
			}
			if score > bestScore {
				best, bestScore = k, score
			}
		}
		if best == "" {
			break
		}
		out = append(out, best)
	}
	slices.Sort(out)
	return out
}

// resolveKeys resolves the keys of --by or --pool (flag) against the
// selected runs' params and the pseudo keys.
func (s *selection) resolveKeys(keys []string, flag string, varying []string) ([]string, error) {
	ks := keySet{params: s.paramKeys(), metrics: nil, pseudo: []string{KeyExperiment, KeySeed, KeyVariant}}
	var out []string
	for _, k := range keys {
		full, err := ks.resolve(k)
		if err != nil {
			if len(varying) == 0 { // one run, or runs alike: it said "keys that vary: " and nothing
				return nil, fmt.Errorf("report: %s: %w; no key varies among the selected runs", flag, err)
			}
			return nil, fmt.Errorf("report: %s: %w; keys that vary: %s", flag, err, strings.Join(varying, ", "))
		}
		if slices.Contains(out, full) {
			return nil, fmt.Errorf("report: %s %q given twice", flag, full)
		}
		out = append(out, full)
	}
	return out, nil
}
