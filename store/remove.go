package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrRunning is wrapped by the errors of RemoveRuns and RemoveExperiments
// when a run to remove is running: its owner would keep writing to it.
var ErrRunning = errors.New("run is running")

// Removal counts what a removal took out of the store (or, dry, would
// take): rows of each table and the bytes of the artifacts.
type Removal struct {
	Experiments, Runs, Params, Metrics, Summaries, Artifacts int
	ArtifactBytes                                            int64
}

// Add adds the counts of o to r.
func (r *Removal) Add(o Removal) {
	r.Experiments += o.Experiments
	r.Runs += o.Runs
	r.Params += o.Params
	r.Metrics += o.Metrics
	r.Summaries += o.Summaries
	r.Artifacts += o.Artifacts
	r.ArtifactBytes += o.ArtifactBytes
}

// countRuns counts the rows of the runs ids and their params, metrics,
// summaries and artifacts.
func (s *Store) countRuns(ctx context.Context, q querier, ids string) (Removal, error) {
	var r Removal
	for _, c := range []struct {
		table string
		n     *int
	}{{"params", &r.Params}, {"metrics", &r.Metrics}, {"summaries", &r.Summaries}} {
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+c.table+` WHERE run_id IN (`+s.d.int64s()+`)`, ids).Scan(c.n); err != nil {
			return r, err
		}
	}
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE id IN (`+s.d.int64s()+`)`, ids).Scan(&r.Runs); err != nil {
		return r, err
	}
	err := q.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM artifacts WHERE run_id IN (`+s.d.int64s()+`)`, ids).
		Scan(&r.Artifacts, &r.ArtifactBytes)
	return r, err
}

// lockRuns locks the rows of the runs ids (PostgreSQL: SELECT … FOR
// UPDATE, in id order) inside a removal's transaction, before it checks
// that none is running. Under READ COMMITTED a claim could otherwise commit
// between that check and the DELETE, which would then remove a run its
// new owner is training; with the rows locked a claim waits, or skips them
// (ClaimNext's SKIP LOCKED), until the removal has committed. SQLite needs
// nothing: the removal's IMMEDIATE transaction holds the one write lock, so
// no claim commits until it ends.
func (s *Store) lockRuns(ctx context.Context, q querier, ids string) error {
	lock := s.d.rowLock("UPDATE")
	if lock == "" {
		return nil
	}
	rows, err := q.QueryContext(ctx, `SELECT id FROM runs WHERE id IN (`+s.d.int64s()+`) ORDER BY id`+lock, ids)
	if err != nil {
		return err
	}
	return closeRows(rows)
}

// removeStaleAfter is how old a running run's heartbeat must be, by the
// database's clock, before a removal takes its worker (on another host)
// for dead: the age after which a worker takes such a run over (attnlab
// worker's default).
const removeStaleAfter = time.Minute

// Abandoned returns, for each run of runs that is running but whose
// worker is gone by the rule removal and Claim go by (on this host its pid
// no longer exists; elsewhere it has not heartbeated for a minute, by the
// database's clock), why it seems so: what ls shows beside its status. A
// worker takes such a run over; rm may remove it.
func (s *Store) Abandoned(ctx context.Context, runs []Run) (map[int64]string, error) {
	var out map[int64]string
	var now time.Time
	here := CurrentOwner("")
	for _, r := range runs {
		if r.Status != StatusRunning {
			continue
		}
		if out == nil {
			t, err := s.clock(ctx, s.db)
			if err != nil {
				return nil, fmt.Errorf("store: %w", err)
			}
			now, out = t, map[int64]string{}
		}
		if gone, _ := s.stale(r, here, now, removeStaleAfter); !gone {
			continue
		}
		switch {
		case r.Host == here.Host && !s.alive(r.PID):
			out[r.ID] = fmt.Sprintf("its worker %s:%d is gone", r.Host, r.PID)
		case r.Heartbeat.IsZero():
			out[r.ID] = fmt.Sprintf("no heartbeat from its worker %s:%d", r.Host, r.PID)
		default:
			out[r.ID] = fmt.Sprintf("no heartbeat from its worker %s:%d for %s", r.Host, r.PID, now.Sub(r.Heartbeat).Round(time.Second))
		}
	}
	return out, nil
}

// checkNotRunning returns an error wrapping ErrRunning naming the runs of
// ids that are running. A run whose worker is gone — on this host its pid
// no longer exists, elsewhere it has not heartbeated for removeStaleAfter —
// is not running any more (a worker would take it over) and may go: else
// a run whose worker was killed could not be removed until some worker
// took it and trained it again.
func (s *Store) checkNotRunning(ctx context.Context, q querier, ids string) error {
	rows, err := q.QueryContext(ctx, `SELECT `+runColumns+` WHERE r.status = 'running' AND r.id IN (`+s.d.int64s()+`) ORDER BY r.id`, ids)
	if err != nil {
		return err
	}
	var running []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			rows.Close()
			return err
		}
		running = append(running, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(running) == 0 {
		return nil
	}
	now, err := s.clock(ctx, q)
	if err != nil {
		return err
	}
	here := CurrentOwner("")
	var busy []string
	for _, r := range running {
		if gone, _ := s.stale(r, here, now, removeStaleAfter); !gone {
			busy = append(busy, fmt.Sprintf("%s (run %d) on %s:%d", r.Name(), r.ID, r.Host, r.PID))
		}
	}
	if len(busy) > 0 {
		return fmt.Errorf("%s: stop it first: %w", strings.Join(busy, ", "), ErrRunning)
	}
	return nil
}

// RemoveRuns deletes the runs ids with everything they hold (params,
// metrics, summaries, artifacts), in one transaction, and returns what it
// removed; their experiments stay. With dry it only counts what it would
// remove. A running run is an error wrapping ErrRunning and nothing is
// removed; unknown ids are left out of the counts. The runs are locked
// before the check (see lockRuns), so none is claimed before the removal
// commits.
func (s *Store) RemoveRuns(ctx context.Context, ids []int64, dry bool) (Removal, error) {
	var out Removal
	list := idList(ids)
	do := func(q querier, exec func(string, ...any) error) error {
		if !dry {
			if err := s.lockRuns(ctx, q, list); err != nil {
				return err
			}
		}
		if err := s.checkNotRunning(ctx, q, list); err != nil {
			return err
		}
		if s.removeChecked != nil && !dry {
			s.removeChecked()
		}
		r, err := s.countRuns(ctx, q, list)
		if err != nil {
			return err
		}
		out = r
		if dry {
			return nil
		}
		return exec(`DELETE FROM runs WHERE id IN (`+s.d.int64s()+`)`, list)
	}
	if err := s.removal(ctx, dry, do); errors.Is(err, ErrRunning) {
		return Removal{}, err // the user's to fix: said as it is
	} else if err != nil {
		return Removal{}, fmt.Errorf("store: remove runs: %w", err)
	}
	return out, nil
}

// RemoveExperiments deletes the named experiments with all their runs and
// everything those hold, in one transaction, and returns what it removed
// (with dry, what it would remove). An unknown name is an error wrapping
// ErrNotFound, a running run one wrapping ErrRunning; then nothing is
// removed.
func (s *Store) RemoveExperiments(ctx context.Context, names []string, dry bool) (Removal, error) {
	var out Removal
	do := func(q querier, exec func(string, ...any) error) error {
		for _, name := range names {
			// Not dry, the experiment's row is locked too (PostgreSQL): a
			// Submit adding runs to it waits until it is gone.
			lock := ""
			if !dry {
				lock = s.d.rowLock("UPDATE")
			}
			var expID int64
			if err := q.QueryRowContext(ctx, `SELECT id FROM experiments WHERE name = ?`+lock, name).Scan(&expID); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("experiment %q: %w", name, ErrNotFound)
				}
				return err
			}
			var ids []int64
			rows, err := q.QueryContext(ctx, `SELECT id FROM runs WHERE experiment_id = ? ORDER BY id`+lock, expID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			list := idList(ids)
			if err := s.checkNotRunning(ctx, q, list); err != nil {
				return fmt.Errorf("experiment %q: %w", name, err)
			}
			if s.removeChecked != nil && !dry {
				s.removeChecked()
			}
			r, err := s.countRuns(ctx, q, list)
			if err != nil {
				return err
			}
			r.Experiments = 1
			out.Add(r)
			if !dry {
				if err := exec(`DELETE FROM experiments WHERE id = ?`, expID); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := s.removal(ctx, dry, do); err != nil {
		return Removal{}, fmt.Errorf("store: remove experiments: %w", err)
	}
	return out, nil
}

// RemoveCheckpoints deletes the checkpoint artifacts (kind) of the runs
// that are done and do not keep their checkpoints (Run.KeepCheckpoints),
// and returns what it removed (with dry, what it would remove). Nothing
// else is touched: a done run's model stays, and so do the checkpoints of
// runs that may still resume (queued, running, failed, interrupted).
func (s *Store) RemoveCheckpoints(ctx context.Context, kind string, dry bool) (Removal, error) {
	var out Removal
	const sel = ` FROM artifacts WHERE kind = ? AND run_id IN
		(SELECT id FROM runs WHERE status = 'done' AND keep_checkpoints = ?)`
	do := func(q querier, exec func(string, ...any) error) error {
		if err := q.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(size), 0)`+sel, kind, false).
			Scan(&out.Artifacts, &out.ArtifactBytes); err != nil {
			return err
		}
		if dry {
			return nil
		}
		return exec(`DELETE`+sel, kind, false)
	}
	if err := s.removal(ctx, dry, do); err != nil {
		return Removal{}, fmt.Errorf("store: remove checkpoints: %w", err)
	}
	return out, nil
}

// removal runs do in a write transaction, or for a dry run on plain reads
// with an exec that must not be called.
func (s *Store) removal(ctx context.Context, dry bool, do func(q querier, exec func(string, ...any) error) error) error {
	if dry {
		return do(s.db, func(string, ...any) error { return errors.New("store: a dry run writes nothing") })
	}
	return s.write(ctx, func(tx *Tx) error {
		return do(tx, func(query string, args ...any) error {
			_, err := tx.ExecContext(ctx, query, args...)
			return err
		})
	})
}

// Compact gives the space of removed rows back to the file system (SQLite:
// VACUUM, then a WAL checkpoint that truncates the log; PostgreSQL:
// VACUUM). It must not run inside a transaction, and it waits for other
// writers.
func (s *Store) Compact(ctx context.Context) error {
	if s.readOnly {
		return fmt.Errorf("store %s is open read-only", s.name)
	}
	for _, stmt := range s.d.compact() {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: compact: %w", s.redactErr(err))
		}
	}
	return nil
}
