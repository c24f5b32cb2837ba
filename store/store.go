package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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

// Store is an attnlab run database: one SQLite file in WAL mode. A *Store is
// safe for concurrent use by many goroutines, and any number of processes
// may open the same file: every write is a short BEGIN IMMEDIATE transaction
// that waits up to 10 s for the write lock and is retried on SQLITE_BUSY;
// reads are plain autocommit queries and never take the write lock.
type Store struct {
	db   *sql.DB
	path string

	// now and alive are replaced by tests.
	now   func() time.Time
	alive func(pid int) bool
}

// Open opens the store at path, creating the file if it does not exist and
// migrating an older schema forward. It refuses, with a one-line error naming
// the file, a file that is not a SQLite database (ErrNotStore), a SQLite
// database made by another program (ErrNotStore), and a store whose schema
// is newer than SchemaVersion (ErrSchemaTooNew).
func Open(path string) (*Store, error) {
	return open(context.Background(), path, true)
}

// OpenExisting is Open for commands that only read: it never creates a
// database. A missing path, or an empty file, gives
// "no attnlab database at PATH" (ErrNoDatabase). An existing store with an
// older schema is still migrated forward.
func OpenExisting(path string) (*Store, error) {
	return open(context.Background(), path, false)
}

func open(ctx context.Context, path string, create bool) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return nil, openErr(path, ErrNotStore, nil, "is a directory, not a database file")
	case err == nil && fi.Size() == 0 && !create:
		return nil, &openError{text: "no attnlab database at " + path + " (the file is empty)", kind: ErrNoDatabase}
	case errors.Is(err, fs.ErrNotExist) && !create:
		return nil, &openError{text: "no attnlab database at " + path, kind: ErrNoDatabase, err: err}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, openErr(path, nil, err, "%v", err)
	}
	dsn, err := dataSourceName(path, create)
	if err != nil {
		return nil, openErr(path, nil, err, "%v", err)
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, openErr(path, nil, err, "%v", err)
	}
	db.SetMaxIdleConns(8)
	s := &Store{db: db, path: path, now: time.Now, alive: pidAlive}
	if err := s.init(ctx, create); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// dataSourceName builds the go-sqlite3 DSN. The path is made absolute and
// percent-encoded so that '?', '#' and '%' in file names survive the URI.
func dataSourceName(path string, create bool) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	abs = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(abs))
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_txlock", "immediate")
	if !create {
		q.Set("mode", "rw") // SQLite itself must not create the file either
	}
	return "file:" + abs + "?" + q.Encode(), nil
}

// init checks what the file is and migrates it to SchemaVersion.
func (s *Store) init(ctx context.Context, create bool) error {
	if err := retry(ctx, func() error { return s.db.PingContext(ctx) }); err != nil {
		return s.classify(err)
	}
	var appID, version, tables int
	probe := func() error {
		return s.db.QueryRowContext(ctx, `SELECT
			(SELECT application_id FROM pragma_application_id),
			(SELECT user_version FROM pragma_user_version),
			(SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%')`).Scan(&appID, &version, &tables)
	}
	if err := retry(ctx, probe); err != nil {
		return s.classify(err)
	}
	if err := s.identify(appID, version, tables, create); err != nil {
		if errors.Is(err, ErrNotStore) && tables > 0 {
			var names string
			if s.db.QueryRowContext(ctx, `SELECT group_concat(name, ', ') FROM (SELECT name FROM sqlite_schema
				WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 5)`).Scan(&names) == nil {
				return openErr(s.path, ErrNotStore, nil, "not an attnlab database (it has tables %s but no attnlab schema)", names)
			}
		}
		return err
	}
	if version == SchemaVersion {
		return nil
	}
	return s.migrate(ctx, SchemaVersion)
}

// identify decides from the header fields whether the file is a store this
// build can use.
func (s *Store) identify(appID, version, tables int, create bool) error {
	switch {
	case appID == 0 && version == 0 && tables == 0:
		if !create {
			return &openError{text: "no attnlab database at " + s.path + " (the file is an empty SQLite database)", kind: ErrNoDatabase}
		}
		return nil // new database
	case appID != applicationID:
		return openErr(s.path, ErrNotStore, nil,
			"not an attnlab database (application_id %#x, user_version %d)", appID, version)
	case version > SchemaVersion:
		return openErr(s.path, ErrSchemaTooNew, nil,
			"schema version %d is newer than this attnlab supports (%d); upgrade attnlab", version, SchemaVersion)
	case version < 1:
		return openErr(s.path, ErrNotStore, nil, "not an attnlab database (attnlab application_id but user_version %d)", version)
	}
	return nil
}

// migrate applies migrations forward until the store is at version target,
// in one IMMEDIATE transaction, re-reading the version under the write lock
// because another process may have migrated the file meanwhile.
func (s *Store) migrate(ctx context.Context, target int) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var appID, version, tables int
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT application_id FROM pragma_application_id),
			(SELECT user_version FROM pragma_user_version),
			(SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%')`).Scan(&appID, &version, &tables)
		if err != nil {
			return err
		}
		if err := s.identify(appID, version, tables, true); err != nil {
			return err
		}
		for v := version; v < target; v++ {
			if _, err := tx.ExecContext(ctx, migrations[v].sql); err != nil {
				return fmt.Errorf("migrate to version %d (%s): %w", v+1, migrations[v].name, err)
			}
		}
		if version < target {
			// PRAGMA takes no bound parameters; both values are our own integers.
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", applicationID, target)); err != nil {
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
// naming the file.
func (s *Store) classify(err error) error {
	switch sqliteCode(err) {
	case codeNotADB:
		return openErr(s.path, ErrNotStore, err, "not a SQLite database (%v)", err)
	case codeCorrupt:
		return openErr(s.path, ErrNotStore, err, "the database file is corrupt (%v)", err)
	case codeCantOpen:
		return openErr(s.path, nil, err, "cannot open the database file (%v)", err)
	}
	return openErr(s.path, nil, err, "%v", oneLine(err.Error()))
}

// Check runs SQLite's PRAGMA quick_check over the whole file and returns an
// error wrapping ErrNotStore if it finds corruption. Open only reads the
// header and the schema, so damage deeper in the file shows up as errors of
// the queries that reach it, or here. Check reads every page: it takes time
// proportional to the size of the file.
func (s *Store) Check(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		return s.classify(err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return s.classify(err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return s.classify(err)
	}
	if len(problems) > 0 {
		more := ""
		if len(problems) > 3 {
			more = fmt.Sprintf(" (and %d more problems)", len(problems)-3)
			problems = problems[:3]
		}
		return openErr(s.path, ErrNotStore, nil, "the database file is corrupt: %s%s", oneLine(strings.Join(problems, "; ")), more)
	}
	return nil
}

// Path returns the file name the store was opened with.
func (s *Store) Path() string { return s.path }

// Close closes the database. A MetricWriter must be flushed before.
func (s *Store) Close() error { return s.db.Close() }

// write runs fn in one IMMEDIATE transaction (the DSN's _txlock) and commits
// it, retrying the whole transaction on SQLITE_BUSY/SQLITE_LOCKED. fn may run
// more than once, so it must not change state outside the transaction.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return retry(ctx, func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	})
}

// maxRetries bounds how often a busy transaction is retried; each try has
// already waited up to the 10 s busy timeout inside SQLite.
const maxRetries = 8

// retry calls fn until it succeeds, fails with an error that is not
// SQLITE_BUSY/SQLITE_LOCKED, the context ends, or maxRetries is reached,
// sleeping with jittered exponential backoff between tries.
func retry(ctx context.Context, fn func() error) error {
	delay := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !isBusy(err) || attempt == maxRetries {
			return err
		}
		d := delay/2 + rand.N(delay)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(d):
		}
		delay = min(2*delay, time.Second)
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED.
func isBusy(err error) bool { return sqliteCode(err) == codeBusy }

// errCode is the kind of a driver error, as far as the store cares.
type errCode int

const (
	codeOther errCode = iota
	codeBusy
	codeNotADB
	codeCorrupt
	codeCantOpen
	codeForeignKey
)

// timeLayout is how timestamps are stored: fixed-width UTC ISO 8601 with
// milliseconds, so they sort as text and SQLite's date functions read them.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(ns sql.NullString) time.Time {
	if !ns.Valid || ns.String == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, ns.String)
	if err != nil {
		t, err = time.Parse(time.RFC3339Nano, ns.String)
		if err != nil {
			return time.Time{}
		}
	}
	return t
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
