package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// RunByID returns the run with the given id, or an error wrapping
// ErrNotFound.
func (s *Store) RunByID(ctx context.Context, id int64) (Run, error) {
	r, err := runByID(ctx, s.db, id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Run{}, fmt.Errorf("store: no run with id %d: %w", id, ErrNotFound)
		}
		return Run{}, fmt.Errorf("store: run %d: %w", id, err)
	}
	return r, nil
}

// MinPrefix is the shortest hash prefix ResolveRun accepts.
const MinPrefix = 4

// ResolveRun finds one run from a reference a user typed; it is the one
// place that interprets run references. A reference is
//
//   - a run name, EXPERIMENT/POINT/seed=N or EXPERIMENT/seed=N (any
//     reference with a '/'; see Run.Name), or EXPERIMENT/HASH: a prefix
//     of at least MinPrefix characters of the hash of a run of that
//     experiment (what tells apart runs of two versions of it);
//   - a run id: digits without a leading zero ("12"), when a run has that id;
//   - otherwise a hash prefix of at least MinPrefix characters ("3f9a",
//     "0003", and "1000" when no run has id 1000).
//
// So an id always wins over a hash prefix made of the same digits: run 1000
// is "1000" even when another run's hash starts with 1000, and that run is
// reached with more hash characters or its name. Unknown references wrap
// ErrNotFound; a hash prefix or a name that several runs share wraps
// ErrAmbiguous and lists them; a reference of none of these forms is
// ErrBadRef.
func (s *Store) ResolveRun(ctx context.Context, ref string) (Run, error) {
	ref = strings.TrimSpace(ref)
	switch {
	case ref == "":
		return Run{}, badRef("store: empty run reference")
	case strings.Contains(ref, "/"):
		return s.runByName(ctx, ref)
	}
	what := "hash prefix"
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && id > 0 && ref[0] != '0' && ref[0] != '+' {
		what = "id or hash prefix"
		r, err := runByID(ctx, s.db, id)
		switch {
		case err == nil:
			return r, nil
		case !errors.Is(err, ErrNotFound):
			return Run{}, fmt.Errorf("store: run %s: %w", ref, err)
		case len(ref) < MinPrefix:
			return Run{}, fmt.Errorf("store: no run with id %s: %w", ref, ErrNotFound)
		}
	} else if len(ref) < MinPrefix {
		return Run{}, badRef("store: run %q: give a run id, a run name or at least %d characters of its hash", ref, MinPrefix)
	}
	if !utf8.ValidString(ref) {
		return Run{}, fmt.Errorf("store: no run with %s %q: %w", what, ref, ErrNotFound)
	}
	matches, err := s.queryRuns(ctx, `WHERE `+s.d.hasPrefix("r.hash")+` ORDER BY r.id LIMIT 6`, s.d.prefixArgs(ref)...)
	if err != nil {
		return Run{}, fmt.Errorf("store: run %s: %w", ref, err)
	}
	switch len(matches) {
	case 0:
		return Run{}, fmt.Errorf("store: no run with %s %q: %w", what, ref, ErrNotFound)
	case 1:
		return matches[0], nil
	}
	return Run{}, fmt.Errorf("store: hash prefix %q matches several runs (%s); give more characters, the run id or its name: %w",
		ref, describe(matches), ErrAmbiguous)
}

// refError is a malformed run reference: its message, and ErrBadRef for
// errors.Is.
type refError struct{ msg string }

func (e *refError) Error() string        { return e.msg }
func (e *refError) Is(target error) bool { return target == ErrBadRef }

func badRef(format string, args ...any) error {
	return &refError{fmt.Sprintf(format, args...)}
}

// runByName resolves EXPERIMENT/POINT/seed=N by comparing Name of the
// experiment's runs with that seed.
func (s *Store) runByName(ctx context.Context, ref string) (Run, error) {
	exp, _, _ := strings.Cut(ref, "/")
	last := ref[strings.LastIndex(ref, "/")+1:]
	if exp != "" && strings.Count(ref, "/") == 1 && len(last) >= MinPrefix && isHex(last) {
		return s.runByHash(ctx, exp, last)
	}
	seedText, ok := strings.CutPrefix(last, "seed=")
	seed, err := strconv.ParseInt(seedText, 10, 64)
	if !ok || err != nil || exp == "" {
		return Run{}, badRef("store: run name %q: want EXPERIMENT/POINT/seed=N, EXPERIMENT/seed=N or EXPERIMENT/HASH", ref)
	}
	cands, err := s.queryRuns(ctx, `WHERE e.name = ? AND r.seed = ? ORDER BY r.id`, exp, seed)
	if err != nil {
		return Run{}, fmt.Errorf("store: run %s: %w", ref, err)
	}
	var matches []Run
	names := make([]string, 0, len(cands))
	for _, r := range cands {
		n := r.Name()
		if n == ref {
			matches = append(matches, r)
		} else if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	switch {
	case len(matches) == 1:
		return matches[0], nil
	case len(matches) > 1:
		return Run{}, fmt.Errorf("store: run name %s is shared by runs of different versions of the experiment (%s); give the run id or EXPERIMENT/HASH as listed: %w",
			ref, describe(matches), ErrAmbiguous)
	case len(cands) == 0:
		if _, err := s.ExperimentByName(ctx, exp); errors.Is(err, ErrNotFound) {
			return Run{}, fmt.Errorf("store: no run named %s: no experiment %q: %w", ref, exp, ErrNotFound)
		}
		return Run{}, fmt.Errorf("store: no run named %s: experiment %s has no run with seed %d: %w", ref, exp, seed, ErrNotFound)
	}
	if len(names) > 6 {
		names = append(names[:6], "...")
	}
	return Run{}, fmt.Errorf("store: no run named %s (with seed %d: %s): %w", ref, seed, strings.Join(names, ", "), ErrNotFound)
}

// runByHash resolves EXPERIMENT/HASH: a run of the experiment whose hash
// starts with prefix.
func (s *Store) runByHash(ctx context.Context, exp, prefix string) (Run, error) {
	args := append([]any{exp}, s.d.prefixArgs(prefix)...)
	matches, err := s.queryRuns(ctx, `WHERE e.name = ? AND `+s.d.hasPrefix("r.hash")+` ORDER BY r.id LIMIT 6`, args...)
	if err != nil {
		return Run{}, fmt.Errorf("store: run %s/%s: %w", exp, prefix, err)
	}
	switch len(matches) {
	case 0:
		return Run{}, fmt.Errorf("store: no run %s/%s: experiment %q has no run whose hash starts so: %w", exp, prefix, exp, ErrNotFound)
	case 1:
		return matches[0], nil
	}
	return Run{}, fmt.Errorf("store: %s/%s matches several runs (%s); give more characters of the hash: %w", exp, prefix, describe(matches), ErrAmbiguous)
}

// isHex reports whether s is lower-case hexadecimal, as run hashes are.
func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// queryRuns returns the runs selected by the SQL text after runColumns.
func (s *Store) queryRuns(ctx context.Context, tail string, args ...any) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+runColumns+` `+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func describe(runs []Run) string {
	var parts []string
	for i, r := range runs {
		if i == 5 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("run %d %s/%s", r.ID, r.Experiment, r.Hash))
	}
	return strings.Join(parts, ", ")
}

// Name returns the run's name, which ResolveRun accepts wherever a run is
// asked for: EXPERIMENT/POINT/seed=SEED, where POINT is the values of the
// sweep point (Run.Point) joined by ",": the variant's name first, then the
// other keys' values in key order, strings as they are, a plugin block
// that only names its plugin ({"name": "scaled-dot"}) as that name, and
// other values in their JSON form (quickstart/additive/seed=1,
// sweep/small,dot,32,0.001/seed=2, listops-long/softmax/seed=1). The
// settings a variant stands for are not in the point (runs submitted
// before 2026-12-06 have them there, and in their names). A run without a
// sweep point is EXPERIMENT/seed=SEED. Within one version of an experiment names are
// unique; runs of two versions that share a point and a seed (the file was
// edited, or run with --set) share a name, which ResolveRun then reports as
// ambiguous.
func (r Run) Name() string {
	point := pointLabel(r.Point)
	if point == "" {
		return fmt.Sprintf("%s/seed=%d", r.Experiment, r.Seed)
	}
	return fmt.Sprintf("%s/%s/seed=%d", r.Experiment, point, r.Seed)
}

// pointLabel returns the values of a point's JSON object as Name joins
// them; text that is not a JSON object gives "".
func pointLabel(point string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(point), &m); err != nil || len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "variant" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if _, ok := m["variant"]; ok {
		keys = append([]string{"variant"}, keys...)
	}
	vals := make([]string, len(keys))
	for i, k := range keys {
		raw := bytes.TrimSpace(m[k])
		var s string
		var only struct {
			Name string `json:"name"`
		}
		var obj map[string]json.RawMessage
		switch {
		case len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil:
			vals[i] = s
		case len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, &obj) == nil && len(obj) == 1 &&
			json.Unmarshal(raw, &only) == nil && only.Name != "":
			vals[i] = only.Name // a plugin block that only names its plugin: {"name":"scaled-dot"}
		default:
			vals[i] = string(raw)
		}
	}
	return strings.Join(vals, ",")
}

// Vanished returns those of runs that the store no longer holds as they
// were read, in runs' order: deleted since (attnlab rm), whose id now
// names another run (SQLite gives a deleted highest id to the next run
// created), or claimed again since (a worker's claim increments Attempt:
// a requeued run started afresh, an interrupted or stale one resumed, and
// such an attempt truncates the history the earlier one logged). A run is
// the one read when its id, hash, creation time and attempt are. It sends
// one query. Safe for concurrent use.
//
// A reader that reads runs over several queries without holding a read
// between them (export, which holds none while it writes) calls it after
// its last read of them. No run vanished then means that no removal and no
// later attempt cut what it read of them — a removal deletes a run's rows
// in the transaction that deletes the run. It does not mean the run's rows
// are unchanged: a store knows no version of a run's rows, so Vanished
// misses a change that keeps the id, hash, creation time and attempt —
// sync replacing the run by a source's copy made in the same attempt
// (CopyUpdated deletes and rewrites its rows, keeping id and creation
// time, and takes the source's attempt), a run removed and then synced
// back (on SQLite under its old id, with the source's hash, creation time
// and attempt), and a truncation by the attempt that was read (its
// TruncateOwnedMetrics, when the run was read after its claim; a
// TruncateMetrics). Points logged since, which add rows, are no change it
// reports either. Telling those apart would take a per-run counter that
// every such write increments.
func (s *Store) Vanished(ctx context.Context, runs []Run) ([]Run, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	type identity struct {
		hash    string
		created time.Time
		attempt int
	}
	held := make(map[int64]identity, len(runs))
	rows, err := s.db.QueryContext(ctx, `SELECT id, hash, created, attempt FROM runs WHERE id IN (`+s.d.int64s()+`)`, idList(ids))
	if err != nil {
		return nil, fmt.Errorf("store: look up runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var hash string
		var created dbTime
		var attempt int
		if err := rows.Scan(&id, &hash, &created, &attempt); err != nil {
			return nil, fmt.Errorf("store: look up runs: %w", err)
		}
		held[id] = identity{hash, created.Time, attempt}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: look up runs: %w", err)
	}
	var gone []Run
	for _, r := range runs {
		if h, ok := held[r.ID]; !ok || h.hash != r.Hash || !h.created.Equal(r.Created) || h.attempt != r.Attempt {
			gone = append(gone, r)
		}
	}
	return gone, nil
}
