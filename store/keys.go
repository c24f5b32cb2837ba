package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// Keys returns the distinct param keys and summary keys of the runs of the
// named experiments (of every experiment when names is empty), each
// sorted: the keys a filter, a grouping or a baseline can name. Unknown
// experiment names select nothing.
func (s *Store) Keys(ctx context.Context, names []string) (params, summaries []string, err error) {
	cond, args := "", []any(nil)
	if len(names) > 0 {
		list, err := json.Marshal(names)
		if err != nil {
			return nil, nil, fmt.Errorf("store: list keys: %w", err)
		}
		cond, args = ` WHERE e.name IN (`+s.d.texts()+`)`, []any{string(list)}
	}
	list := func(table string) ([]string, error) {
		rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT t.key FROM `+table+` t
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
