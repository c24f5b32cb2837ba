package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// Keys returns the distinct param keys and summary keys of the runs of the
// named experiments (of every experiment when names is empty), each
// sorted: the keys a filter, a grouping or a baseline can name. The
// summary keys include the metrics logged by runs not done, whose values
// stand for their summaries (a filter on valid/loss selects a running run
// by its last value). Unknown experiment names select nothing.
func (s *Store) Keys(ctx context.Context, names []string) (params, summaries []string, err error) {
	cond, args, err := s.experimentsCond(names)
	if err != nil {
		return nil, nil, fmt.Errorf("store: list keys: %w", err)
	}
	list := func(table string) ([]string, error) {
		from := table + ` t`
		if table == "summaries" {
			// Metrics are read of runs not done only: they hold every step.
			from = `(SELECT run_id, key FROM summaries UNION SELECT DISTINCT m.run_id, m.key FROM metrics m
				JOIN runs u ON u.id = m.run_id AND u.status <> '` + string(StatusDone) + `') t`
		}
		rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT t.key FROM `+from+`
			JOIN runs r ON r.id = t.run_id JOIN experiments e ON e.id = r.experiment_id`+cond+` ORDER BY t.key`, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return nil, err
			}
			out = append(out, k)
		}
		return out, rows.Err()
	}
	if params, err = list("params"); err != nil {
		return nil, nil, fmt.Errorf("store: list keys: %w", err)
	}
	if summaries, err = list("summaries"); err != nil {
		return nil, nil, fmt.Errorf("store: list keys: %w", err)
	}
	return params, summaries, nil
}

// experimentsCond is the WHERE clause, on experiments e, that selects the
// named experiments (none: every experiment), and its arguments.
func (s *Store) experimentsCond(names []string) (string, []any, error) {
	if len(names) == 0 {
		return "", nil, nil
	}
	list, err := json.Marshal(names)
	if err != nil {
		return "", nil, err
	}
	return ` WHERE e.name IN (` + s.d.texts() + `)`, []any{string(list)}, nil
}

// ParamKinds returns the kinds of value each param key holds in the runs
// of the named experiments (of every experiment when names is empty): what
// a filter's values must be to match (Cond.CheckParams).
func (s *Store) ParamKinds(ctx context.Context, names []string) (map[string][]Kind, error) {
	cond, args, err := s.experimentsCond(names)
	if err != nil {
		return nil, fmt.Errorf("store: list param kinds: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT t.key, t.type FROM params t
		JOIN runs r ON r.id = t.run_id JOIN experiments e ON e.id = r.experiment_id`+cond+` ORDER BY t.key, t.type`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list param kinds: %w", err)
	}
	defer rows.Close()
	out := map[string][]Kind{}
	for rows.Next() {
		var k, kind string
		if err := rows.Scan(&k, &kind); err != nil {
			return nil, fmt.Errorf("store: list param kinds: %w", err)
		}
		out[k] = append(out[k], Kind(kind))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list param kinds: %w", err)
	}
	return out, nil
}
