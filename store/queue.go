package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ExperimentSpec describes an experiment for Submit.
type ExperimentSpec struct {
	Name        string
	Description string
	YAML        string // the experiment file as the user wrote it
	// Dir is the experiment file's directory: a worker on another machine
	// resolves the task's relative paths against it.
	Dir string
}

// Submit records the experiment (inserting it, or updating the
// description, YAML and directory of the experiment with this name) and
// inserts the runs of specs it does not have yet as queued, all in one
// transaction: the queue never holds runs of a half-recorded experiment.
// It returns the experiment's id and every run of specs, in order, with its
// current state (see EnsureRuns).
func (s *Store) Submit(ctx context.Context, x ExperimentSpec, specs []RunSpec) (int64, []Run, error) {
	if x.Name == "" {
		return 0, nil, errors.New("store: submit: empty experiment name")
	}
	prepared, err := prepareSpecs(specs)
	if err != nil {
		return 0, nil, fmt.Errorf("store: submit %q: %w", x.Name, err)
	}
	var id int64
	var out []Run
	err = s.write(ctx, func(tx *Tx) error {
		now, err := s.clock(ctx, tx)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `
			INSERT INTO experiments (name, description, yaml, dir, created, updated)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET
				description = excluded.description,
				yaml = excluded.yaml,
				dir = excluded.dir,
				updated = excluded.updated
			RETURNING id`, x.Name, x.Description, x.YAML, x.Dir, s.d.timeArg(now), s.d.timeArg(now)).Scan(&id)
		if err != nil {
			return err
		}
		out, err = s.ensureRuns(ctx, tx, id, prepared)
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("store: submit %q: %w", x.Name, err)
	}
	return id, out, nil
}

// QueueFilter restricts which runs a worker takes. Zero fields take any.
type QueueFilter struct {
	Experiments []string // experiment names
	RunIDs      []int64  // only these runs
	Except      []int64  // not these runs (a worker's runs too big for it)
}

// where returns the filter's SQL conditions (over r and e) and arguments.
func (f QueueFilter) where(d dialect) (string, []any) {
	var conds []string
	var args []any
	if len(f.Experiments) > 0 {
		names, _ := json.Marshal(f.Experiments)
		conds = append(conds, `e.name IN (`+d.texts()+`)`)
		args = append(args, string(names))
	}
	if f.RunIDs != nil {
		conds = append(conds, `r.id IN (`+d.int64s()+`)`)
		args = append(args, idList(f.RunIDs))
	}
	if len(f.Except) > 0 {
		conds = append(conds, `r.id NOT IN (`+d.int64s()+`)`)
		args = append(args, idList(f.Except))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(conds, " AND "), args
}

// ClaimNext takes the next run of the queue for owner: the run with the
// lowest id among those f selects that is queued, interrupted (handed back
// by a worker that stopped, or by Ctrl-C), or running but stale (see Claim).
// It returns Claimed false when there is none. Any number of processes may
// call it at once: on PostgreSQL the candidate row is locked with FOR UPDATE
// SKIP LOCKED, so concurrent claimers take different runs without waiting
// for each other; on SQLite the IMMEDIATE transaction makes claims take
// turns. A stale run whose lost attempts reach its MaxAttempts is failed on
// the way (its error says why) and the next run is taken instead: the
// result's GaveUp lists the runs so failed, whether or not a run was
// claimed, for the caller to tell. A stale run taken over has its result's
// Lost and LostFrom set.
func (s *Store) ClaimNext(ctx context.Context, owner Owner, f QueueFilter, staleAfter time.Duration) (ClaimResult, error) {
	if owner.Host == "" || owner.PID <= 0 {
		return ClaimResult{}, fmt.Errorf("store: claim next run: owner %q has no host or no pid", owner)
	}
	filter, filterArgs := f.where(s.d)
	var res ClaimResult
	err := s.write(ctx, func(tx *Tx) error {
		res = ClaimResult{} // a retried transaction starts over
		now, err := s.clock(ctx, tx)
		if err != nil {
			return err
		}
		dead, err := s.deadPIDs(ctx, tx, owner.Host)
		if err != nil {
			return err
		}
		// Stale: heartbeat too old by the database's clock, or the owner's
		// pid is gone on this host.
		staleCond := `(r.host = ? AND r.pid IN (` + s.d.int64s() + `))`
		args := []any{owner.Host, idList(dead)}
		if staleAfter > 0 {
			staleCond = `(r.heartbeat IS NULL OR r.heartbeat < ? OR ` + staleCond + `)`
			args = append([]any{s.d.timeArg(now.Add(-staleAfter))}, args...)
		}
		query := `SELECT ` + runColumns + ` WHERE (r.status IN ('queued', 'interrupted')
			OR (r.status = 'running' AND ` + staleCond + `))` + filter + ` ORDER BY r.id LIMIT 1` + s.d.skipLocked()
		args = append(args, filterArgs...)
		for {
			r, err := scanRun(tx.QueryRowContext(ctx, query, args...))
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			res.Prev = r.Status
			if r.Status == StatusRunning {
				_, why := s.stale(r, owner, now, staleAfter)
				prev := Owner{Host: r.Host, PID: r.PID}
				gaveUp, err := s.lose(ctx, tx, &r, why, now)
				if err != nil {
					return err
				}
				if gaveUp {
					res.GaveUp = append(res.GaveUp, r)
					continue // failed now; take the next one
				}
				res.Lost, res.LostFrom = why, prev
			}
			if res.Run, err = s.take(ctx, tx, r.ID, owner, now); err != nil {
				return err
			}
			res.Claimed = true
			return nil
		}
	})
	if err != nil {
		return ClaimResult{}, fmt.Errorf("store: claim next run: %w", err)
	}
	return res, nil
}

// deadPIDs returns the pids of running runs on host that no longer exist.
func (s *Store) deadPIDs(ctx context.Context, q querier, host string) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT pid FROM runs WHERE status = 'running' AND host = ?`, host)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	dead := []int64{}
	for rows.Next() {
		var pid int64
		if err := rows.Scan(&pid); err != nil {
			return nil, err
		}
		if !s.alive(int(pid)) {
			dead = append(dead, pid)
		}
	}
	return dead, rows.Err()
}

// QueueCounts is how many runs a QueueFilter selects in each status.
type QueueCounts map[Status]int

// Waiting is the number of runs a worker may still get: queued,
// interrupted or running (a running one may go stale and come back).
func (c QueueCounts) Waiting() int {
	return c[StatusQueued] + c[StatusInterrupted] + c[StatusRunning]
}

// Queue counts the runs f selects by status.
func (s *Store) Queue(ctx context.Context, f QueueFilter) (QueueCounts, error) {
	filter, args := f.where(s.d)
	var out QueueCounts
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT r.status, count(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id
		WHERE 1 = 1`+filter+` GROUP BY r.status`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		out = QueueCounts{}
		for rows.Next() {
			var st Status
			var n int
			if err := rows.Scan(&st, &n); err != nil {
				return err
			}
			out[st] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: count the queue: %w", err)
	}
	return out, nil
}

// Now returns the time by the database's clock (see the package doc), the
// clock heartbeats are judged by.
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	return s.clock(ctx, s.db)
}

// Held returns the running runs f selects that owner does not hold: the
// runs a worker waits for when the queue has nothing else for it.
func (s *Store) Held(ctx context.Context, f QueueFilter, owner Owner) ([]Run, error) {
	filter, args := f.where(s.d)
	var out []Run
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT `+runColumns+` WHERE r.status = 'running'
		AND NOT (r.host = ? AND r.pid = ?)`+filter+` ORDER BY r.id`, append([]any{owner.Host, owner.PID}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		out = nil
		for rows.Next() {
			r, err := scanRun(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: list held runs: %w", err)
	}
	return out, nil
}
