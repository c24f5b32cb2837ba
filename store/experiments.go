package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Experiment is one row of the experiments table, with the number of its
// runs in each status.
type Experiment struct {
	ID          int64
	Name        string
	Description string
	YAML        string // the experiment file as the user wrote it
	Dir         string // the experiment file's directory (Submit records it)
	Created     time.Time
	Updated     time.Time
	Counts      map[Status]int // runs by status; statuses with no runs are absent
}

// PutExperiment inserts the experiment, or updates the description and YAML
// of the experiment with this name, and returns its id.
func (s *Store) PutExperiment(ctx context.Context, name, description, yamlText string) (int64, error) {
	if name == "" {
		return 0, errors.New("store: put experiment: empty name")
	}
	var id int64
	err := s.write(ctx, func(tx *Tx) error {
		now, err := s.clock(ctx, tx)
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `
			INSERT INTO experiments (name, description, yaml, created, updated)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET
				description = excluded.description,
				yaml = excluded.yaml,
				updated = excluded.updated
			RETURNING id`, name, description, yamlText, s.d.timeArg(now), s.d.timeArg(now)).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("store: put experiment %q: %w", name, err)
	}
	return id, nil
}

// Experiments returns every experiment, ordered by name.
func (s *Store) Experiments(ctx context.Context) ([]Experiment, error) {
	exps, err := s.queryExperiments(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("store: list experiments: %w", err)
	}
	return exps, nil
}

// ExperimentByName returns the experiment with this name, or an error
// wrapping ErrNotFound.
func (s *Store) ExperimentByName(ctx context.Context, name string) (Experiment, error) {
	if name == "" {
		return Experiment{}, fmt.Errorf("store: experiment with an empty name: %w", ErrNotFound)
	}
	exps, err := s.queryExperiments(ctx, name)
	if err != nil {
		return Experiment{}, fmt.Errorf("store: experiment %q: %w", name, err)
	}
	if len(exps) == 0 {
		return Experiment{}, fmt.Errorf("store: experiment %q: %w", name, ErrNotFound)
	}
	return exps[0], nil
}

// queryExperiments lists all experiments, or the one named name if it is
// not empty.
func (s *Store) queryExperiments(ctx context.Context, name string) ([]Experiment, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT id, name, description, yaml, created, updated, dir
		FROM experiments WHERE ? = '' OR name = ? ORDER BY name`, name, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var exps []Experiment
	index := map[int64]int{}
	for rows.Next() {
		var e Experiment
		var created, updated dbTime
		if err := rows.Scan(&e.ID, &e.Name, &e.Description, &e.YAML, &created, &updated, &e.Dir); err != nil {
			return nil, err
		}
		e.Created, e.Updated = created.Time, updated.Time
		e.Counts = map[Status]int{}
		index[e.ID] = len(exps)
		exps = append(exps, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(exps) == 0 {
		return nil, nil
	}
	counts, err := s.db.QueryContext(ctx, `
		SELECT r.experiment_id, r.status, count(*)
		FROM runs r JOIN experiments e ON e.id = r.experiment_id
		WHERE ? = '' OR e.name = ?
		GROUP BY r.experiment_id, r.status`, name, name)
	if err != nil {
		return nil, err
	}
	defer counts.Close()
	for counts.Next() {
		var id int64
		var st Status
		var n int
		if err := counts.Scan(&id, &st, &n); err != nil {
			return nil, err
		}
		if i, ok := index[id]; ok {
			exps[i].Counts[st] = n
		}
	}
	return exps, counts.Err()
}
