package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ArtifactInfo describes a stored artifact without its data.
type ArtifactInfo struct {
	RunID   int64
	Kind    string // e.g. "checkpoint", "attention", "samples"
	Name    string
	Size    int64 // bytes
	Created time.Time
}

// PutArtifact stores data as the run's artifact (kind, name), replacing an
// artifact with the same kind and name. A missing run wraps ErrNotFound.
func (s *Store) PutArtifact(ctx context.Context, runID int64, kind, name string, data []byte) error {
	if kind == "" || name == "" {
		return fmt.Errorf("store: put artifact of run %d: empty kind or name (%q, %q)", runID, kind, name)
	}
	if data == nil {
		data = []byte{} // the column is NOT NULL; an empty artifact is allowed
	}
	now, nowArgs := s.nowSQL()
	err := s.writeOne(ctx, func(tx execer) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO artifacts (run_id, kind, name, size, data, created)
			VALUES (?, ?, ?, ?, ?, `+now+`)
			ON CONFLICT (run_id, kind, name) DO UPDATE SET
				size = excluded.size, data = excluded.data, created = excluded.created`,
			append([]any{runID, kind, name, len(data), data}, nowArgs...)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put artifact %s/%s of run %d: %w", kind, name, runID, s.fkNotFound(err, runID))
	}
	return nil
}

// PutOwnedArtifact is PutArtifact for the owner of a running run (its
// checkpoint, its final weights): the artifact is written only if the run
// is still running under owner's host and pid, checked in the same
// statement, and otherwise the write fails with ErrNotOwner and nothing is
// written — a worker whose run another worker took over as stale cannot
// replace the checkpoint the new owner resumed from. On PostgreSQL the
// statement holds the run's row (FOR SHARE) until it commits, so a claim
// cannot slip in between the check and the write; on SQLite the write
// transaction holds the database's one write lock. It costs the round trip
// PutArtifact does. A missing run wraps ErrNotFound.
func (s *Store) PutOwnedArtifact(ctx context.Context, runID int64, owner Owner, kind, name string, data []byte) error {
	if kind == "" || name == "" {
		return fmt.Errorf("store: put artifact of run %d: empty kind or name (%q, %q)", runID, kind, name)
	}
	if data == nil {
		data = []byte{}
	}
	d := s.d
	now, nowArgs := s.nowSQL()
	query := `INSERT INTO artifacts (run_id, kind, name, size, data, created)
		SELECT id, ` + d.typed("TEXT") + `, ` + d.typed("TEXT") + `, ` + d.typed("BIGINT") + `, ` + d.typed("BYTEA") + `, ` + now + `
		FROM runs WHERE id = ? AND status = 'running' AND host = ? AND pid = ?` + d.rowLock("SHARE") + `
		ON CONFLICT (run_id, kind, name) DO UPDATE SET
			size = excluded.size, data = excluded.data, created = excluded.created`
	args := append([]any{kind, name, int64(len(data)), data}, nowArgs...)
	args = append(args, runID, owner.Host, owner.PID)
	err := s.writeOne(ctx, func(tx execer) error { return s.updateOwned(ctx, tx, runID, owner, query, args...) })
	if err != nil {
		return fmt.Errorf("store: put artifact %s/%s of run %d: %w", kind, name, runID, err)
	}
	return nil
}

// Artifact returns the data of the run's artifact (kind, name), or an error
// wrapping ErrNotFound.
func (s *Store) Artifact(ctx context.Context, runID int64, kind, name string) ([]byte, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM artifacts WHERE run_id = ? AND kind = ? AND name = ?`,
		runID, kind, name).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: run %d has no artifact %s/%s: %w", runID, kind, name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read artifact %s/%s of run %d: %w", kind, name, runID, err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// Artifacts lists the run's artifacts ordered by kind and name, without
// their data.
func (s *Store) Artifacts(ctx context.Context, runID int64) ([]ArtifactInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT run_id, kind, name, size, created FROM artifacts
		WHERE run_id = ? ORDER BY kind, name`, runID)
	if err != nil {
		return nil, fmt.Errorf("store: list artifacts of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []ArtifactInfo
	for rows.Next() {
		var a ArtifactInfo
		var created dbTime
		if err := rows.Scan(&a.RunID, &a.Kind, &a.Name, &a.Size, &created); err != nil {
			return nil, fmt.Errorf("store: list artifacts of run %d: %w", runID, err)
		}
		a.Created = created.Time
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list artifacts of run %d: %w", runID, err)
	}
	return out, nil
}

// DeleteOwnedArtifacts deletes the run's artifacts of one kind and returns
// how many there were, for the owner of a running run (a fresh start drops
// the checkpoint of the run's earlier attempt): the artifacts are deleted
// only if the run is still running under owner's
// host and pid, checked in the same transaction (holding the run's row on
// PostgreSQL, as PutOwnedArtifact does), and otherwise it fails with
// ErrNotOwner and deletes nothing — a worker whose run another worker took
// over as stale cannot delete the checkpoint the new owner wrote. A missing
// run wraps ErrNotFound.
func (s *Store) DeleteOwnedArtifacts(ctx context.Context, runID int64, owner Owner, kind string) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *Tx) error {
		if err := s.holdOwned(ctx, tx, runID, owner); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM artifacts WHERE run_id = ? AND kind = ?`, runID, kind)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete %s artifacts of run %d: %w", kind, runID, err)
	}
	return n, nil
}
