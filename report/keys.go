package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/attnlab/attnlab/internal/editdist"
	"github.com/attnlab/attnlab/store"
)

// ErrKey is matched (errors.Is) by the errors about a key given in a
// query — Where, By, Pool, Baseline, Metrics, Sort — that names no key of
// the selected runs, several of them, or nothing, by a By that would put
// runs of different settings in one row, and by a Baseline that is not
// key=value or matches no row or several: mistakes in the command line,
// which the CLI reports as usage errors (exit 2).
var ErrKey = errors.New("report: unknown or ambiguous key")

// keyError is an error about a key: its message as is, matching ErrKey.
type keyError struct{ msg string }

func (e *keyError) Error() string        { return e.msg }
func (e *keyError) Is(target error) bool { return target == ErrKey }

// keyErrorf returns a keyError with a formatted message.
func keyErrorf(format string, args ...any) error {
	return &keyError{fmt.Sprintf(format, args...)}
}

// keySet is what a key given on the command line (--where, --by,
// --baseline, --pool) can name: param keys, summary metric keys and some
// pseudo keys (run columns). Every such key goes through resolve, so the
// same short forms work everywhere.
type keySet struct {
	params  []string // sorted
	metrics []string // sorted
	pseudo  []string // the pseudo keys this use accepts
}

// resolve returns the full key that k names:
//
//   - a pseudo key, a param key or a metric key, as is (a top-level param
//     key that nested ones also end with, such as name, is ambiguous);
//   - a param key by a unique dotted suffix: attention.name for
//     model.attention.name, lr for train.optimizer.lr;
//   - a metric key by what follows a '/', bleu for test/bleu, or
//     exact_match/len_21_40; when several keys end so, test/ is preferred,
//     then valid/, then train/ (see suffixMatches).
//
// A param suffix is tried before a metric name. An ambiguous key is an error
// listing its matches, an unknown one an error listing the closest known
// keys (by edit distance, comparing with every dotted suffix too).
func (ks keySet) resolve(k string) (string, error) {
	k = strings.TrimSpace(k)
	if k == "" {
		return "", keyErrorf("empty key")
	}
	var hits []string
	for _, p := range ks.params {
		if strings.HasSuffix(p, "."+k) {
			hits = append(hits, p)
		}
	}
	if slices.Contains(ks.params, k) && !strings.Contains(k, ".") && len(hits) > 0 {
		// A top-level key that also ends nested ones: name is the
		// experiment file's name, not model.attention.name.
		hint := "give more of it"
		if k == "name" && slices.Contains(ks.pseudo, KeyExperiment) {
			// The top-level key cannot be given more of: the pseudo key
			// names the same thing.
			hint = "give more of it, or " + KeyExperiment + " for the experiment's name"
		}
		return "", keyErrorf("key %q is ambiguous (%s, %s): %s", k, k, strings.Join(hits, ", "), hint)
	}
	if slices.Contains(ks.pseudo, k) || slices.Contains(ks.params, k) || slices.Contains(ks.metrics, k) {
		return k, nil
	}
	if len(hits) == 0 {
		hits = suffixMatches(ks.metrics, k)
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return "", keyErrorf("unknown key %q (%s)", k, ks.closest(k))
	}
	return "", keyErrorf("key %q is ambiguous (%s): give more of it", k, strings.Join(hits, ", "))
}

// closest describes the known keys nearest to k: "closest: a, b, c; N
// keys in all", or "the only key: a".
func (ks keySet) closest(k string) string {
	all := slices.Concat(ks.pseudo, ks.params, ks.metrics)
	if len(all) == 0 {
		return "the selected runs have no keys"
	}
	type cand struct {
		key  string
		dist int
	}
	cands := make([]cand, 0, len(all))
	for _, key := range all {
		d := editdist.Distance(k, key)
		// Compare with the key's dotted and slashed suffixes, so that a typo
		// in a short form is near its full key.
		for i, r := range key {
			if r == '.' || r == '/' {
				d = min(d, editdist.Distance(k, key[i+1:]))
			}
		}
		if strings.Contains(key, k) {
			d = 0 // a part of the key (test/exact for test/exact_match)
		}
		cands = append(cands, cand{key, d})
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].dist < cands[b].dist })
	var near []string
	for _, c := range cands[:min(3, len(cands))] {
		near = append(near, c.key)
	}
	if len(all) == 1 {
		return "the only key: " + all[0] // not "closest: k; 1 keys in all"
	}
	return fmt.Sprintf("closest: %s; %d keys in all", strings.Join(near, ", "), len(all))
}

// ResolveWhere returns the filter with each key replaced by the full key
// it names among the runs of the experiments (all experiments when exps
// is empty): short forms such as attention.name or bleu are resolved as
// for --by and --baseline, and an unknown or ambiguous key is an error
// ("report: --where: unknown key ..."), where the store would silently
// match nothing. A nil filter is returned as is.
func ResolveWhere(ctx context.Context, st *store.Store, exps []string, where *store.Cond) (*store.Cond, error) {
	out, _, err := resolveWhere(ctx, st, exps, where)
	return out, err
}

// resolveWhere is ResolveWhere, also returning the metric keys the
// resolved filter reads, in order, each once.
func resolveWhere(ctx context.Context, st *store.Store, exps []string, where *store.Cond) (*store.Cond, []string, error) {
	if where == nil {
		return nil, nil, nil
	}
	params, sums, err := st.Keys(ctx, exps)
	if err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	ks := keySet{params: params, metrics: sums, pseudo: store.FilterColumns}
	out, err := where.MapKeys(ks.resolve)
	if err != nil {
		if !errors.Is(err, ErrKey) { // a value whose type does not suit the key it names
			err = keyErrorf("%v", err)
		}
		return nil, nil, fmt.Errorf("report: --where: %w", err)
	}
	kinds, err := st.ParamKinds(ctx, exps)
	if err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	if err := out.CheckParams(func(k string) []store.Kind { return kinds[k] }); err != nil {
		return nil, nil, fmt.Errorf("report: --where: %w", keyErrorf("%v", err))
	}
	var results []string
	for _, k := range out.Keys() {
		if slices.Contains(sums, k) && !slices.Contains(results, k) {
			results = append(results, k)
		}
	}
	return out, results, nil
}
