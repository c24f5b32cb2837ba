package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultBatch is how many metric rows a MetricWriter buffers before it
// writes them, when NewMetricWriter is given batch <= 0.
const DefaultBatch = 256

// MetricWriter buffers one run's metric rows in memory and writes them in
// short batched transactions: when batch rows are pending (from Log) and on
// Flush. A row for a (key, step) that already exists replaces it. A
// MetricWriter is safe for concurrent use; rows not yet written are lost if
// the process dies, so flush at checkpoints and before Finish. One made by
// NewOwnedMetricWriter writes only while its owner holds the run.
type MetricWriter struct {
	s     *Store
	runID int64
	batch int
	owner *Owner // nil: the writes are not guarded

	mu      sync.Mutex
	pending []metricRow
}

type metricRow struct {
	step  int64
	key   string
	value float64
	wall  float64 // Unix seconds
}

// NewMetricWriter returns a writer for the run's metrics that writes every
// batch rows (DefaultBatch if batch <= 0).
func (s *Store) NewMetricWriter(runID int64, batch int) *MetricWriter {
	if batch <= 0 {
		batch = DefaultBatch
	}
	return &MetricWriter{s: s, runID: runID, batch: batch, pending: make([]metricRow, 0, batch)}
}

// NewOwnedMetricWriter is NewMetricWriter for the owner of a running run
// (a worker's metric history): each write stores its rows only if the run
// is still running under owner's host and pid, checked in the same
// statement or transaction (holding the run's row on PostgreSQL until it
// commits, as PutOwnedArtifact does), and otherwise fails with ErrNotOwner
// and stores none of them — a worker whose run another worker took over
// as stale cannot add rows to the new owner's history, nor replace those
// it wrote. The usual flush (up to 64 rows) stays one statement, one round
// trip on PostgreSQL. A missing run wraps ErrNotFound.
func (s *Store) NewOwnedMetricWriter(runID int64, owner Owner, batch int) *MetricWriter {
	w := s.NewMetricWriter(runID, batch)
	w.owner = &owner
	return w
}

// Log buffers the value of metric key at step, stamped with the current wall
// time. When the buffer reaches the batch size it is written (with a
// background context, so a cancelled run still records its last rows); the
// error of that write is returned and the rows stay buffered for the next try.
func (w *MetricWriter) Log(step int, key string, value float64) error {
	return w.LogAt(step, key, value, w.s.wall())
}

// LogAt is Log with the wall time given: when the value was logged, for a
// caller that hands rows to the writer later.
func (w *MetricWriter) LogAt(step int, key string, value float64, wall time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = append(w.pending, metricRow{step: int64(step), key: key, value: value, wall: unixSeconds(wall)})
	if len(w.pending) < w.batch {
		return nil
	}
	return w.flushLocked(context.Background())
}

// Flush writes the buffered rows in one transaction. On error the rows stay
// buffered.
func (w *MetricWriter) Flush(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked(ctx)
}

// Pending returns the number of buffered rows.
func (w *MetricWriter) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

// rowsPerInsert is how many rows one multi-row INSERT carries: 5 bound
// values each, well under SQLite's limit of 32766 parameters.
const rowsPerInsert = 64

func (w *MetricWriter) flushLocked(ctx context.Context) error {
	if len(w.pending) == 0 {
		return nil
	}
	w.keepLast()
	args := make([]any, 0, 5*rowsPerInsert)
	var err error
	if len(w.pending) <= rowsPerInsert {
		// One INSERT: one round trip on PostgreSQL.
		if w.owner != nil {
			for _, r := range w.pending {
				args = append(args, r.key, r.step, floatArg(r.value), r.wall)
			}
			args = append(args, w.runID, w.owner.Host, w.owner.PID)
			query := ownedMetricInsert(w.s.d, len(w.pending))
			err = w.s.writeOne(ctx, func(tx execer) error {
				return w.s.updateOwned(ctx, tx, w.runID, *w.owner, query, args...)
			})
		} else {
			for _, r := range w.pending {
				args = append(args, w.runID, r.key, r.step, floatArg(r.value), r.wall)
			}
			err = w.s.writeOne(ctx, func(tx execer) error {
				_, err := tx.ExecContext(ctx, metricInsert(len(w.pending)), args...)
				return err
			})
		}
	} else {
		err = w.flushMany(ctx, args)
	}
	if err != nil {
		return fmt.Errorf("store: write metrics of run %d: %w", w.runID, w.s.fkNotFound(err, w.runID))
	}
	w.pending = w.pending[:0]
	return nil
}

// keepLast drops every pending row that a later pending row of the same
// key and step replaces. One INSERT must not carry both: PostgreSQL refuses
// an upsert that touches a row twice, and the rows would stay pending.
func (w *MetricWriter) keepLast() {
	if len(w.pending) < 2 {
		return
	}
	type keyStep struct {
		key  string
		step int64
	}
	last := make(map[keyStep]int, len(w.pending))
	for i, r := range w.pending {
		last[keyStep{r.key, r.step}] = i
	}
	if len(last) == len(w.pending) {
		return
	}
	kept := w.pending[:0]
	for i, r := range w.pending {
		if last[keyStep{r.key, r.step}] == i {
			kept = append(kept, r)
		}
	}
	clear(w.pending[len(kept):])
	w.pending = kept
}

// flushMany writes the pending rows, more than one INSERT holds, in one
// transaction (that first checks the owner, if the writer has one).
func (w *MetricWriter) flushMany(ctx context.Context, args []any) error {
	return w.s.write(ctx, func(tx *Tx) error {
		if w.owner != nil {
			if err := w.s.holdOwned(ctx, tx, w.runID, *w.owner); err != nil {
				return err
			}
		}
		var full *sql.Stmt
		for rows := w.pending; len(rows) > 0; {
			n := min(len(rows), rowsPerInsert)
			args = args[:0]
			for _, r := range rows[:n] {
				args = append(args, w.runID, r.key, r.step, floatArg(r.value), r.wall)
			}
			var err error
			if n == rowsPerInsert {
				if full == nil {
					if full, err = tx.PrepareContext(ctx, metricInsert(rowsPerInsert)); err != nil {
						return err
					}
					defer full.Close()
				}
				_, err = full.ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, metricInsert(n), args...)
			}
			if err != nil {
				return err
			}
			rows = rows[n:]
		}
		return nil
	})
}

var metricInserts sync.Map // int → string

// metricInsert returns the INSERT statement for n rows.
func metricInsert(n int) string {
	if q, ok := metricInserts.Load(n); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO metrics (run_id, key, step, value, wall) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?)")
	}
	b.WriteString(" ON CONFLICT (run_id, key, step) DO UPDATE SET value = excluded.value, wall = excluded.wall")
	q, _ := metricInserts.LoadOrStore(n, b.String())
	return q.(string)
}

var ownedMetricInserts sync.Map // ownedInsertKey → string

type ownedInsertKey struct {
	engine Engine
	n      int
}

// ownedMetricInsert returns the INSERT statement for n rows of a run's
// owner: the rows (key, step, value, wall; then the run's id, host and pid)
// are inserted only if the run is running under that host and pid, whose
// row it holds (FOR SHARE on PostgreSQL) until it commits. It changes no
// row when the owner does not hold the run.
func ownedMetricInsert(d dialect, n int) string {
	k := ownedInsertKey{d.engine(), n}
	if q, ok := ownedMetricInserts.Load(k); ok {
		return q.(string)
	}
	row := "(" + d.typed("TEXT") + "," + d.typed("BIGINT") + "," + d.typed("DOUBLE PRECISION") + "," + d.typed("DOUBLE PRECISION") + ")"
	var b strings.Builder
	b.WriteString("INSERT INTO metrics (run_id, key, step, value, wall) SELECT r.id, v.column1, v.column2, v.column3, v.column4 FROM runs r, (VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(") AS v WHERE r.id = ? AND r.status = 'running' AND r.host = ? AND r.pid = ?")
	b.WriteString(d.rowLock("SHARE OF r"))
	b.WriteString(" ON CONFLICT (run_id, key, step) DO UPDATE SET value = excluded.value, wall = excluded.wall")
	q, _ := ownedMetricInserts.LoadOrStore(k, b.String())
	return q.(string)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func fromUnixSeconds(s float64) time.Time {
	sec := int64(s)
	return time.Unix(sec, int64((s-float64(sec))*1e9)).UTC()
}

// fkNotFound turns a foreign-key failure on a run's child row into a
// "run N: not found" error.
func (s *Store) fkNotFound(err error, runID int64) error {
	if s.d.code(err) == codeForeignKey {
		return fmt.Errorf("run %d: %w", runID, ErrNotFound)
	}
	return err
}

// TruncateMetrics deletes the run's metric rows with step > afterStep, for
// every key, whoever holds the run; afterStep < 0 deletes the whole
// history. The owner of a running run uses TruncateOwnedMetrics.
func (s *Store) TruncateMetrics(ctx context.Context, runID int64, afterStep int) error {
	return s.truncateMetrics(ctx, runID, nil, afterStep)
}

// TruncateOwnedMetrics is TruncateMetrics for the owner of a running run.
// The executor calls it when it resumes a run from the checkpoint of step
// afterStep, so that the run's history has no rows from the lost part of
// the previous attempt (rows at or before it are replaced on upsert), and
// with afterStep -1 when it starts a run afresh. The rows are deleted only
// if the run is still running under owner's host and pid, checked in the
// same transaction (holding the run's row on PostgreSQL, as
// PutOwnedArtifact does), and otherwise it fails with ErrNotOwner and
// deletes nothing — a worker whose run another worker took over as stale
// cannot delete the new owner's history. A missing run wraps ErrNotFound.
func (s *Store) TruncateOwnedMetrics(ctx context.Context, runID int64, owner Owner, afterStep int) error {
	return s.truncateMetrics(ctx, runID, &owner, afterStep)
}

// truncateMetrics is TruncateMetrics, guarded by owner unless it is nil.
func (s *Store) truncateMetrics(ctx context.Context, runID int64, owner *Owner, afterStep int) error {
	err := s.write(ctx, func(tx *Tx) error {
		if owner != nil {
			if err := s.holdOwned(ctx, tx, runID, *owner); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM metrics WHERE run_id = ? AND step > ?`, runID, afterStep)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: truncate metrics of run %d: %w", runID, err)
	}
	return nil
}

// MetricPoint is one row of a metric's history.
type MetricPoint struct {
	Step  int
	Value float64 // NaN and ±Inf as logged
	Wall  time.Time
}

// MetricHistory returns the history of metric key for each run, ordered by
// step: run id → points. Runs without that metric are absent.
func (s *Store) MetricHistory(ctx context.Context, runIDs []int64, key string) (map[int64][]MetricPoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT run_id, step, value, wall FROM metrics
		WHERE run_id IN (`+s.d.int64s()+`) AND key = ?
		ORDER BY run_id, step`, idList(runIDs), key)
	if err != nil {
		return nil, fmt.Errorf("store: read metric %s: %w", key, err)
	}
	defer rows.Close()
	out := map[int64][]MetricPoint{}
	for rows.Next() {
		var id int64
		var p MetricPoint
		var v sql.NullFloat64
		var wall float64
		if err := rows.Scan(&id, &p.Step, &v, &wall); err != nil {
			return nil, fmt.Errorf("store: read metric %s: %w", key, err)
		}
		p.Value, p.Wall = floatOf(v), fromUnixSeconds(wall)
		out[id] = append(out[id], p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read metric %s: %w", key, err)
	}
	return out, nil
}

// metricPage is how many points EachMetricPoint reads per query.
const metricPage = 10000

// EachMetricPoint calls fn with each point of the run's history of metric
// key, in step order. It reads the history in pages of metricPage points
// (WHERE step > the page's last step ORDER BY step LIMIT metricPage) and
// closes each page's rows before it calls fn for that page's points, so no
// read is open on the database while fn runs: fn may block (export
// --curves writing to a paused pipe) without holding back SQLite's WAL
// checkpoint or PostgreSQL's vacuum, and memory stays bounded by a page
// whatever the history's length. An error from fn stops the reading and is
// returned as is. A run without that metric calls fn never.
func (s *Store) EachMetricPoint(ctx context.Context, runID int64, key string, fn func(MetricPoint) error) error {
	return s.eachMetricPoint(ctx, runID, key, metricPage, nil, fn)
}

// EachMetricPointThen is EachMetricPoint that calls read once it has read
// the history's last page (a page shorter than a full one, maybe empty),
// before it calls fn with that page's points: read runs after the last
// query of the history, and before anything fn does with the last page
// (export --curves checks there that the run it read is still the one it
// had listed, store.Vanished, so that a removal after its last read does
// not fail it). An error from read stops the reading and is returned as
// is; fn is then not called for the last page.
func (s *Store) EachMetricPointThen(ctx context.Context, runID int64, key string, read func() error, fn func(MetricPoint) error) error {
	return s.eachMetricPoint(ctx, runID, key, metricPage, read, fn)
}

// eachMetricPoint is EachMetricPoint reading pages of size points, calling
// read (if not nil) after the last page is read.
func (s *Store) eachMetricPoint(ctx context.Context, runID int64, key string, size int, read func() error, fn func(MetricPoint) error) error {
	after := math.MinInt
	return eachPage(size, read, fn, func(page []MetricPoint) ([]MetricPoint, error) {
		if len(page) > 0 {
			after = page[len(page)-1].Step
		}
		page, err := s.metricPage(ctx, runID, key, after, size, page[:0])
		if err != nil {
			return nil, fmt.Errorf("store: read metric %s of run %d: %w", key, runID, err)
		}
		return page, nil
	})
}

// eachPage reads pages of at most size points with next (given the last
// page read, empty at first, to append the next one to) and calls fn for
// each point, read (if not nil) once the last page — one shorter than
// size — is read, before fn sees its points. An error of next, read or fn
// ends it.
func eachPage[P any](size int, read func() error, fn func(P) error, next func(last []P) ([]P, error)) error {
	page := make([]P, 0, min(size, 1024))
	for {
		var err error
		if page, err = next(page); err != nil {
			return err
		}
		if len(page) < size && read != nil {
			if err := read(); err != nil {
				return err
			}
		}
		for _, p := range page {
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(page) < size {
			return nil
		}
	}
}

// metricPage appends to page the next at most size points of the run's
// history of key after step after, and closes its rows.
func (s *Store) metricPage(ctx context.Context, runID int64, key string, after, size int, page []MetricPoint) ([]MetricPoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT step, value, wall FROM metrics
		WHERE run_id = ? AND key = ? AND step > ? ORDER BY step LIMIT ?`, runID, key, int64(after), size)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		var p MetricPoint
		var v sql.NullFloat64
		var wall float64
		if err := rows.Scan(&p.Step, &v, &wall); err != nil {
			return page, err
		}
		p.Value, p.Wall = floatOf(v), fromUnixSeconds(wall)
		page = append(page, p)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	return page, rows.Close()
}

// KeyPoint is one row of a run's metric history: the metric's key and
// its point.
type KeyPoint struct {
	Key string
	MetricPoint
}

// EachRunMetricPoint calls fn with each point of every metric the run
// logged, by key (in byte order, as MetricKeys sorts them) then step. It
// is EachMetricPoint for all of a run's metrics at once: one paged query
// per run, not one per run and metric (export --curves of 1 504 runs × 10
// metrics sent 15 040 queries), each page of metricPage points read in the
// metrics primary key's order (WHERE run_id = ? AND (key, step) > the
// page's last ORDER BY key, step LIMIT metricPage) and its rows closed
// before fn is called for its points, so no read is open on the database
// while fn runs and memory stays bounded by a page. An error from fn stops
// the reading and is returned as is. A run that logged nothing calls fn
// never.
func (s *Store) EachRunMetricPoint(ctx context.Context, runID int64, fn func(KeyPoint) error) error {
	return s.eachRunMetricPoint(ctx, runID, metricPage, nil, fn)
}

// EachRunMetricPointThen is EachRunMetricPoint that calls read once it has
// read the run's last page, before it calls fn with that page's points, as
// EachMetricPointThen does.
func (s *Store) EachRunMetricPointThen(ctx context.Context, runID int64, read func() error, fn func(KeyPoint) error) error {
	return s.eachRunMetricPoint(ctx, runID, metricPage, read, fn)
}

// eachRunMetricPoint is EachRunMetricPoint reading pages of size points,
// calling read (if not nil) after the last page is read.
func (s *Store) eachRunMetricPoint(ctx context.Context, runID int64, size int, read func() error, fn func(KeyPoint) error) error {
	var after *KeyPoint // the last point read; nil before the first page
	return eachPage(size, read, fn, func(page []KeyPoint) ([]KeyPoint, error) {
		if len(page) > 0 {
			last := page[len(page)-1]
			after = &last
		}
		page, err := s.runMetricPage(ctx, runID, after, size, page[:0])
		if err != nil {
			return nil, fmt.Errorf("store: read metrics of run %d: %w", runID, err)
		}
		return page, nil
	})
}

// runMetricPage appends to page the next at most size points of the run's
// histories, by key then step, after the point after (from the first if it
// is nil), and closes its rows.
func (s *Store) runMetricPage(ctx context.Context, runID int64, after *KeyPoint, size int, page []KeyPoint) ([]KeyPoint, error) {
	q, args := `SELECT key, step, value, wall FROM metrics WHERE run_id = ?`, []any{runID}
	if after != nil {
		// A row value: both engines seek the primary key (run_id, key,
		// step) to it, where key > ? OR (key = ? AND step > ?) would
		// make each page scan the run's rows from its first key.
		q += ` AND (key, step) > (?, ?)`
		args = append(args, after.Key, int64(after.Step))
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY key, step LIMIT ?`, append(args, size)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		var p KeyPoint
		var v sql.NullFloat64
		var wall float64
		if err := rows.Scan(&p.Key, &p.Step, &v, &wall); err != nil {
			return page, err
		}
		p.Value, p.Wall = floatOf(v), fromUnixSeconds(wall)
		page = append(page, p)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	return page, rows.Close()
}

// MetricKeys returns the sorted metric keys that any of the runs logged.
func (s *Store) MetricKeys(ctx context.Context, runIDs []int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT key FROM metrics
		WHERE run_id IN (`+s.d.int64s()+`)`, idList(runIDs))
	if err != nil {
		return nil, fmt.Errorf("store: read metric keys: %w", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("store: read metric keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read metric keys: %w", err)
	}
	sort.Strings(keys)
	return keys, nil
}

// PutSummaries sets the run's summary values for the given keys, replacing
// earlier values of those keys and keeping the run's other keys. NaN and
// ±Inf are stored exactly.
func (s *Store) PutSummaries(ctx context.Context, runID int64, values map[string]float64) error {
	if len(values) == 0 {
		return nil
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	err := s.write(ctx, func(tx *Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO summaries (run_id, key, value) VALUES (?, ?, ?)
			ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, k := range keys {
			if _, err := stmt.ExecContext(ctx, runID, k, floatArg(values[k])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: put summaries of run %d: %w", runID, s.fkNotFound(err, runID))
	}
	return nil
}

// Summaries returns the summaries of the given runs: run id → key → value.
// Runs without summaries are absent.
func (s *Store) Summaries(ctx context.Context, runIDs []int64) (map[int64]map[string]float64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT run_id, key, value FROM summaries
		WHERE run_id IN (`+s.d.int64s()+`)`, idList(runIDs))
	if err != nil {
		return nil, fmt.Errorf("store: read summaries: %w", err)
	}
	out, err := scanRunValues(rows)
	if err != nil {
		return nil, fmt.Errorf("store: read summaries: %w", err)
	}
	return out, nil
}

// InfiniteSummaries returns the summaries of the given runs whose value
// is +Inf or −Inf as Summaries reads it (on SQLite, also a value written
// by hand as text, 'Inf') and whose key contains one of keyHas (byte for byte;
// any key when keyHas is empty): run id → key → value. Runs without such
// a summary are absent. The database selects the rows, so only those
// cross the connection: package runs tells, among thousands of done runs,
// those stored with a diverged loss or perplexity without reading every
// summary of every run (keyHas "/loss", "/ppl": a superset of
// metrics.IsLoss's keys, which the caller tests exactly).
func (s *Store) InfiniteSummaries(ctx context.Context, runIDs []int64, keyHas ...string) (map[int64]map[string]float64, error) {
	if len(runIDs) == 0 {
		return map[int64]map[string]float64{}, nil
	}
	q := `SELECT run_id, key, value FROM summaries
		WHERE run_id IN (` + s.d.int64s() + `) AND ` + s.d.infinite("value")
	args := []any{idList(runIDs), math.Inf(1), math.Inf(-1)}
	if len(keyHas) > 0 {
		conds := make([]string, len(keyHas))
		for i, sub := range keyHas {
			conds[i] = s.d.contains("key")
			args = append(args, sub)
		}
		q += ` AND (` + strings.Join(conds, " OR ") + `)`
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read ±Inf summaries: %w", err)
	}
	out, err := scanRunValues(rows)
	if err != nil {
		return nil, fmt.Errorf("store: read ±Inf summaries: %w", err)
	}
	// The condition may select more (SQLite: any TEXT value, as 'Inf'
	// written by hand, which Summaries reads as +Inf): keep what Summaries
	// would read as ±Inf.
	for id, m := range out {
		maps.DeleteFunc(m, func(_ string, v float64) bool { return !math.IsInf(v, 0) })
		if len(m) == 0 {
			delete(out, id)
		}
	}
	return out, nil
}

// LatestMetrics returns, for each of the runs, the value of each metric
// at the last step it was logged: what a run not finished has measured so
// far (its summaries are written when it ends). Runs without metrics are
// absent.
func (s *Store) LatestMetrics(ctx context.Context, runIDs []int64) (map[int64]map[string]float64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT m.run_id, m.key, m.value FROM metrics m
		JOIN (SELECT run_id, key, MAX(step) AS step FROM metrics WHERE run_id IN (`+s.d.int64s()+`) GROUP BY run_id, key) l
		ON m.run_id = l.run_id AND m.key = l.key AND m.step = l.step`, idList(runIDs))
	if err != nil {
		return nil, fmt.Errorf("store: read latest metrics: %w", err)
	}
	out, err := scanRunValues(rows)
	if err != nil {
		return nil, fmt.Errorf("store: read latest metrics: %w", err)
	}
	return out, nil
}

// LastSteps returns, for each of the runs, the last step it logged any
// metric at. Runs without metrics are absent.
func (s *Store) LastSteps(ctx context.Context, runIDs []int64) (map[int64]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT run_id, MAX(step) FROM metrics WHERE run_id IN (`+s.d.int64s()+`) GROUP BY run_id`, idList(runIDs))
	if err != nil {
		return nil, fmt.Errorf("store: read last steps: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var step int
		if err := rows.Scan(&id, &step); err != nil {
			return nil, fmt.Errorf("store: read last steps: %w", err)
		}
		out[id] = step
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read last steps: %w", err)
	}
	return out, nil
}

// scanRunValues reads rows of (run_id, key, value) into values by run and
// key, and closes rows.
func scanRunValues(rows *sql.Rows) (map[int64]map[string]float64, error) {
	defer rows.Close()
	out := map[int64]map[string]float64{}
	for rows.Next() {
		var id int64
		var key string
		var v sql.NullFloat64
		if err := rows.Scan(&id, &key, &v); err != nil {
			return nil, err
		}
		m := out[id]
		if m == nil {
			m = map[string]float64{}
			out[id] = m
		}
		m[key] = floatOf(v)
	}
	return out, rows.Err()
}
