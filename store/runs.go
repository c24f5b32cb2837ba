package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Status is a run's state.
//
//	queued ──Claim──► running ──Finish──► done | failed | interrupted
//	                     ▲                          │
//	                     └────────Claim─────────────┘ (interrupted only; or a stale running run)
type Status string

// The run statuses.
const (
	StatusQueued      Status = "queued"
	StatusRunning     Status = "running"
	StatusDone        Status = "done"
	StatusFailed      Status = "failed"
	StatusInterrupted Status = "interrupted"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{StatusQueued, StatusRunning, StatusDone, StatusFailed, StatusInterrupted}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	for _, t := range Statuses {
		if s == t {
			return true
		}
	}
	return false
}

func statusList() string {
	names := make([]string, len(Statuses))
	for i, s := range Statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Run is one row of the runs table.
type Run struct {
	ID           int64
	ExperimentID int64
	Experiment   string // the experiment's name
	Hash         string // identity of the resolved config (with its seed), from the experiments package
	Seed         int64
	Config       string // the resolved canonical config, JSON
	Point        string // the sweep point, JSON: its variant's name and the other swept keys' values
	Status       Status
	Attempt      int    // how many times the run was claimed (claims given back untrained, Ending.Untrained, not counted)
	Error        string // why it failed, for failed and interrupted runs
	Host         string // owner of the last claim
	PID          int
	Heartbeat    time.Time // zero if never claimed
	Started      time.Time // when the last claim started it
	Finished     time.Time // zero unless done, failed or interrupted
	Version      string    // attnlab version of the last owner
	GoVersion    string
	Created      time.Time
	// Dir is the experiment file's directory, against which a task
	// resolves relative paths (the experiment's, shared by its runs).
	Dir string
	// MaxAttempts is how many attempts may be lost (their worker died or
	// stopped heartbeating) before the run is failed; Lost counts them.
	MaxAttempts int
	Lost        int
	// KeepCheckpoints keeps the run's intermediate checkpoints when it is
	// done (train.keep_checkpoints); by default they are dropped.
	KeepCheckpoints bool
}

// GaveUp reports whether the run was failed, untrained, by a claim that
// found its lost attempts at MaxAttempts (ClaimResult.GaveUp) — not by a
// worker that ended it: Host and PID are then still its last owner's, whose
// attempt that claim took as lost. It tells them apart by who wrote the
// end: a worker's end (FinishRun, Finish) writes the run's Heartbeat and
// Finished with one value, while a claim that gives up writes Finished
// alone, by its own clock, and leaves the Heartbeat its dead owner's last
// one; so a failed run with a lost attempt whose Finished is not its
// Heartbeat was given up on. Lost against MaxAttempts would not do: a
// Submit changes the MaxAttempts of runs that are not done, so a run its
// worker failed after an attempt was lost, whose MaxAttempts a rerun
// lowered to that count meanwhile, would read as given up; and one given
// up on, whose MaxAttempts a rerun raised, would not. (Every build that
// counts lost attempts writes a worker's end so; runs stored before have
// none lost.)
func (r Run) GaveUp() bool {
	return r.Status == StatusFailed && r.Lost > 0 && !r.Heartbeat.Equal(r.Finished)
}

// EndedLabel names a run's Finished time, when its last attempt ended:
// "finished" for a done run, "ended" for any other (failed, interrupted).
// The CLI's show and the dashboard's run page both label it so.
func (r Run) EndedLabel() string {
	if r.Status == StatusDone {
		return "finished"
	}
	return "ended"
}

// TookLabel introduces the time from Started to Finished: "took", or for
// a run claimed more than once "its last attempt took", as Started is when
// the last claim began. The CLI's show and the dashboard's run page both
// say it so.
func (r Run) TookLabel() string {
	if r.Attempt > 1 {
		return "its last attempt took"
	}
	return "took"
}

// RunSpec describes a run for EnsureRuns. Config and Point are JSON texts;
// an empty Point is stored as {}. If Params is nil, the params are the
// leaves of Config (FlattenConfig).
type RunSpec struct {
	Hash   string
	Seed   int64
	Config string
	Point  string
	Params []Param
	// MaxAttempts (default DefaultMaxAttempts) and KeepCheckpoints are
	// queue settings, not part of the run's identity: EnsureRuns updates
	// them on runs that exist and are not done.
	MaxAttempts     int
	KeepCheckpoints bool
}

// DefaultMaxAttempts is how many attempts of a run may be lost to dead
// workers before the run is failed, when a RunSpec does not say.
const DefaultMaxAttempts = 3

// Owner identifies the process that runs a run.
type Owner struct {
	Host      string
	PID       int
	Version   string // attnlab version
	GoVersion string
}

// CurrentOwner returns this process as an Owner: the host name, the process
// id and runtime.Version(). In a pid namespace other than the system's
// (a container), the host is "NAME/pidns:INODE": the pid rule of a claim
// (a run whose owner's pid is gone on this host is taken at once) applies
// only between processes that see the same pids.
func CurrentOwner(version string) Owner {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	if ns := pidNamespace(); ns != "" {
		host += "/" + ns
	}
	return Owner{Host: host, PID: os.Getpid(), Version: version, GoVersion: runtime.Version()}
}

// String returns "host:pid".
func (o Owner) String() string { return o.Host + ":" + strconv.Itoa(o.PID) }

const runColumns = `r.id, r.experiment_id, e.name, r.hash, r.seed, r.config, r.point, r.status,
	r.attempt, r.error, r.host, r.pid, r.heartbeat, r.started, r.finished,
	r.attnlab_version, r.go_version, r.created, e.dir, r.max_attempts, r.lost, r.keep_checkpoints
	FROM runs r JOIN experiments e ON e.id = r.experiment_id`

type scanner interface{ Scan(dest ...any) error }

func scanRun(sc scanner) (Run, error) {
	var r Run
	var heartbeat, started, finished, created dbTime
	err := sc.Scan(&r.ID, &r.ExperimentID, &r.Experiment, &r.Hash, &r.Seed, &r.Config, &r.Point, &r.Status,
		&r.Attempt, &r.Error, &r.Host, &r.PID, &heartbeat, &started, &finished,
		&r.Version, &r.GoVersion, &created, &r.Dir, &r.MaxAttempts, &r.Lost, &r.KeepCheckpoints)
	if err != nil {
		return Run{}, err
	}
	r.Heartbeat, r.Started, r.Finished, r.Created = heartbeat.Time, started.Time, finished.Time, created.Time
	return r, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func runByID(ctx context.Context, q querier, id int64) (Run, error) {
	r, err := scanRun(q.QueryRowContext(ctx, `SELECT `+runColumns+` WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	return r, err
}

type preparedSpec struct {
	RunSpec
	params []struct {
		key string
		val Value
	}
}

// prepareSpecs checks specs and works out their params.
func prepareSpecs(specs []RunSpec) ([]preparedSpec, error) {
	prepared := make([]preparedSpec, len(specs))
	for i, spec := range specs {
		p := preparedSpec{RunSpec: spec}
		if spec.Hash == "" {
			return nil, fmt.Errorf("spec %d has an empty hash", i)
		}
		if !json.Valid([]byte(spec.Config)) {
			return nil, fmt.Errorf("run %s: config is not valid JSON", spec.Hash)
		}
		if p.Point == "" {
			p.Point = "{}"
		}
		if !json.Valid([]byte(p.Point)) {
			return nil, fmt.Errorf("run %s: point is not valid JSON", spec.Hash)
		}
		if p.MaxAttempts <= 0 {
			p.MaxAttempts = DefaultMaxAttempts
		}
		params := spec.Params
		if params == nil {
			var err error
			if params, err = flatten(spec.Config); err != nil {
				return nil, fmt.Errorf("run %s: %w", spec.Hash, err)
			}
		}
		for _, prm := range params {
			v, err := valueOf(prm.Value)
			if err != nil {
				return nil, fmt.Errorf("run %s: param %s: %w", spec.Hash, prm.Key, err)
			}
			p.params = append(p.params, struct {
				key string
				val Value
			}{prm.Key, v})
		}
		prepared[i] = p
	}
	return prepared, nil
}

// EnsureRuns inserts, in one transaction, the runs of specs that the
// experiment does not have yet (by hash) as queued, with their params, and
// returns every run of specs in the same order with its current state.
// Existing runs are left as they are, whatever their status, except for
// their queue settings (MaxAttempts, KeepCheckpoints) while they are not
// done.
func (s *Store) EnsureRuns(ctx context.Context, expID int64, specs []RunSpec) ([]Run, error) {
	prepared, err := prepareSpecs(specs)
	if err != nil {
		return nil, fmt.Errorf("store: ensure runs: %w", err)
	}
	var out []Run
	err = s.write(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM experiments WHERE id = ?`, expID).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("experiment id %d: %w", expID, ErrNotFound)
			}
			return err
		}
		var err error
		out, err = s.ensureRuns(ctx, tx, expID, prepared)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: ensure runs: %w", err)
	}
	return out, nil
}

// ensureRuns is EnsureRuns inside tx.
func (s *Store) ensureRuns(ctx context.Context, tx *Tx, expID int64, prepared []preparedSpec) ([]Run, error) {
	now, err := s.clock(ctx, tx)
	if err != nil {
		return nil, err
	}
	insRun, err := tx.PrepareContext(ctx, `
		INSERT INTO runs (experiment_id, hash, seed, config, point, created, max_attempts, keep_checkpoints)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (experiment_id, hash) DO NOTHING
		RETURNING id`)
	if err != nil {
		return nil, err
	}
	defer insRun.Close()
	insParam, err := tx.PrepareContext(ctx, `
		INSERT INTO params (run_id, key, type, value, text_value) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (run_id, key) DO UPDATE SET type = excluded.type, value = excluded.value, text_value = excluded.text_value`)
	if err != nil {
		return nil, err
	}
	defer insParam.Close()
	settings, err := tx.PrepareContext(ctx, `UPDATE runs SET max_attempts = ?, keep_checkpoints = ?
		WHERE experiment_id = ? AND hash = ? AND status != 'done' AND (max_attempts != ? OR keep_checkpoints != ?)`)
	if err != nil {
		return nil, err
	}
	defer settings.Close()
	get, err := tx.PrepareContext(ctx, `SELECT `+runColumns+` WHERE r.experiment_id = ? AND r.hash = ?`)
	if err != nil {
		return nil, err
	}
	defer get.Close()
	out := make([]Run, 0, len(prepared))
	for _, p := range prepared {
		var id int64
		err := insRun.QueryRowContext(ctx, expID, p.Hash, p.Seed, p.Config, p.Point, s.d.timeArg(now),
			p.MaxAttempts, p.KeepCheckpoints).Scan(&id)
		switch {
		case err == nil:
			for _, prm := range p.params {
				num, text := prm.val.sqlArgs()
				if _, err := insParam.ExecContext(ctx, id, prm.key, string(prm.val.kind()), num, text); err != nil {
					return nil, fmt.Errorf("run %s: param %s: %w", p.Hash, prm.key, err)
				}
			}
		case errors.Is(err, sql.ErrNoRows): // already there
			if _, err := settings.ExecContext(ctx, p.MaxAttempts, p.KeepCheckpoints, expID, p.Hash,
				p.MaxAttempts, p.KeepCheckpoints); err != nil {
				return nil, fmt.Errorf("run %s: %w", p.Hash, err)
			}
		default:
			return nil, fmt.Errorf("run %s: %w", p.Hash, err)
		}
		r, err := scanRun(get.QueryRowContext(ctx, expID, p.Hash))
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", p.Hash, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// ClaimResult is what Claim returns.
type ClaimResult struct {
	Run     Run    // the run after the call
	Claimed bool   // the caller now owns the run
	Prev    Status // the status before the call: queued means start fresh, anything else means resume from a checkpoint if there is one
	Reason  string // why the run was not claimed, one line, when !Claimed
	// Lost says, when the claim took over a stale running run (Prev is
	// running), how its previous attempt was lost ("its worker h:12 is
	// gone"); empty otherwise. LostFrom is that attempt's owner (Host and
	// PID, as the run recorded them).
	Lost     string
	LostFrom Owner
	// GaveUp holds the stale runs that the claim failed because their lost
	// attempts reached max_attempts (each as recorded, its Error saying
	// so): ClaimNext fails them on its way to the run it takes; Claim
	// reports the run it was asked for, then not claimed. Requeue (attnlab
	// run --retry-failed) queues them again.
	GaveUp []Run
}

// Claim atomically (one transaction that locks the run) takes the run for
// owner, which must have a host and a pid (see CurrentOwner). It claims a
// run that is queued or interrupted, or running but stale: its owner is on
// owner.Host and that pid no longer exists, or (if staleAfter > 0) its
// heartbeat is older than staleAfter by the database's clock. Claiming
// sets the status to running, increments attempt, records the owner and
// versions, sets the heartbeat and started time to now and clears finished
// and error.
//
// Taking a stale run over counts a lost attempt; the result says how it
// was lost and whose it was (Lost, LostFrom). A stale run whose lost
// attempts reach its MaxAttempts is failed instead, with an error that
// says so, and not claimed (GaveUp holds it).
//
// Done and failed runs are not claimed (see Requeue), nor a run running
// under a live owner — including this very process: a pid on another host
// cannot be checked, so such a run is only reclaimed by the heartbeat rule.
// A missing run is an error wrapping ErrNotFound.
//
// Heartbeats are written and judged by the database's clock (PostgreSQL's
// now(); on SQLite, which has no server, this machine's clock), so clocks
// of the workers do not matter; staleAfter must be well above the owners'
// heartbeat interval. staleAfter <= 0 turns the heartbeat rule off.
func (s *Store) Claim(ctx context.Context, runID int64, owner Owner, staleAfter time.Duration) (ClaimResult, error) {
	if owner.Host == "" || owner.PID <= 0 {
		return ClaimResult{}, fmt.Errorf("store: claim run %d: owner %q has no host or no pid", runID, owner)
	}
	var res ClaimResult
	err := s.write(ctx, func(tx *Tx) error {
		res = ClaimResult{}
		r, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runColumns+` WHERE r.id = ?`+s.d.skipLocked(), runID))
		if errors.Is(err, sql.ErrNoRows) {
			// Missing, or (PostgreSQL) locked by a claim under way.
			if r, err = runByID(ctx, tx, runID); err != nil {
				return err
			}
			res.Run, res.Prev, res.Reason = r, r.Status, "another process is claiming it"
			return nil
		}
		if err != nil {
			return err
		}
		now, err := s.clock(ctx, tx)
		if err != nil {
			return err
		}
		res.Prev = r.Status
		switch r.Status {
		case StatusQueued, StatusInterrupted:
		case StatusDone, StatusFailed:
			res.Run, res.Reason = r, "run is "+string(r.Status)
			return nil
		case StatusRunning:
			stale, why := s.stale(r, owner, now, staleAfter)
			if !stale {
				res.Run, res.Reason = r, why
				return nil
			}
			prev := Owner{Host: r.Host, PID: r.PID}
			gaveUp, err := s.lose(ctx, tx, &r, why, now)
			if err != nil {
				return err
			}
			if gaveUp {
				res.Run, res.Reason, res.GaveUp = r, r.Error, []Run{r}
				return nil
			}
			res.Lost, res.LostFrom = why, prev
		default:
			return fmt.Errorf("run %d has unknown status %q", runID, r.Status)
		}
		if res.Run, err = s.take(ctx, tx, runID, owner, now); err != nil {
			return err
		}
		res.Claimed = true
		return nil
	})
	if err != nil {
		return ClaimResult{}, fmt.Errorf("store: claim run %d: %w", runID, err)
	}
	return res, nil
}

// take makes owner the run's owner (inside a claim) and returns the run.
func (s *Store) take(ctx context.Context, tx *Tx, runID int64, owner Owner, now time.Time) (Run, error) {
	_, err := tx.ExecContext(ctx, `
		UPDATE runs SET status = 'running', attempt = attempt + 1, error = '',
			host = ?, pid = ?, attnlab_version = ?, go_version = ?,
			heartbeat = ?, started = ?, finished = NULL
		WHERE id = ?`,
		owner.Host, owner.PID, owner.Version, owner.GoVersion, s.d.timeArg(now), s.d.timeArg(now), runID)
	if err != nil {
		return Run{}, err
	}
	return runByID(ctx, tx, runID)
}

// lose records that the stale run's attempt was lost (why says how) and,
// when its lost attempts reach MaxAttempts, fails it; r is updated.
func (s *Store) lose(ctx context.Context, tx *Tx, r *Run, why string, now time.Time) (gaveUp bool, err error) {
	lost := r.Lost + 1
	if lost < max(r.MaxAttempts, 1) {
		_, err := tx.ExecContext(ctx, `UPDATE runs SET lost = ? WHERE id = ?`, lost, r.ID)
		r.Lost = lost
		return false, err
	}
	msg := fmt.Sprintf("gave up after %d lost attempts (max_attempts %d); the last: %s", lost, r.MaxAttempts, why)
	_, err = tx.ExecContext(ctx, `UPDATE runs SET status = 'failed', lost = ?, error = ?, finished = ? WHERE id = ?`,
		lost, msg, s.d.timeArg(now), r.ID)
	if err != nil {
		return false, err
	}
	*r, err = runByID(ctx, tx, r.ID)
	return true, err
}

// stale applies Claim's staleness rule to a running run. It says why the
// run is stale ("worker h:12 is gone", for a lost attempt) or why it is
// still held.
func (s *Store) stale(r Run, owner Owner, now time.Time, staleAfter time.Duration) (bool, string) {
	if r.Host == owner.Host && !s.alive(r.PID) {
		return true, fmt.Sprintf("its worker %s:%d is gone", r.Host, r.PID)
	}
	age := now.Sub(r.Heartbeat)
	if staleAfter > 0 && (r.Heartbeat.IsZero() || age > staleAfter) {
		return true, fmt.Sprintf("its worker %s:%d stopped heartbeating (last heartbeat %s before the claim)", r.Host, r.PID, age.Round(time.Second))
	}
	return false, fmt.Sprintf("running on %s:%d (heartbeat %s ago)", r.Host, r.PID, age.Round(time.Second))
}

// Heartbeat records, by the database's clock, that owner is still running
// the run. It fails with ErrNotOwner if the run is not running under
// owner's host and pid (it was reclaimed as stale, or never claimed): the
// caller should stop the run.
func (s *Store) Heartbeat(ctx context.Context, runID int64, owner Owner) error {
	now, nowArgs := s.nowSQL()
	err := s.writeOne(ctx, func(tx execer) error {
		return s.updateOwned(ctx, tx, runID, owner, `UPDATE runs SET heartbeat = `+now+`
			WHERE id = ? AND status = 'running' AND host = ? AND pid = ?`,
			append(nowArgs, runID, owner.Host, owner.PID)...)
	})
	if err != nil {
		return fmt.Errorf("store: heartbeat run %d: %w", runID, err)
	}
	return nil
}

// Finish ends a run that owner holds: status is done, failed or
// interrupted; errMsg says why it failed or was interrupted. It sets the
// finished time. It fails with ErrNotOwner if the run is not running under
// owner (another process reclaimed it), so a stale worker cannot overwrite
// the outcome of the attempt that replaced it. To record an interruption
// after the context was cancelled, pass context.WithoutCancel(ctx).
// An interrupted run is back in the queue: Claim and ClaimNext take it and
// it resumes from its last checkpoint. FinishRun also writes the run's
// summaries and drops artifacts, in the same transaction.
func (s *Store) Finish(ctx context.Context, runID int64, owner Owner, status Status, errMsg string) error {
	_, err := s.finish(ctx, runID, owner, Ending{Status: status, Error: errMsg}, false)
	return err
}

// Ending is how a run ends, for FinishRun.
type Ending struct {
	Status Status // done, failed or interrupted
	Error  string // why it failed or was interrupted
	// Summaries are written with the ending (a key the run has is
	// replaced), as PutSummaries writes them.
	Summaries map[string]float64
	// DropKinds are the kinds of artifacts deleted with the ending (a done
	// run's checkpoint).
	DropKinds []string
	// Untrained gives the claim back uncounted: the run did not train
	// under it (a worker too small for it handed it back), so its attempt
	// is not one of the run's attempts.
	Untrained bool
}

// FinishRun is Finish that also writes e's summaries and deletes the run's
// artifacts of e.DropKinds, all in one transaction — on PostgreSQL one
// transaction where the three steps took three — and returns the run as
// recorded. It writes nothing at all when it fails: when the run is not
// running under owner (ErrNotOwner), a stale worker's summaries never reach
// the run that another worker took over.
func (s *Store) FinishRun(ctx context.Context, runID int64, owner Owner, e Ending) (Run, error) {
	return s.finish(ctx, runID, owner, e, true)
}

// summariesPerInsert is how many summary rows one INSERT carries (3 bound
// values each).
const summariesPerInsert = 256

func (s *Store) finish(ctx context.Context, runID int64, owner Owner, e Ending, readBack bool) (Run, error) {
	switch e.Status {
	case StatusDone, StatusFailed, StatusInterrupted:
	default:
		return Run{}, fmt.Errorf("store: finish run %d: status %q is not done, failed or interrupted", runID, e.Status)
	}
	keys := make([]string, 0, len(e.Summaries))
	for k := range e.Summaries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	now, nowArgs := s.nowSQL()
	var r Run
	err := s.write(ctx, func(tx *Tx) error {
		untrained := 0
		if e.Untrained {
			untrained = 1
		}
		args := append([]any{string(e.Status), e.Error, untrained}, nowArgs...)
		args = append(args, nowArgs...)
		err := s.updateOwned(ctx, tx, runID, owner, `UPDATE runs SET status = ?, error = ?, attempt = attempt - ?, finished = `+now+`, heartbeat = `+now+`
			WHERE id = ? AND status = 'running' AND host = ? AND pid = ?`,
			append(args, runID, owner.Host, owner.PID)...)
		if err != nil {
			return err
		}
		for rest := keys; len(rest) > 0; {
			n := min(len(rest), summariesPerInsert)
			args := make([]any, 0, 3*n)
			for _, k := range rest[:n] {
				args = append(args, runID, k, floatArg(e.Summaries[k]))
			}
			if _, err := tx.ExecContext(ctx, summaryInsert(n), args...); err != nil {
				return fmt.Errorf("put summaries: %w", err)
			}
			rest = rest[n:]
		}
		for _, kind := range e.DropKinds {
			if _, err := tx.ExecContext(ctx, `DELETE FROM artifacts WHERE run_id = ? AND kind = ?`, runID, kind); err != nil {
				return fmt.Errorf("delete %s artifacts: %w", kind, err)
			}
		}
		if readBack {
			r, err = runByID(ctx, tx, runID)
		}
		return err
	})
	if err != nil {
		return Run{}, fmt.Errorf("store: finish run %d: %w", runID, err)
	}
	return r, nil
}

// summaryInsert returns the upsert of n summary rows.
func summaryInsert(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO summaries (run_id, key, value) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?)")
	}
	b.WriteString(" ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value")
	return b.String()
}

// updateOwned runs a write guarded by the owner (an UPDATE of the run's
// row, or an INSERT … SELECT of PutOwnedArtifact or an owned
// MetricWriter), which changes at least one row when the owner holds the
// run and none otherwise, and explains a miss.
func (s *Store) updateOwned(ctx context.Context, tx execer, runID int64, owner Owner, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	return notOwned(ctx, tx, runID, owner)
}

// holdOwned checks, first in a write transaction, that the run is running
// under owner's host and pid, and holds it so until the transaction ends,
// so that the statements after it write to a run that owner still holds:
// on PostgreSQL it locks the run's row FOR SHARE (a claim, which locks the
// row FOR UPDATE, skips it or waits); on SQLite the transaction already
// holds the database's one write lock. It fails as updateOwned does, with
// ErrNotOwner or ErrNotFound. It is the guard of writes whose statement
// cannot tell a miss by its count of rows (a DELETE that may find nothing
// to delete).
func (s *Store) holdOwned(ctx context.Context, tx *Tx, runID int64, owner Owner) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE id = ? AND status = 'running' AND host = ? AND pid = ?`+
		s.d.rowLock("SHARE"), runID, owner.Host, owner.PID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notOwned(ctx, tx, runID, owner)
	}
	if err == nil && s.ownerHeld != nil {
		s.ownerHeld()
	}
	return err
}

// notOwned explains why a write guarded by owner changed nothing: an error
// wrapping ErrNotOwner that says who holds the run, or ErrNotFound.
func notOwned(ctx context.Context, tx querier, runID int64, owner Owner) error {
	r, err := runByID(ctx, tx, runID)
	if err != nil {
		return err
	}
	if r.Status != StatusRunning {
		return fmt.Errorf("run is %s, not running under %s: %w", r.Status, owner, ErrNotOwner)
	}
	return fmt.Errorf("run is held by %s:%d, not %s: %w", r.Host, r.PID, owner, ErrNotOwner)
}

// Requeue puts a run that is not running back in the queue (status queued,
// error and lost attempts cleared), so Claim will take it again: used to
// retry failed runs or rerun done ones. Its metrics, summaries and
// artifacts are kept; the executor, which starts the run again from
// scratch, drops its checkpoint and truncates its metrics then.
func (s *Store) Requeue(ctx context.Context, runID int64) error {
	err := s.write(ctx, func(tx *Tx) error {
		r, err := runByID(ctx, tx, runID)
		if err != nil {
			return err
		}
		if r.Status == StatusRunning {
			return fmt.Errorf("run is running on %s:%d", r.Host, r.PID)
		}
		_, err = tx.ExecContext(ctx, requeueSQL, runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: requeue run %d: %w", runID, err)
	}
	return nil
}

// requeueSQL puts run ? back in the queue: Requeue and RequeueFailed.
const requeueSQL = `UPDATE runs SET status = 'queued', error = '', lost = 0, finished = NULL WHERE id = ?`

// RequeueFailed puts runs back in the queue as Requeue does, each if it is
// failed at that moment, in one statement per run and one transaction for
// them all: a run another process claimed, requeued or removed meanwhile is
// left as it is (an unknown id is skipped, as a removed run would be). It
// returns how many were requeued.
func (s *Store) RequeueFailed(ctx context.Context, runIDs ...int64) (int, error) {
	if len(runIDs) == 0 {
		return 0, nil
	}
	var n int
	err := s.write(ctx, func(tx *Tx) error {
		n = 0
		for _, id := range runIDs {
			// (tx's statements run under the try's deadline, as a
			// prepared statement's would not.)
			res, err := tx.ExecContext(ctx, requeueSQL+` AND status = 'failed'`, id)
			if err != nil {
				return fmt.Errorf("run %d: %w", id, err)
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += int(k)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: requeue failed runs: %w", err)
	}
	return n, nil
}

// RunFilter selects runs. Zero fields select everything.
type RunFilter struct {
	Experiments []string // experiment names; an unknown name is an error wrapping ErrNotFound
	IDs         []int64  // run ids; empty means any run (unknown ids match nothing)
	Status      Status
	Where       *Cond // from ParseWhere
}

// Runs returns the runs that match f, ordered by experiment name and id.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	var where []string
	var args []any
	if len(f.Experiments) > 0 {
		names, err := json.Marshal(f.Experiments)
		if err != nil {
			return nil, fmt.Errorf("store: list runs: %w", err)
		}
		var missing []string
		rows, err := s.db.QueryContext(ctx, `SELECT j.value FROM (`+s.d.texts()+`) j
			WHERE NOT EXISTS (SELECT 1 FROM experiments e WHERE e.name = j.value)`, string(names))
		if err != nil {
			return nil, fmt.Errorf("store: list runs: %w", err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: list runs: %w", err)
			}
			missing = append(missing, strconv.Quote(n))
		}
		rows.Close()
		if len(missing) > 0 {
			return nil, fmt.Errorf("store: experiment %s: %w", strings.Join(missing, ", "), ErrNotFound)
		}
		where = append(where, `e.name IN (`+s.d.texts()+`)`)
		args = append(args, string(names))
	}
	if len(f.IDs) > 0 {
		where = append(where, `r.id IN (`+s.d.int64s()+`)`)
		args = append(args, idList(f.IDs))
	}
	if f.Status != "" {
		if !f.Status.Valid() {
			return nil, fmt.Errorf("store: list runs: unknown status %q (known: %s)", f.Status, statusList())
		}
		where = append(where, `r.status = ?`)
		args = append(args, string(f.Status))
	}
	if f.Where != nil {
		if !f.Where.valid() {
			return nil, errors.New("store: list runs: invalid filter (build it with ParseWhere)")
		}
		sqlText, condArgs := f.Where.sql(s.d)
		where = append(where, sqlText)
		args = append(args, condArgs...)
	}
	query := `SELECT ` + runColumns
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY e.name, r.id`
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	return out, nil
}

// idList encodes run ids as a JSON array, bound as one parameter and
// expanded by the dialect's int64s, so any number of ids costs one
// placeholder.
func idList(ids []int64) string {
	b, _ := json.Marshal(ids)
	if ids == nil {
		return "[]"
	}
	return string(b)
}

// Params returns the params of the given runs: run id → key → value. Runs
// without params, or unknown ids, are absent from the map.
func (s *Store) Params(ctx context.Context, runIDs []int64) (map[int64]map[string]Value, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT run_id, key, type, value, text_value FROM params
		WHERE run_id IN (`+s.d.int64s()+`) ORDER BY run_id, key`, idList(runIDs))
	if err != nil {
		return nil, fmt.Errorf("store: read params: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]Value{}
	for rows.Next() {
		var id int64
		var key, kind string
		var num, text any
		if err := rows.Scan(&id, &key, &kind, &num, &text); err != nil {
			return nil, fmt.Errorf("store: read params: %w", err)
		}
		m := out[id]
		if m == nil {
			m = map[string]Value{}
			out[id] = m
		}
		m[key] = scanValue(kind, num, text)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read params: %w", err)
	}
	return out, nil
}
