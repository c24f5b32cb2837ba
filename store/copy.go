package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"strings"
	"time"

	"github.com/attnlab/attnlab/metrics"
)

// CopyOptions select what Copy copies.
type CopyOptions struct {
	// Experiments names the experiments to copy (empty: all). An unknown
	// name is an error wrapping ErrNotFound.
	Experiments []string
	// Unfinished copies the source's queued and interrupted runs too. They
	// are left out by default (CopyUnfinished): in the target they are in
	// the queue, where its workers would take them and train them while the
	// source may be training them still — a second time.
	Unfinished bool
	// Progress, if not nil, is called after each run is looked at.
	Progress func(r Run, action CopyAction)

	chunk int // runs looked up at once (tests); zero: copyChunk
	page  int // metric rows read from the source per query (tests); zero: metricPage
	// spooled, if not nil, is called with the run's spool once its metric
	// rows and artifacts are in it, before dst's transaction (tests).
	spooled func(sp *spool)
	// blobGrown, if not nil, is called with the size of each allocation
	// of the buffer that artifacts are read back into (tests).
	blobGrown func(n int64)
	// freed, if not nil, is called instead of debug.FreeOSMemory after
	// each artifact of at least freeAfter bytes is read or written (tests).
	freed func(n int64)
}

// CopyAction is what Copy did with one run.
type CopyAction string

// The things Copy does with a run.
const (
	CopyNew        CopyAction = "copied"     // the target did not have it
	CopyUpdated    CopyAction = "updated"    // the target had it, less finished
	CopySame       CopyAction = "kept"       // the target has it as finished or more
	CopyDiffers    CopyAction = "differs"    // the target has it done too, with other summaries: kept
	CopyRunning    CopyAction = "running"    // running in the source: not copied
	CopyUnfinished CopyAction = "unfinished" // queued or interrupted in the source: not copied without CopyOptions.Unfinished
	CopyTargetOn   CopyAction = "busy"       // running in the target: left alone
	CopyGone       CopyAction = "gone"       // removed from the source while Copy ran: not copied
)

// CopyReport counts what Copy did.
type CopyReport struct {
	Experiments, NewExperiments int
	Runs                        map[CopyAction]int
}

// finishedness orders statuses by how far a run got: Copy replaces a
// target run only with a source run that got further.
var finishedness = map[Status]int{StatusQueued: 0, StatusInterrupted: 1, StatusFailed: 2, StatusDone: 3}

// Copy copies experiments and their runs — params, metric histories,
// summaries and artifacts — from this store into dst, idempotently by run
// identity: an experiment is its name, a run its experiment and hash (ids
// differ between databases). A run dst lacks is copied with its state
// (status, attempts, owner, times); a run dst has is replaced only if the
// source's got further (done beats failed beats interrupted beats queued)
// and dst is not running it; otherwise it is kept (CopySame, or
// CopyDiffers for a run done in both whose summaries differ: the same run
// trained twice, the target's results kept). Runs running in the
// source are not copied (copy them once they end), nor, unless
// opt.Unfinished, its queued and interrupted runs: in dst they would join
// the queue that dst's workers take runs from, and be trained there as
// well as in the source. Each run is copied in
// one transaction of dst, so an interrupted Copy leaves whole runs, and
// running it again finishes the job. Copy works between any two engines.
//
// Each run is read from the source in one read-only snapshot (PostgreSQL:
// a REPEATABLE READ READ ONLY transaction; SQLite: a deferred read
// transaction, which WAL mode gives a snapshot): its runs row read again,
// its params, summaries, metric rows and artifacts. So a run that is
// requeued, claimed, truncated, rewritten or removed while Copy reads it
// reaches dst as the source held it at one instant, never mixed or cut; a
// run that the snapshot shows removed (CopyGone), running (CopyRunning), or
// queued or interrupted without opt.Unfinished (CopyUnfinished) is not
// copied, and what is written (status, attempts) is the snapshot's. On
// PostgreSQL the read fails once attemptTimeout (2 min) passes without a
// page of metric rows or an artifact arriving (a stalled server), with an
// error that names the source and the allowance that ran out; an
// artifact's read is given 1 µs a byte more (copyByteTime: 1 MB/s), so a
// big checkpoint on a slow link is not a stall, and the time spent
// writing the temporary files below is not counted.
//
// A run's metric history, which can be millions of rows, and its
// artifacts (checkpoints of hundreds of megabytes) are not held in memory:
// the snapshot reads them into temporary files (in os.TempDir, $TMPDIR on
// Unix: about 21 bytes a metric row, and the artifacts' bytes; on Unix
// their names are removed at once, so a killed Copy leaves nothing, and a
// tmpfs /tmp holds them in RAM), and only once that read has succeeded is
// dst's transaction begun and fed from the files, one artifact at a time.
// Copy's memory is then bounded by a run's largest artifact, not by its
// history or the number of its artifacts or runs; but by several times
// that artifact's size: the source driver's copy of it, the one read back
// from the file (into one buffer for the whole Copy, grown to the largest
// artifact), the target driver's. The drivers' copies of an artifact of
// freeAfter bytes or more are collected and returned to the system after
// its read and after its write, instead of left to pile up: a copy of
// 64 MB checkpoints peaks at about 240 MB of RSS SQLite to SQLite (300 to
// 435 MB before), 300 to 370 MB from or to PostgreSQL. Params and
// summaries are held in memory (a run has few).
// The source is never read inside a transaction of dst: a failure to read
// it (a source server stopped or its backend killed) fails Copy at once
// with an error naming the source and leaves dst untouched by that run,
// instead of being retried as an outage of dst. A failure to read the
// files back rolls dst's transaction back and is not retried either.
func (s *Store) Copy(ctx context.Context, dst *Store, opt CopyOptions) (CopyReport, error) {
	rep := CopyReport{Runs: map[CopyAction]int{}}
	buf := &blobBuf{grown: opt.blobGrown} // one for all the runs
	exps, err := s.Experiments(ctx)
	if err != nil {
		return rep, s.redactErr(fmt.Errorf("store: copy: %w", &sourceError{what: "its experiments", name: s.name, err: err}))
	}
	if len(opt.Experiments) > 0 {
		byName := map[string]Experiment{}
		for _, x := range exps {
			byName[x.Name] = x
		}
		exps = exps[:0]
		named := map[string]bool{}
		for _, n := range opt.Experiments {
			x, ok := byName[n]
			if !ok {
				return rep, fmt.Errorf("store: copy: experiment %q is not in %s: %w", n, s.name, ErrNotFound)
			}
			if !named[n] { // named twice: copied (and counted) once
				named[n] = true
				exps = append(exps, x)
			}
		}
	}
	for _, x := range exps {
		rep.Experiments++
		expID, created, err := dst.copyExperiment(ctx, x)
		if err != nil {
			return rep, fmt.Errorf("store: copy experiment %q to %s: %w", x.Name, dst.name, err)
		}
		if created {
			rep.NewExperiments++
		}
		runs, err := s.Runs(ctx, RunFilter{Experiments: []string{x.Name}})
		if err != nil {
			return rep, s.redactErr(fmt.Errorf("store: copy runs of %s: %w", x.Name, &sourceError{what: "them", name: s.name, err: err}))
		}
		for len(runs) > 0 {
			size := copyChunk
			if opt.chunk > 0 {
				size = opt.chunk
			}
			chunk := runs[:min(len(runs), size)]
			runs = runs[len(chunk):]
			look, err := s.lookUp(ctx, dst, expID, chunk, opt.Unfinished)
			if src := (*sourceError)(nil); errors.As(err, &src) {
				return rep, s.redactErr(fmt.Errorf("store: copy runs of %s: %w", x.Name, err))
			}
			if err != nil {
				return rep, fmt.Errorf("store: copy runs of %s to %s: %w", x.Name, dst.name, err)
			}
			for _, r := range chunk {
				action, err := s.copyRun(ctx, dst, expID, r, opt, look, buf)
				var src *sourceError
				var local *localError
				if errors.As(err, &src) || errors.As(err, &local) {
					// Not dst's failure: dst is not named.
					return rep, s.redactErr(fmt.Errorf("store: copy run %s of %s: %w", r.Hash, x.Name, err))
				}
				if err != nil {
					return rep, fmt.Errorf("store: copy run %s of %s to %s: %w", r.Hash, x.Name, dst.name, err)
				}
				rep.Runs[action]++
				if opt.Progress != nil {
					opt.Progress(r, action)
				}
			}
		}
	}
	return rep, nil
}

// copyChunk is how many runs of an experiment Copy looks up in the target
// at once (lookUp): a repeated sync of a big store sends a few queries per
// chunk instead of three per run.
const copyChunk = 500

// copyLook is what Copy knows of a chunk of runs before it copies them:
// the target's runs of the same identity (by hash; absent: the target
// lacks it), and for the runs done in both, whether their results are the
// same (by the source run's id).
type copyLook struct {
	target map[string]Run
	same   map[int64]bool
}

// lookUp looks up in dst (experiment expID there) the runs of the chunk
// that Copy may copy, in one query, and compares the summaries of those
// done in both, in one query of each store.
func (s *Store) lookUp(ctx context.Context, dst *Store, expID int64, chunk []Run, unfinished bool) (copyLook, error) {
	look := copyLook{target: map[string]Run{}, same: map[int64]bool{}}
	var hashes []string
	for _, r := range chunk {
		if copyable(r, unfinished) {
			hashes = append(hashes, r.Hash)
		}
	}
	if len(hashes) == 0 {
		return look, nil
	}
	list, err := json.Marshal(hashes)
	if err != nil {
		return look, err
	}
	rows, err := dst.db.QueryContext(ctx, `SELECT `+runColumns+` WHERE r.experiment_id = ? AND r.hash IN (`+dst.d.texts()+`)`, expID, string(list))
	if err != nil {
		return look, err
	}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			rows.Close()
			return look, err
		}
		look.target[r.Hash] = r
	}
	if err := closeRows(rows); err != nil {
		return look, err
	}
	var srcIDs, dstIDs []int64
	for _, r := range chunk {
		if ex, ok := look.target[r.Hash]; ok && r.Status == StatusDone && ex.Status == StatusDone && copyable(r, unfinished) {
			srcIDs, dstIDs = append(srcIDs, r.ID), append(dstIDs, ex.ID)
		}
	}
	if len(srcIDs) == 0 {
		return look, nil
	}
	a, err := s.Summaries(ctx, srcIDs)
	if err != nil {
		return look, &sourceError{what: "their summaries", name: s.name, err: err}
	}
	b, err := dst.Summaries(ctx, dstIDs)
	if err != nil {
		return look, err
	}
	for i, id := range srcIDs {
		look.same[id] = sameResults(a[id], b[dstIDs[i]])
	}
	return look, nil
}

// copyable reports whether Copy copies r, by its status in the source: not
// while it runs there, and queued or interrupted only when unfinished.
func copyable(r Run, unfinished bool) bool {
	return r.Status != StatusRunning && (unfinished || r.Status != StatusQueued && r.Status != StatusInterrupted)
}

// copyExperiment makes sure dst has the experiment and returns its id there.
// Copies into one database may run at once (two syncs into a new database):
// the insert does nothing when another transaction has inserted the name
// meanwhile (on PostgreSQL it waits for that one to commit), and the
// experiment is then read back, as Submit does — never a unique-constraint
// error.
func (s *Store) copyExperiment(ctx context.Context, x Experiment) (id int64, created bool, err error) {
	err = s.write(ctx, func(tx *Tx) error {
		created = false
		err := tx.QueryRowContext(ctx, `SELECT id FROM experiments WHERE name = ?`, x.Name).Scan(&id)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO experiments (name, description, yaml, dir, created, updated)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id`,
			x.Name, x.Description, x.YAML, x.Dir, s.d.timeArg(x.Created), s.d.timeArg(x.Updated)).Scan(&id)
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// Another copy inserted it since the SELECT and has committed (READ
		// COMMITTED: this statement sees its row).
		return tx.QueryRowContext(ctx, `SELECT id FROM experiments WHERE name = ?`, x.Name).Scan(&id)
	})
	return id, created, err
}

// runRows is a run as one snapshot of the source saw it.
type runRows struct {
	run       Run // its runs row
	params    []paramRow
	metrics   *spool // the metric rows and artifacts' bytes, in temporary files
	summaries []summaryRow
	artifacts []artifactRow
}

// sourceError is a failure to read the source of a copy, which Copy
// reports naming the source, never the target.
type sourceError struct {
	what string // what was read: "it" (a run), "its runs"
	name string // the source's (redacted)
	err  error
}

func (e *sourceError) Error() string {
	return fmt.Sprintf("read %s from %s: %v", e.what, e.name, e.err)
}
func (e *sourceError) Unwrap() error { return e.err }

type paramRow struct {
	key, kind string
	num       sql.NullFloat64
	text      sql.NullString
}

type metricRowRaw struct {
	key   string
	step  int64
	value sql.NullFloat64
	wall  float64
}

type summaryRow struct {
	key   string
	value sql.NullFloat64
}

// artifactRow is an artifact whose bytes are in the spool's artifact file,
// at off.
type artifactRow struct {
	kind, name string
	size       int64
	off, n     int64 // where its data is in the spool's artifact file
	created    dbTime
}

// stallClock ends a snapshot read of the source on PostgreSQL (readRows)
// once it goes an allowance without progress, calling cancel with a
// *stallError that names the allowance that ran out — not one given after
// it ran out, by progress that came too late. The time spent writing the
// spool's local files (local) is not counted: a slow $TMPDIR is not a
// stalled source. A nil *stallClock (SQLite) does nothing. Its methods
// are for the reading goroutine alone; the timer's function only calls
// cancel, which is safe for concurrent use.
type stallClock struct {
	cancel  context.CancelCauseFunc
	after   time.Duration // the allowance of the wait running
	timer   *time.Timer
	stopped bool
}

// stallError is the cause of the end of a snapshot read of the source that
// went after without progress.
type stallError struct{ after time.Duration }

func (e *stallError) Error() string {
	return fmt.Sprintf("the source made no progress for %s", e.after)
}

// newStallClock returns a clock whose first wait, of attemptTimeout, has
// begun.
func newStallClock(cancel context.CancelCauseFunc) *stallClock {
	c := &stallClock{cancel: cancel}
	c.alive(0)
	return c
}

// alive records progress: a wait of attemptTimeout begins, and of
// byteTime(n) more for the n bytes of an artifact about to be read.
func (c *stallClock) alive(n int64) {
	if c == nil {
		return
	}
	c.after = attemptTimeout + byteTime(n)
	c.start()
}

// start begins the wait of c.after anew.
func (c *stallClock) start() {
	if c.stopped {
		return
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	after := c.after // the timer's own: a later alive does not change what it names
	c.timer = time.AfterFunc(after, func() { c.cancel(&stallError{after}) })
}

// local runs write, a write of a local file, with the clock stopped; the
// wait running then begins anew, whole. A wait that ran out before stays
// run out: its cancel is done.
func (c *stallClock) local(write func() error) error {
	if c.timer != nil {
		c.timer.Stop()
	}
	err := write()
	c.start()
	return err
}

// stop ends the clock for good.
func (c *stallClock) stop() {
	if c == nil {
		return
	}
	c.stopped = true
	if c.timer != nil {
		c.timer.Stop()
	}
}

// readRows reads run r from s in one snapshot of s (see snapshot): its
// runs row read anew, its params, summaries, and its metric rows (page
// rows a query) and artifacts' bytes into sp. skip is not empty when the
// snapshot shows that Copy must not copy the run after all (removed from
// the source, or now running, or now queued or interrupted and not
// unfinished). On PostgreSQL the read ends once attemptTimeout passes
// without a page or an artifact arriving (a stalled server), an artifact
// being given byteTime of its size more: its size is read first. The time
// spent writing sp's files is not counted (stallClock), and the error says
// the allowance that ran out. Its errors are s's, a *sourceError, but for
// the spool file's (a *localError).
func (s *Store) readRows(ctx context.Context, r Run, sp *spool, page int, unfinished bool) (out runRows, skip CopyAction, err error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var clock *stallClock // nil on SQLite: its alive does nothing
	if s.d.engine() == Postgres {
		clock = newStallClock(cancel)
		defer clock.stop()
		sp.local = clock.local
		defer func() { sp.local = nil }()
	}
	sn, err := s.db.beginSnapshot(sctx)
	if err == nil {
		out, skip, err = s.readSnapshot(sn, func() { cancel(nil) }, r, sp, page, unfinished, clock.alive)
	}
	var local *localError
	if err != nil && !errors.As(err, &local) {
		if stall := (*stallError)(nil); errors.As(context.Cause(sctx), &stall) && ctx.Err() == nil {
			err = &noAnswerError{stall.after, err}
		}
		err = &sourceError{what: "it", name: s.name, err: err}
		if ctx.Err() != nil { // Ctrl-C: the caller's end, not the source's
			err = errors.Join(err, ctx.Err())
		}
	}
	return out, skip, err
}

// readSnapshot is readRunRows, ending sn however it returns: a panic
// during the read leaves no pooled connection inside a read transaction.
// After a panic, cancel ends sn's context first, which closes a result set
// the panic left open (on SQLite, closing the snapshot's connection waits
// for it). Only then: a read that returned has closed its result sets, and
// on PostgreSQL a rollback under an ended context may fail, and sn.end
// then discards the connection: a new connection to the source per run.
func (s *Store) readSnapshot(sn *snapshot, cancel func(), r Run, sp *spool, page int, unfinished bool, alive func(int64)) (out runRows, skip CopyAction, err error) {
	returned := false
	defer func() {
		if !returned {
			cancel()
		}
		sn.end()
	}()
	out, skip, err = s.readRunRows(sn, r, sp, page, unfinished, alive)
	returned = true
	return out, skip, err
}

func (s *Store) readRunRows(sn *snapshot, listed Run, sp *spool, page int, unfinished bool, alive func(n int64)) (runRows, CopyAction, error) {
	ctx := sn.ctx
	out := runRows{metrics: sp}
	r, err := scanRun(sn.QueryRowContext(ctx, `SELECT `+runColumns+` WHERE r.id = ?`, listed.ID))
	if errors.Is(err, sql.ErrNoRows) || err == nil && (r.Hash != listed.Hash || r.ExperimentID != listed.ExperimentID) {
		return out, CopyGone, nil // removed (its id perhaps given to another run)
	}
	if err != nil {
		return out, "", err
	}
	if r.Status == StatusRunning {
		return out, CopyRunning, nil
	}
	if !copyable(r, unfinished) {
		return out, CopyUnfinished, nil
	}
	out.run = r
	rows, err := sn.QueryContext(ctx, `SELECT key, type, value, text_value FROM params WHERE run_id = ? ORDER BY key`, r.ID)
	if err != nil {
		return out, "", err
	}
	for rows.Next() {
		var p paramRow
		if err := rows.Scan(&p.key, &p.kind, &p.num, &p.text); err != nil {
			rows.Close()
			return out, "", err
		}
		out.params = append(out.params, p)
	}
	if err := closeRows(rows); err != nil {
		return out, "", err
	}
	if err := spoolMetrics(sn, r.ID, sp, page, alive); err != nil {
		return out, "", err
	}
	rows, err = sn.QueryContext(ctx, `SELECT key, value FROM summaries WHERE run_id = ? ORDER BY key`, r.ID)
	if err != nil {
		return out, "", err
	}
	for rows.Next() {
		var m summaryRow
		if err := rows.Scan(&m.key, &m.value); err != nil {
			rows.Close()
			return out, "", err
		}
		out.summaries = append(out.summaries, m)
	}
	if err := closeRows(rows); err != nil {
		return out, "", err
	}
	// The artifacts' sizes first, so that each artifact's read is given
	// time for its bytes (alive): a checkpoint of gigabytes takes minutes
	// on a slow link however steadily it arrives. Its bytes are then read
	// one artifact a query (the snapshot holds the list still).
	alive(0)
	rows, err = sn.QueryContext(ctx, `SELECT kind, name, size, length(data), created FROM artifacts WHERE run_id = ? ORDER BY kind, name`, r.ID)
	if err != nil {
		return out, "", err
	}
	for rows.Next() {
		var a artifactRow
		if err := rows.Scan(&a.kind, &a.name, &a.size, &a.n, &a.created); err != nil {
			rows.Close()
			return out, "", err
		}
		out.artifacts = append(out.artifacts, a)
	}
	if err := closeRows(rows); err != nil {
		return out, "", err
	}
	for i := range out.artifacts {
		a := &out.artifacts[i]
		alive(a.n)
		if err := spoolArtifact(sn, r.ID, a, sp); err != nil {
			return out, "", err
		}
	}
	return out, "", nil
}

// spoolArtifact reads the bytes of run id's artifact a from sn into sp,
// setting a.off and a.n.
func spoolArtifact(sn *snapshot, id int64, a *artifactRow, sp *spool) error {
	rows, err := sn.QueryContext(sn.ctx, `SELECT data FROM artifacts WHERE run_id = ? AND kind = ? AND name = ?`, id, a.kind, a.name)
	if err != nil {
		return err
	}
	if !rows.Next() {
		if err := closeRows(rows); err != nil {
			return err
		}
		return fmt.Errorf("artifact %s/%s: %w", a.kind, a.name, sql.ErrNoRows) // not in a snapshot
	}
	var data sql.RawBytes // the driver's buffer, not a copy: one artifact's bytes in memory at a time
	if err := rows.Scan(&data); err != nil {
		rows.Close()
		return err
	}
	if a.off, err = sp.addBlob(data); err != nil {
		rows.Close()
		return &localError{fmt.Errorf("spool artifact %s/%s: %w", a.kind, a.name, err)}
	}
	a.n = int64(len(data))
	if err := closeRows(rows); err != nil {
		return err
	}
	sp.drop(a.n) // the driver's copy of the bytes
	return nil
}

// spoolMetrics reads run id's metric rows from sn into sp in (key, step)
// order, page rows a query (each query after the first starts after the
// last row read, by the primary key's index, so a page costs the same
// wherever it is in the history), calling alive before each.
func spoolMetrics(sn *snapshot, id int64, sp *spool, page int, alive func(int64)) error {
	ctx := sn.ctx
	var last metricRowRaw
	for first := true; ; first = false {
		alive(0)
		q, args := `SELECT key, step, value, wall FROM metrics WHERE run_id = ? ORDER BY key, step LIMIT ?`, []any{id, page}
		if !first {
			q = `SELECT key, step, value, wall FROM metrics WHERE run_id = ? AND (key, step) > (?, ?) ORDER BY key, step LIMIT ?`
			args = []any{id, last.key, last.step, page}
		}
		rows, err := sn.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("read metrics: %w", err)
		}
		n := 0
		for rows.Next() {
			var m metricRowRaw
			if err := rows.Scan(&m.key, &m.step, &m.value, &m.wall); err != nil {
				rows.Close()
				return fmt.Errorf("read metrics: %w", err)
			}
			if err := sp.add(m); err != nil {
				rows.Close()
				return &localError{fmt.Errorf("spool metric rows: %w", err)}
			}
			last = m
			n++
		}
		if err := closeRows(rows); err != nil {
			return fmt.Errorf("read metrics: %w", err)
		}
		if n < page {
			if err := sp.done(); err != nil {
				return &localError{fmt.Errorf("spool metric rows: %w", err)}
			}
			return nil
		}
	}
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// sameResults reports whether two runs' summaries are the same results:
// bit for bit (NaN equal to NaN), but for costs (perf/*: times and
// throughputs, never equal between two trainings).
func sameResults(a, b map[string]float64) bool {
	results := func(m map[string]float64) map[string]float64 {
		maps.DeleteFunc(m, func(k string, _ float64) bool {
			return strings.HasPrefix(k, "perf/") || metrics.Describe(k).Kind == metrics.Cost
		})
		return m
	}
	return maps.EqualFunc(results(a), results(b), func(x, y float64) bool { return x == y || x != x && y != y })
}

// copyRun copies one run into dst (experiment expID there), given what
// lookUp found of its chunk, reading its artifacts back from the spool
// into buf.
func (s *Store) copyRun(ctx context.Context, dst *Store, expID int64, r Run, opt CopyOptions, look copyLook, buf *blobBuf) (CopyAction, error) {
	if r.Status == StatusRunning {
		return CopyRunning, nil
	}
	if !opt.Unfinished && (r.Status == StatusQueued || r.Status == StatusInterrupted) {
		return CopyUnfinished, nil
	}
	// The cheap look first (lookUp's), so that a repeated sync reads no
	// rows; the transaction below looks again.
	existing, found := look.target[r.Hash]
	switch {
	case !found:
	case existing.Status == StatusRunning:
		return CopyTargetOn, nil
	case existing.Status == StatusDone && r.Status == StatusDone:
		// The same run trained twice (another CPU's kernels, another
		// build): the target's results are kept, but said to differ.
		if look.same[r.ID] {
			return CopySame, nil
		}
		return CopyDiffers, nil
	case finishedness[existing.Status] >= finishedness[r.Status]:
		return CopySame, nil
	}
	sp, err := newSpool()
	if err != nil {
		return "", &localError{fmt.Errorf("spool metric rows: %w", err)}
	}
	defer sp.close()
	sp.dropped = func(n int64) {
		switch {
		case n < freeAfter:
		case opt.freed != nil:
			opt.freed(n)
		default:
			debug.FreeOSMemory()
		}
	}
	page := metricPage
	if opt.page > 0 {
		page = opt.page
	}
	// All of the source is read, in one snapshot, before dst's transaction
	// begins (see Copy); what is written is the run as that snapshot saw it.
	rows, skip, err := s.readRows(ctx, r, sp, page, opt.Unfinished)
	if err != nil || skip != "" {
		return skip, err
	}
	r = rows.run
	if opt.spooled != nil {
		opt.spooled(sp)
	}
	var size int64 // the artifacts' bytes, all sent in each try
	for _, a := range rows.artifacts {
		size += a.n
	}
	var action CopyAction
	err = dst.writeFor(ctx, copyTimeout(sp.n, size), func(tx *Tx) error {
		d := dst.d
		ex, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runColumns+` WHERE r.experiment_id = ? AND r.hash = ?`, expID, r.Hash))
		var id int64
		switch {
		case errors.Is(err, sql.ErrNoRows):
			action = CopyNew
			err = tx.QueryRowContext(ctx, `INSERT INTO runs (experiment_id, hash, seed, config, point, status, attempt, error,
				host, pid, heartbeat, started, finished, attnlab_version, go_version, created, max_attempts, lost, keep_checkpoints)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (experiment_id, hash) DO NOTHING RETURNING id`,
				expID, r.Hash, r.Seed, r.Config, r.Point, string(r.Status), r.Attempt, r.Error,
				r.Host, r.PID, nullTime(d, r.Heartbeat), nullTime(d, r.Started), nullTime(d, r.Finished),
				r.Version, r.GoVersion, d.timeArg(r.Created), r.MaxAttempts, r.Lost, r.KeepCheckpoints).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) { // another process inserted it meanwhile
				action = CopySame
				return nil
			}
			if err != nil {
				return err
			}
		case err != nil:
			return err
		case ex.Status == StatusRunning:
			action = CopyTargetOn
			return nil
		case finishedness[ex.Status] >= finishedness[r.Status]:
			action = CopySame
			return nil
		default:
			action, id = CopyUpdated, ex.ID
			// Guarded by the status read above: a run a worker claimed
			// meanwhile is left alone.
			res, err := tx.ExecContext(ctx, `UPDATE runs SET seed = ?, config = ?, point = ?, status = ?, attempt = ?, error = ?,
				host = ?, pid = ?, heartbeat = ?, started = ?, finished = ?, attnlab_version = ?, go_version = ?,
				max_attempts = ?, lost = ?, keep_checkpoints = ? WHERE id = ? AND status = ?`,
				r.Seed, r.Config, r.Point, string(r.Status), r.Attempt, r.Error,
				r.Host, r.PID, nullTime(d, r.Heartbeat), nullTime(d, r.Started), nullTime(d, r.Finished),
				r.Version, r.GoVersion, r.MaxAttempts, r.Lost, r.KeepCheckpoints, id, string(ex.Status))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				action = CopyTargetOn
				return err
			}
			for _, table := range []string{"params", "metrics", "summaries", "artifacts"} {
				// The table names are this package's constants.
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE run_id = ?`, id); err != nil {
					return err
				}
			}
		}
		return dst.insertRows(ctx, tx, id, rows, buf)
	})
	return action, err
}

// copyTimeout is how long one try of a copy's transaction of n metric
// rows and artifacts of size bytes in all may take on PostgreSQL before it
// counts as unanswered (retry): attemptTimeout, 2 minutes, copyRowTime a
// row more, and copyByteTime a byte (every try sends all of the run's
// artifacts). Most of a COPY's time is the server's (a foreign key check
// and an index entry a row): 3 million rows by COPY on loopback took 56 s
// (19 µs a row) on a busy machine of 2 cores, half of attemptTimeout, so a
// longer run, or a slower server or link, would time out at every try and
// be given up as an outage. A run of 3 million rows gets 7 minutes; one
// with 2 GB of checkpoints 35 minutes more.
func copyTimeout(n, size int64) time.Duration {
	return attemptTimeout + time.Duration(n)*copyRowTime + byteTime(size)
}

// copyRowTime is the time copyTimeout gives a metric row (a variable for
// tests): five times what a row took on the busy machine.
var copyRowTime = 100 * time.Microsecond

// copyByteTime is the time a copy gives an artifact's byte beyond
// attemptTimeout on either side (a variable for tests): 1 µs, a link of
// 1 MB/s (8 Mbit/s). The source's read of an artifact may take that long
// before it counts as stalled (readRows), and a try of the target's
// transaction that long for all the run's artifacts (copyTimeout).
var copyByteTime = time.Microsecond

// byteTime is the time copyByteTime gives n bytes.
func byteTime(n int64) time.Duration { return time.Duration(n) * copyByteTime }

// insertRows writes a run's rows into dst inside tx, its metric rows and
// artifacts from their spool files (the artifacts one at a time, through
// buf). A failure to read the file (a *localError) ends it at
// once, before anything else is written, and is returned as is.
func (s *Store) insertRows(ctx context.Context, tx *Tx, id int64, rows runRows, buf *blobBuf) error {
	for _, p := range rows.params {
		var num any
		if p.num.Valid {
			num = numberArg(p.num.Float64)
		}
		var text any
		if p.text.Valid {
			text = p.text.String
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO params (run_id, key, type, value, text_value) VALUES (?, ?, ?, ?, ?)`,
			id, p.key, p.kind, num, text); err != nil {
			return fmt.Errorf("param %s: %w", p.key, err)
		}
	}
	if err := s.insertMetrics(ctx, tx, id, rows.metrics); err != nil {
		return err
	}
	for _, m := range rows.summaries {
		var v any
		if m.value.Valid {
			v = m.value.Float64
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO summaries (run_id, key, value) VALUES (?, ?, ?)`, id, m.key, v); err != nil {
			return fmt.Errorf("summary %s: %w", m.key, err)
		}
	}
	// One artifact's bytes in memory at a time, read back from the spool.
	for _, a := range rows.artifacts {
		data, err := rows.metrics.blob(a.off, a.n, buf)
		if err != nil {
			return &localError{fmt.Errorf("read spooled artifact %s/%s: %w", a.kind, a.name, err)}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO artifacts (run_id, kind, name, size, data, created) VALUES (?, ?, ?, ?, ?, ?)`,
			id, a.kind, a.name, a.size, data, s.d.timeArg(a.created.Time)); err != nil {
			return fmt.Errorf("artifact %s/%s: %w", a.kind, a.name, err)
		}
		rows.metrics.drop(a.n) // the drivers' copies of the bytes
	}
	return nil
}

// freeAfter is the size of an artifact after whose read from the source,
// and again after whose write into the target, Copy collects the garbage
// and returns it to the system (debug.FreeOSMemory): the drivers' copies
// of its bytes (the SQLite driver's of each value it reads, the
// PostgreSQL driver's of each message). Left to the collector, two to four
// artifacts' worth of garbage piled up: a SQLite-to-SQLite sync of 64 MB
// checkpoints peaked at 300 to 435 MB of RSS, 240 MB with this. A
// collection costs little next to the bytes' reading and writing: what
// Copy holds live is small but for the artifact.
const freeAfter = 16 << 20

// insertMetrics writes the spooled metric rows into dst inside tx: by the
// engine's bulk path, or INSERTs of rowsPerInsert rows.
func (s *Store) insertMetrics(ctx context.Context, tx *Tx, id int64, sp *spool) error {
	next := sp.rows()
	bulk, err := s.d.bulkMetrics(ctx, tx, id, sp.n, next)
	var local *localError
	if errors.As(err, &local) {
		return err
	}
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if bulk {
		return nil
	}
	args := make([]any, 0, 5*rowsPerInsert)
	for {
		n := 0
		args = args[:0]
		for n < rowsPerInsert {
			m, ok, err := next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			var v any
			if m.value.Valid {
				v = m.value.Float64
			}
			args = append(args, id, m.key, m.step, v, m.wall)
			n++
		}
		if n == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, metricInsert(n), args...); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		if n < rowsPerInsert {
			return nil
		}
	}
}

// nullTime binds a time, the zero time as NULL.
func nullTime(d dialect, t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.timeArg(t)
}
