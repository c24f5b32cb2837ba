package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sentinel errors, for errors.Is. The errors this package returns wrap them
// with a one-line message naming the file, run, experiment or artifact.
var (
	// ErrNotFound: the run, experiment or artifact does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNoDatabase: OpenExisting found no database at the path.
	ErrNoDatabase = errors.New("no attnlab database")
	// ErrNotStore: the file is not a SQLite database, is corrupt, or is a
	// SQLite database that some other program made.
	ErrNotStore = errors.New("not an attnlab database")
	// ErrSchemaTooNew: the store was written by a newer attnlab.
	ErrSchemaTooNew = errors.New("schema version too new")
	// ErrNotOwner: Heartbeat or Finish was called by an owner that no longer
	// holds the run (it was reclaimed, or was never claimed by this owner).
	ErrNotOwner = errors.New("run not held by this owner")
	// ErrAmbiguous: a run reference (hash prefix) matches more than one run.
	ErrAmbiguous = errors.New("ambiguous run reference")
	// ErrBadRef: a run reference is of no form ResolveRun reads (an empty
	// one, a hash prefix too short, a name without seed=N).
	ErrBadRef = errors.New("malformed run reference")
	// ErrDatabaseGone: the SQLite file was deleted or replaced while the
	// store was open; nothing written since is stored.
	ErrDatabaseGone = errors.New("database file deleted or replaced")
)

// openError is what Open and OpenExisting return: a complete one-line
// message that names the file, wrapping a sentinel and the driver's error.
type openError struct {
	text string
	kind error // a sentinel above, or nil
	err  error // the underlying error, or nil
}

func (e *openError) Error() string { return e.text }

func (e *openError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.err != nil {
		errs = append(errs, e.err)
	}
	return errs
}

func openErr(path string, kind, err error, format string, args ...any) error {
	return &openError{text: "store " + path + ": " + fmt.Sprintf(format, args...), kind: kind, err: err}
}

// Store is an attnlab run database: one SQLite file in WAL mode, or a
// PostgreSQL database that many machines share. A *Store is safe for
// concurrent use by many goroutines, and any number of processes may open
// the same database: every write is a short transaction (BEGIN IMMEDIATE on
// SQLite, waiting up to 10 s for the write lock; READ COMMITTED with row
// locks on PostgreSQL) retried when the engine reports contention; reads
// are plain autocommit queries.
type Store struct {
	db       handle
	d        dialect
	target   string   // the path or URL as given (with any password)
	name     string   // the path, or the URL with its password masked
	secrets  []string // what must never be printed
	readOnly bool
	watch    *fileWatch // SQLite: notices a deleted or replaced file
	// release (SQLite, read-only) is the file opened when neither its
	// -wal nor its -shm file was beside it: Close lets SQLite remove
	// those the store's connections made (releaseLog).
	release *logRelease
	// down is the outage the store's writes are riding out (PostgreSQL),
	// shared by all of them: a write that begins during an outage has only
	// what is left of outageBudget.
	down outageClock

	// now, when set (by tests), is both the database's clock and the wall
	// clock of metric rows. alive tells whether a pid on this host lives.
	now   func() time.Time
	alive func(pid int) bool
	// removeChecked, when set (by tests), is called inside a removal's
	// transaction after its running check, before it counts and deletes.
	removeChecked func()
	// ownerHeld, when set (by tests), is called inside a transaction of
	// an owner's write after holdOwned found the run the owner's.
	ownerHeld func()

	// onBusy (OnBusy) and whether it was called.
	onBusy     func()
	busyCalled atomic.Bool
}

// OnBusy sets fn to be called, once for the store, when one of its writes
// first finds the database busy with other writers and goes on retrying
// (on SQLite after the driver's 10 s busy timeout; the write gives up
// after about a minute and a half with a lockedError): a command with
// nothing else on the terminal tells its user why it waits. Set it before
// the store is used.
func (s *Store) OnBusy(fn func()) { s.onBusy = fn }

// OnOutage sets fn to be called when the store's writes (and a worker's
// polls, Queue and Held) first find its PostgreSQL server unreachable and
// begin to ride the outage out, with Outage.End zero, and again when a try
// reaches the server after it, with End set: a worker that would otherwise
// print nothing until the writes give up (up to the outage budget later)
// tells its user at once. One outage is told once, whatever the number of
// writes that wait through it; an outage that ended without a try reaching
// the server (Outage.Lapsed) is told ended before the next one begins, so
// that every start is followed by its end. fn is called without the
// store's locks held, one call at a time and in the order of the events,
// by a goroutine whose write found the event (a slow fn delays that write
// alone, and its time counts against that write's outage budget; an event found by another write meanwhile is told by the
// goroutine already calling fn, once fn returns). Set it before the store
// is used. Never called on SQLite.
func (s *Store) OnOutage(fn func(Outage)) {
	s.down.mu.Lock()
	s.down.notify = fn
	s.down.mu.Unlock()
}

// SetOutageBudget sets how long the store's writes retry through an outage
// of its PostgreSQL server before they fail with ErrUnavailable (default,
// and for d <= 0: 2 minutes). Set it before the store is used.
func (s *Store) SetOutageBudget(d time.Duration) {
	s.down.mu.Lock()
	s.down.budget = max(d, 0)
	s.down.mu.Unlock()
}

// busy calls the OnBusy function the first time.
func (s *Store) busy() {
	if s.onBusy != nil && s.busyCalled.CompareAndSwap(false, true) {
		s.onBusy()
	}
}

// openMode is how a database is opened.
type openMode int

const (
	modeCreate   openMode = iota // create the database (or its tables) if needed
	modeExisting                 // never create; read-write when possible
	modeReadOnly                 // never create, never write
)

// Open opens the store at target — a SQLite file path, or a postgres:// URL
// — creating the file (or, in an existing PostgreSQL database, the tables)
// if needed and migrating an older schema forward. It refuses, with a
// one-line error naming the database, a file that is not a SQLite database
// (ErrNotStore), a database made by another program (ErrNotStore, and the
// file is not modified), and a store whose schema is newer than
// SchemaVersion (ErrSchemaTooNew). A URL's password never appears in an
// error: see Redact.
func Open(target string) (*Store, error) {
	return open(context.Background(), target, modeCreate, connectWait)
}

// OpenExisting is Open for commands that only read: it never creates a
// database. A missing path, an empty file or an empty PostgreSQL database
// gives "no attnlab database at TARGET" (ErrNoDatabase). An existing store
// with an older schema is still migrated forward. A SQLite file that this
// process may not write (or in a directory it may not write) is opened
// read-only.
func OpenExisting(target string) (*Store, error) {
	return open(context.Background(), target, modeExisting, connectWait)
}

// OpenReadOnly is OpenExisting that never writes: the store's write
// methods fail, and an older schema is an error instead of a migration.
func OpenReadOnly(target string) (*Store, error) {
	return open(context.Background(), target, modeReadOnly, connectWait)
}

// OpenReadOnlyWithin is OpenReadOnly that gives up on a PostgreSQL server
// that has not answered within wait (OpenReadOnly waits connectWait, 30
// s), for a command that can go on without the database (a dry run): its
// error then says "no answer within" wait. wait <= 0 is connectWait.
func OpenReadOnlyWithin(target string, wait time.Duration) (*Store, error) {
	if wait <= 0 {
		wait = connectWait
	}
	return open(context.Background(), target, modeReadOnly, wait)
}

// connectWait is how long opening a store waits for its PostgreSQL server
// to answer.
const connectWait = 30 * time.Second

func open(ctx context.Context, target string, mode openMode, wait time.Duration) (*Store, error) {
	if err := CheckTarget(target); err != nil {
		return nil, err
	}
	if isPostgresURL(target) {
		return openPostgres(ctx, target, mode, wait)
	}
	return openSQLite(ctx, target, mode)
}

// CheckTarget returns the error Open gives, without opening anything, for
// a target it refuses by its text alone: an empty path, a libpq
// key=value connection string ("host=db user=lab password=… dbname=lab"),
// or a mistyped URL ("postgress://lab:pw@db", "postgres:lab:pw@db"), which
// are not file names — taken for one, either would create a SQLite file
// named with the password. The error is one line, the password masked,
// suggesting the postgres:// URL the string means. Commands that hand a
// target to other processes (attnlab slurm) check it first.
func CheckTarget(target string) error {
	if target == "" {
		return errors.New("store: empty database path")
	}
	if isPostgresURL(target) {
		return nil
	}
	if u, ok := conninfoURL(target); ok {
		return openErr(Redact(target), nil, nil,
			"a libpq key=value connection string, not a database file; give PostgreSQL as a URL: %s (the password in place of xxxxx, or from PGPASSWORD or ~/.pgpass)", u)
	}
	if mistypedURL(target) {
		return openErr(Redact(target), nil, nil,
			"a URL, not a database file; a PostgreSQL URL starts with postgres:// or postgresql:// (postgres://USER:PASSWORD@HOST:PORT/DB), and a file name has no scheme and no user:password@")
	}
	return nil
}

// init checks what the database is and migrates it to SchemaVersion.
func (s *Store) init(ctx context.Context, mode openMode) error {
	if err := retry(ctx, s.d, nil, nil, func(ctx context.Context) error { return s.db.PingContext(ctx) }); err != nil {
		return s.classify(err)
	}
	var st dbState
	probe := func(ctx context.Context) error {
		var err error
		st, err = s.d.probe(ctx, s.db)
		return err
	}
	if err := retry(ctx, s.d, nil, nil, probe); err != nil {
		return s.classify(err)
	}
	if err := s.identify(st, mode); err != nil {
		return err
	}
	if st.version == SchemaVersion {
		return nil
	}
	return s.migrate(ctx, SchemaVersion, mode)
}

// identify decides from what probe found whether the database is a store
// this build can use.
func (s *Store) identify(st dbState, mode openMode) error {
	switch {
	case st.empty:
		if mode != modeCreate {
			what := "the file is an empty SQLite database"
			if s.d.engine() == Postgres {
				what = "the database has no tables"
			}
			return &openError{text: "no attnlab database at " + s.name + " (" + what + ")", kind: ErrNoDatabase}
		}
		return nil // new database
	case !st.ours && len(st.tables) > 0:
		return openErr(s.name, ErrNotStore, nil, "not an attnlab database (it has tables %s but no attnlab schema)", strings.Join(st.tables, ", "))
	case !st.ours:
		return openErr(s.name, ErrNotStore, nil, "not an attnlab database (%s)", st.foreign)
	case st.version > SchemaVersion:
		return openErr(s.name, ErrSchemaTooNew, nil,
			"schema version %d is newer than this attnlab supports (%d); upgrade attnlab", st.version, SchemaVersion)
	}
	return nil
}

// migrate applies migrations forward until the store is at version target,
// in one transaction, re-reading the version under the write lock because
// another process may have migrated the database meanwhile.
func (s *Store) migrate(ctx context.Context, target int, mode openMode) error {
	err := s.write(ctx, func(tx *Tx) error {
		if err := s.d.lockSchema(ctx, tx); err != nil {
			return err
		}
		st, err := s.d.probe(ctx, tx)
		if err != nil {
			return err
		}
		if err := s.identify(st, mode); err != nil {
			return err
		}
		for v := st.version; v < target; v++ {
			if _, err := tx.ExecContext(ctx, s.d.ddl(migrations[v])); err != nil {
				return fmt.Errorf("migrate to version %d (%s): %w", v+1, migrations[v].name, err)
			}
		}
		if st.version < target {
			if err := s.d.stamp(ctx, tx, target); err != nil {
				return fmt.Errorf("set schema version %d: %w", target, err)
			}
		}
		return nil
	})
	if err != nil {
		var oe *openError
		if errors.As(err, &oe) {
			return err
		}
		return s.classify(err)
	}
	return nil
}

// classify turns a driver error met while opening into a one-line error
// naming the database.
func (s *Store) classify(err error) error {
	switch s.d.code(err) {
	case codeNotADB:
		return openErr(s.name, ErrNotStore, err, "not a SQLite database (%v)", err)
	case codeCorrupt:
		return openErr(s.name, ErrNotStore, err, "the database file is corrupt (%v)", err)
	case codeCantOpen:
		return openErr(s.name, nil, err, "cannot open the database file (%v)", err)
	case codeDenied:
		return s.denied(err)
	}
	if ns := (*noSchemaError)(nil); errors.As(err, &ns) {
		role, db := s.whoAmI()
		return openErr(s.name, nil, err, "%s has no schema to use in %s: %s; the database's owner can GRANT it USAGE on the schema, or the URL's search_path can name another",
			role, db, Scrub(ns.Error(), s.secrets))
	}
	return openErr(s.name, nil, err, "%v", Scrub(oneLine(err.Error()), s.secrets))
}

// whoAmI returns "role R" and "database D" as the PostgreSQL server names
// them for the store's connections, or "this role" and "this database"
// when it cannot tell.
func (s *Store) whoAmI() (role, db string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var r, d string
	if s.db.QueryRowContext(ctx, `SELECT current_user::text, current_database()::text`).Scan(&r, &d) != nil {
		return "this role", "this database"
	}
	return "role " + r, "database " + d
}

// denied is classify's error for a PostgreSQL role that lacks a privilege
// it needs: reading the tables of an existing store, or creating them in a
// new one. It names the role and the database, as the server tells them.
func (s *Store) denied(err error) error {
	role, db := s.whoAmI()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	what := "may not use the attnlab tables of"
	if got, perr := s.d.probe(ctx, s.db); perr == nil && got.empty {
		what = "may not create the attnlab tables in"
	}
	msg := Scrub(pgMessage(err), s.secrets)
	return openErr(s.name, nil, err, "%s %s %s (%s); the database's owner can GRANT it the rights", role, what, db, msg)
}

// Check runs the engine's integrity check over the whole database (SQLite's
// PRAGMA quick_check; nothing on PostgreSQL, whose server guards its own
// storage) and returns an error wrapping ErrNotStore if it finds
// corruption. Open only reads the header and the schema, so damage deeper
// in the file shows up as errors of the queries that reach it, or here.
// Check reads every page: it takes time proportional to the size of the
// file.
func (s *Store) Check(ctx context.Context) error {
	problems, err := s.d.check(ctx, s.db)
	if err != nil {
		return s.classify(err)
	}
	if len(problems) > 0 {
		more := ""
		if len(problems) > 3 {
			more = fmt.Sprintf(" (and %d more problems)", len(problems)-3)
			problems = problems[:3]
		}
		return openErr(s.name, ErrNotStore, nil, "the database file is corrupt: %s%s", oneLine(strings.Join(problems, "; ")), more)
	}
	return nil
}

// Path returns the database the store was opened with, fit to print: the
// file name, or the URL with its password masked.
func (s *Store) Path() string { return s.name }

// Engine returns the store's database engine.
func (s *Store) Engine() Engine { return s.d.engine() }

// ReadOnly reports whether the store was opened read-only (OpenReadOnly,
// or OpenExisting on a file this process may not write).
func (s *Store) ReadOnly() bool { return s.readOnly }

// Redact returns text with the store's secrets (a password in its URL)
// masked; errors of this package are already redacted.
func (s *Store) Redact(text string) string { return Scrub(text, s.secrets) }

// Unreachable reports whether err says that the store's PostgreSQL server
// could not be reached or dropped the connection: stopped, restarting,
// full ("too many clients") or out of the network, silent for a whole
// try of a write (attemptTimeout), or gone for longer than a write rides
// out (ErrUnavailable). Such an error is the server's state, not the
// request's: trying again later may succeed. The end of the caller's own
// context (cancelled, or past its deadline) is not: a slow query and a
// client that went away read the same. Always false on SQLite, whose file
// is there or not.
func (s *Store) Unreachable(err error) bool {
	if err == nil || s.d.engine() != Postgres {
		return false
	}
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	c := s.d.code(err)
	return c == codeGone || c == codeCantOpen
}

// Gone returns nil while the store's path still names the SQLite file it
// opened, and once that file was deleted or replaced (another file moved
// or created at the path: its device and inode differ) an error wrapping
// ErrDatabaseGone that names the path (and wraps fs.ErrNotExist too when
// nothing was at the path as it was checked: deleted). Once the file is gone the store never
// reads or writes the path's new file correctly: SQLite keeps the old
// file open but finds its -wal and -shm files by name, so its reads come
// out stale or "malformed", and its writes (which fail with the same
// error) would be lost; a long-lived reader (attnlab serve) opens the path
// anew instead. Gone costs one stat(2) and is safe for concurrent use;
// once non-nil, its answer never changes. Always nil on PostgreSQL. (Off
// unix a replaced file is not noticed, only a deleted one.)
func (s *Store) Gone() error { return s.watch.check() }

// LeftLog returns the path of the write-ahead log the store's SQLite file
// used while that file is gone (Gone said so) but its log is still beside
// the path, with frames in it: "" when there is none (or the store never
// saw its log, or on PostgreSQL). SQLite finds a database's log by name,
// so it would apply that log, another database's pages, to whatever file
// is at the path now, and a process that opens it read-write would write
// them into that file at its next checkpoint. Until the log is moved away
// (with the database it belongs to) or deleted, the file at the path must
// not be opened. Safe to call after Close.
func (s *Store) LeftLog() string { return s.watch.leftLog() }

// Close closes the database. A MetricWriter must be flushed before. A
// store opened read-only on a SQLite file that this process may write,
// where neither its -wal nor its -shm file was, then has SQLite remove
// those its connections made, as a failed open does (see the package doc).
func (s *Store) Close() error {
	err := s.db.Close()
	if s.release != nil {
		releaseLog(s.release.path, s.release.id)
	}
	return err
}

// clock returns the time by the database's clock (see dialect.now), or the
// test clock.
func (s *Store) clock(ctx context.Context, q querier) (time.Time, error) {
	if s.now != nil {
		return s.now(), nil
	}
	return s.d.now(ctx, q)
}

// nowSQL returns the database's clock as SQL for a statement that writes a
// timestamp: PostgreSQL's now() (no round trip to read it first), or a
// placeholder and its argument (SQLite, whose clock is this machine's, and
// the test clock).
func (s *Store) nowSQL() (string, []any) {
	if s.now != nil {
		return "?", []any{s.d.timeArg(s.now())}
	}
	return s.d.nowSQL()
}

// wall returns this machine's time (or the test clock): the wall time of
// metric rows.
func (s *Store) wall() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// write runs fn in one transaction (IMMEDIATE on SQLite) and commits it,
// retrying the whole transaction when the engine reports contention
// (SQLITE_BUSY, a PostgreSQL serialization failure or deadlock). fn may run
// more than once, so it must not change state outside the transaction. On
// SQLite it fails with ErrDatabaseGone, before and after committing, once
// the file was deleted or replaced: a commit into an unlinked file is no
// result.
func (s *Store) write(ctx context.Context, fn func(tx *Tx) error) error {
	return s.writeFor(ctx, attemptTimeout, fn)
}

// writeFor is write with each try on PostgreSQL given timeout instead of
// attemptTimeout (retryFor).
func (s *Store) writeFor(ctx context.Context, timeout time.Duration, fn func(tx *Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("store %s is open read-only", s.name)
	}
	if err := s.watch.check(); err != nil {
		return err
	}
	err := retryFor(ctx, s.d, &s.down, s.busy, timeout, func(ctx context.Context) error {
		tx, err := s.db.begin(ctx)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return s.redactErr(s.named(err))
	}
	return s.watch.check()
}

// execer is what writeOne's function writes through: a transaction on
// SQLite, the store's handle (autocommit) on PostgreSQL.
type execer interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// writeOne is write for a function that changes the database with one
// statement (any others only read): on SQLite it is write; on PostgreSQL
// the statement runs in autocommit mode, its own transaction, so that it
// takes one round trip instead of three (BEGIN, the statement, COMMIT).
// Heartbeats, artifacts and the usual metric flush, a worker's most
// frequent writes, go this way.
func (s *Store) writeOne(ctx context.Context, fn func(q execer) error) error {
	if s.d.engine() != Postgres {
		return s.write(ctx, func(tx *Tx) error { return fn(tx) })
	}
	if s.readOnly {
		return fmt.Errorf("store %s is open read-only", s.name)
	}
	return s.redactErr(s.named(retry(ctx, s.d, &s.down, s.busy, func(ctx context.Context) error { return fn(boundHandle{s.db, ctx}) })))
}

// read runs fn, which only reads, and on PostgreSQL retries it through an
// outage as writes are (retry: a restart or failover of up to
// outageBudget), each try under its own deadline. The reads of a worker's
// idle loop go this way, so that polling an empty queue does not end the
// worker on a blip. fn may run more than once.
func (s *Store) read(ctx context.Context, fn func(q querier) error) error {
	if s.d.engine() != Postgres {
		return fn(s.db)
	}
	return s.redactErr(retry(ctx, s.d, &s.down, nil, func(ctx context.Context) error { return fn(boundHandle{s.db, ctx}) }))
}

// redactErr masks the store's secrets in err's text, keeping what it wraps.
func (s *Store) redactErr(err error) error {
	if err == nil || len(s.secrets) == 0 {
		return err
	}
	if msg := err.Error(); Scrub(msg, s.secrets) != msg {
		return &redacted{text: Scrub(msg, s.secrets), err: err}
	}
	return err
}

// redacted is an error whose text had a secret masked.
type redacted struct {
	text string
	err  error
}

func (e *redacted) Error() string { return e.text }
func (e *redacted) Unwrap() error { return e.err }

// maxRetries bounds how often a busy transaction is retried; on SQLite each
// try has already waited up to the 10 s busy timeout.
const maxRetries = 8

// lockedError is a transaction that stayed busy through every retry:
// other writers — other processes, or other connections of this one (a
// run's workers) — held SQLite's write lock, or kept conflicting with it on
// PostgreSQL (serialization failures, deadlocks). write and writeOne name
// the database in it.
type lockedError struct {
	name   string
	waited time.Duration
	err    error
}

func (e *lockedError) Error() string {
	db := "the database"
	if e.name != "" {
		db += " " + e.name
	}
	return fmt.Sprintf("%s was still busy with other writers after %s of retries (%v); try again when they have finished",
		db, e.waited.Round(time.Second), e.err)
}

func (e *lockedError) Unwrap() error { return e.err }

// named sets the database's name in a lockedError err wraps.
func (s *Store) named(err error) error {
	var le *lockedError
	if errors.As(err, &le) && le.name == "" {
		le.name = s.name
	}
	return err
}

// ErrUnavailable: PostgreSQL stayed unreachable (refusing connections,
// shutting down, or not answering) for longer than the store rides out.
var ErrUnavailable = errors.New("the database server is unreachable")

var (
	// outageBudget is how long a store that opened keeps retrying a write
	// while its PostgreSQL server is unreachable — a restart, a failover, a
	// short network cut — before it gives up with ErrUnavailable. Writes are
	// upserts or updates guarded by the run's owner, so a try whose commit
	// reached the server before the connection broke is harmless to repeat.
	outageBudget = 2 * time.Minute
	// attemptTimeout bounds one try of a write on PostgreSQL: a server or a
	// network that stops answering on an open connection (a partition)
	// otherwise holds the write until the kernel gives up on the
	// connection, a quarter of an hour later. It is generous enough for a
	// checkpoint of a gigabyte on a slow link.
	attemptTimeout = 2 * time.Minute
)

// noAnswerError is a try of a write that the server did not answer within
// attemptTimeout: the server's state, unlike the end of the caller's own
// context that it wraps.
type noAnswerError struct {
	after time.Duration
	err   error
}

func (e *noAnswerError) Error() string { return fmt.Sprintf("no answer within %s: %v", e.after, e.err) }
func (e *noAnswerError) Unwrap() error { return e.err }

// outageGap is how long the server may go untried after a try found it
// unreachable before the next failure of another write counts as a new
// outage. The tries of one write never start a new outage, however long
// their backoff (up to 7.5 s with its jitter).
var outageGap = 30 * time.Second

// outageClock measures one outage of the server across all the writes of a
// store, so that the writes that follow one another through a long outage
// (a metric flush, then the run's end, then the queue's poll) give up
// together once it has lasted outageBudget, instead of each waiting a whole
// budget of its own. Any successful try ends the outage; so does a gap of
// outageGap without a try. Safe for concurrent use.
//
// The notify function is never called with mu held: failed and ok queue
// what they have to tell, under mu, and then deliver it, in order, one call
// at a time (tell), so that a slow function holds up only the write that
// called it and a function that uses the store does not deadlock.
type outageClock struct {
	mu    sync.Mutex
	since time.Time // when the current outage was first seen; zero: none
	last  time.Time // when a try last found the server unreachable
	// budget is the store's outage budget (SetOutageBudget; zero:
	// outageBudget); notify is OnOutage's function. Both are set before
	// the store is used.
	budget time.Duration
	notify func(Outage)
	// pending is what is still to be told to notify, oldest first;
	// telling says that a goroutine is calling notify and tells pending
	// too before it stops.
	pending []Outage
	telling bool
}

// Outage is what OnOutage tells: an outage of the PostgreSQL server that
// the store's writes began to ride out (End zero), or its end.
type Outage struct {
	Since  time.Time     // when a try first found the server unreachable
	Budget time.Duration // how long the writes retry before they give up
	// End is when a try reached the server again; zero while it lasts.
	// With Lapsed, it is when a try last found the server unreachable.
	End time.Time
	// Lapsed says that the outage ended without a try reaching the
	// server: no write tried it for outageGap (30 s) after End — the
	// writes had given up — and the next try, which found it unreachable
	// again, began a new outage, told next. Whether the server answered
	// in between is not known.
	Lapsed bool
}

// limit returns the outage budget; c.mu is held.
func (c *outageClock) limit() time.Duration {
	if c.budget > 0 {
		return c.budget
	}
	return outageBudget
}

// budgetNow returns the outage budget.
func (c *outageClock) budgetNow() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limit()
}

// queue adds o to what is to be told to the notify function; c.mu is held.
func (c *outageClock) queue(o Outage) {
	if c.notify != nil {
		c.pending = append(c.pending, o)
	}
}

// tell calls the notify function with what is queued, in order, without
// c.mu held — unless another goroutine is calling it already: that one
// tells what was queued meanwhile before it stops, so that the calls keep
// the order of the events and never overlap. c.mu is not held.
func (c *outageClock) tell() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.telling {
		return
	}
	c.telling = true
	defer func() { c.telling = false }()
	for len(c.pending) > 0 {
		o, fn := c.pending[0], c.notify
		c.pending = c.pending[1:]
		func() {
			c.mu.Unlock()
			defer c.mu.Lock()
			fn(o)
		}()
	}
	c.pending = nil
}

// failed records that a try begun at start found the server unreachable,
// and returns when the outage began. retrying says that an earlier try of
// the same write found it unreachable too: the same outage, whatever the
// backoff between them. A new outage is told to the notify function, after
// the end of the one before it when no try ended that one.
func (c *outageClock) failed(start time.Time, retrying bool) time.Time {
	c.mu.Lock()
	now := time.Now()
	if c.since.IsZero() || (!retrying && start.Sub(c.last) > outageGap) {
		if !c.since.IsZero() {
			c.queue(Outage{Since: c.since, Budget: c.limit(), End: c.last, Lapsed: true})
		}
		c.since = now
		c.queue(Outage{Since: now, Budget: c.limit()})
	}
	c.last = now
	since, told := c.since, len(c.pending) > 0
	c.mu.Unlock()
	if told {
		c.tell()
	}
	return since
}

// ok records that a try reached the server: the outage, if any, is over
// (and its end is told to the notify function).
func (c *outageClock) ok() {
	c.mu.Lock()
	if !c.since.IsZero() {
		c.queue(Outage{Since: c.since, Budget: c.limit(), End: time.Now()})
	}
	c.since = time.Time{}
	told := len(c.pending) > 0
	c.mu.Unlock()
	if told {
		c.tell()
	}
}

// localError is a failure of this process, not of the database: reading
// back a temporary file it wrote (Copy's spooled metric rows). retry
// returns it at once, never as contention or an outage, whatever it wraps
// — a truncated file's io.ErrUnexpectedEOF is not a broken connection.
type localError struct{ err error }

func (e *localError) Error() string { return e.err.Error() }
func (e *localError) Unwrap() error { return e.err }

// retry calls fn until it succeeds, fails with an error that is not
// contention, the context ends, or maxRetries is reached, sleeping with
// jittered exponential backoff between tries. On PostgreSQL each try gets
// its own context, ended after attemptTimeout; once the store has opened
// (down is its outage clock; nil while opening), a lost or refused
// connection or a try that timed out is retried too, until the outage —
// measured across every write of the store, not this one alone — has
// lasted outageBudget, and then fails with ErrUnavailable. busy, when not
// nil, is called when a try first finds the database busy. An error that
// wraps a *localError is returned at once.
func retry(ctx context.Context, d dialect, down *outageClock, busy func(), fn func(ctx context.Context) error) error {
	return retryFor(ctx, d, down, busy, attemptTimeout, fn)
}

// retryFor is retry with each try on PostgreSQL given timeout instead of
// attemptTimeout: for a write that sends more than a usual try can in
// attemptTimeout on a slow link (Copy's run of millions of metric rows).
func retryFor(ctx context.Context, d dialect, down *outageClock, busy func(), timeout time.Duration, fn func(ctx context.Context) error) error {
	delay := 5 * time.Millisecond
	first := time.Now()
	var gone error // the error of this call's last try that found the server unreachable
	for attempt := 0; ; attempt++ {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if d.engine() == Postgres {
			actx, cancel = context.WithTimeout(ctx, timeout)
		}
		start := time.Now()
		err := fn(actx)
		timedOut := err != nil && actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			if down != nil {
				down.ok()
			}
			return nil
		}
		if local := (*localError)(nil); errors.As(err, &local) {
			return err
		}
		if ctx.Err() != nil {
			// The caller's context ended (Ctrl-C): what failed the try is
			// that end, not the database; said so, so that a command
			// exits as interrupted instead of blaming the database. What
			// an earlier try found (the server unreachable) stays in the
			// error, as it does when the end falls between two tries.
			if gone != nil {
				return errors.Join(gone, ctx.Err())
			}
			return errors.Join(err, ctx.Err())
		}
		code := d.code(err)
		if timedOut {
			code, err = codeGone, &noAnswerError{timeout, err}
		}
		switch {
		case code == codeBusy && attempt < maxRetries:
			if attempt == 0 && busy != nil {
				busy()
			}
		case code == codeBusy:
			return &lockedError{waited: time.Since(first), err: err}
		case down != nil && (code == codeGone || code == codeCantOpen) && ctx.Err() == nil:
			if since := down.failed(start, gone != nil); time.Since(since) >= down.budgetNow() {
				return fmt.Errorf("%w for %s: %w", ErrUnavailable, time.Since(since).Round(time.Second), err)
			}
			gone = err
			delay = max(delay, 100*time.Millisecond)
		default:
			return err
		}
		wait := delay/2 + rand.N(delay)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		limit := time.Second
		if gone != nil {
			limit = 5 * time.Second
		}
		delay = min(2*delay, limit)
	}
}

// errCode is the kind of a driver error, as far as the store cares.
type errCode int

const (
	codeOther      errCode = iota
	codeBusy               // contention: retry the transaction
	codeNotADB             // not a SQLite file
	codeCorrupt            // damaged storage
	codeCantOpen           // cannot open the file, cannot reach the server
	codeForeignKey         // a child row names a missing parent
	codeNoDatabase         // PostgreSQL: the database does not exist
	codeGone               // PostgreSQL: the connection broke or the server is going away
	codeDenied             // PostgreSQL: the role lacks a privilege (insufficient_privilege)
)

// timeLayout is how timestamps are stored on SQLite: fixed-width UTC ISO
// 8601 with microseconds (truncated, as pgx sends them to PostgreSQL's
// timestamptz), so they sort as text, SQLite's date functions read them,
// and a copy from PostgreSQL keeps every digit. Files written before
// 2026-12-06 hold milliseconds ("…05.000Z"), which parseTime reads too
// (text order then puts such a time after the times of its own
// millisecond that have six digits: off by less than a millisecond).
const timeLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// parseTime reads a stored timestamp; "" or an unreadable text is the zero
// time.
func parseTime(text string) time.Time {
	if text == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, text)
	if err != nil {
		t, err = time.Parse(time.RFC3339Nano, text)
		if err != nil {
			return time.Time{}
		}
	}
	return t.UTC()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
