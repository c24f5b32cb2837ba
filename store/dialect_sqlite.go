package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// sqliteDialect is SQLite through mattn/go-sqlite3: '?' placeholders, a
// schema version in PRAGMA user_version and the application id in PRAGMA
// application_id, timestamps as fixed-width UTC text, BEGIN IMMEDIATE for
// every transaction (the DSN's _txlock), one writer at a time.
type sqliteDialect struct{}

func (sqliteDialect) engine() Engine         { return SQLite }
func (sqliteDialect) rebind(q string) string { return q }
func (sqliteDialect) code(err error) errCode { return sqliteCode(err) }
func (sqliteDialect) ddl(m migration) string { return m.sqlite }

// lockSchema: the migration's transaction is IMMEDIATE, which already
// holds the one write lock.
func (sqliteDialect) lockSchema(context.Context, *Tx) error { return nil }

func (sqliteDialect) probe(ctx context.Context, q querier) (dbState, error) {
	var appID, version, tables int
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT application_id FROM pragma_application_id),
		(SELECT user_version FROM pragma_user_version),
		(SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%')`).Scan(&appID, &version, &tables)
	if err != nil {
		return dbState{}, err
	}
	st := dbState{version: version}
	switch {
	case appID == 0 && version == 0 && tables == 0:
		st.empty = true
	case appID != applicationID:
		st.foreign = fmt.Sprintf("application_id %#x, user_version %d", appID, version)
	case version < 1:
		st.foreign = fmt.Sprintf("attnlab application_id but user_version %d", version)
	default:
		st.ours = true
	}
	if !st.ours && tables > 0 {
		rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_schema
			WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 5`)
		if err != nil {
			return dbState{}, err
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return dbState{}, err
			}
			st.tables = append(st.tables, n)
		}
		if err := rows.Err(); err != nil {
			return dbState{}, err
		}
	}
	return st, nil
}

func (sqliteDialect) stamp(ctx context.Context, tx *Tx, version int) error {
	// PRAGMA takes no bound parameters; both values are our own integers.
	_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", applicationID, version))
	return err
}

// now: SQLite has no server; its clock is this machine's.
func (sqliteDialect) now(context.Context, querier) (time.Time, error) { return time.Now(), nil }

func (sqliteDialect) timeArg(t time.Time) any { return formatTime(t) }
func (sqliteDialect) nowSQL() (string, []any) { return "?", []any{formatTime(time.Now())} }
func (sqliteDialect) int64s() string          { return `SELECT value FROM json_each(?)` }
func (sqliteDialect) texts() string           { return `SELECT value FROM json_each(?)` }
func (sqliteDialect) pointText(key string) string {
	return "json_extract(r.point, '$." + key + "')"
}

// hasPrefix selects the prefix's range on the index: col >= p AND col <
// p+0xFF (no valid UTF-8 text contains the byte 0xFF).
func (sqliteDialect) hasPrefix(col string) string { return col + ` >= ? AND ` + col + ` < ?` }
func (sqliteDialect) prefixArgs(p string) []any   { return []any{p, p + "\xff"} }
func (sqliteDialect) contains(col string) string  { return `instr(` + col + `, ?) > 0` }
func (sqliteDialect) number() string              { return "?" }
func (sqliteDialect) skipLocked() string          { return "" }
func (sqliteDialect) rowLock(string) string       { return "" }
func (sqliteDialect) typed(string) string         { return "?" }
func (sqliteDialect) storable(string) bool        { return true }

// infinite: a TEXT value too, which SQLite keeps as text in the REAL
// column (a hand-written 'Inf' that database/sql reads as +Inf).
func (sqliteDialect) infinite(col string) string {
	return `(` + col + ` = ? OR ` + col + ` = ? OR typeof(` + col + `) = 'text')`
}

// bulkMetrics: SQLite has no bulk path faster than its multi-row INSERTs.
func (sqliteDialect) bulkMetrics(context.Context, *Tx, int64, int64, func() (metricRowRaw, bool, error)) (bool, error) {
	return false, nil
}

func (sqliteDialect) check(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	return problems, rows.Err()
}

// openSQLite opens the store file at path. A file that exists is first
// probed through a read-only connection without any pragma that writes,
// so another program's database is refused untouched (not even switched
// to WAL mode). Only then, and only if the file can be written, is it
// opened read-write in WAL mode and migrated.
//
// The read-only probe of a WAL file makes its -wal and -shm files when
// they are missing, and a read-only connection cannot remove them when it
// closes. So when neither was there before, a failed open, and the Close
// of a store opened read-only, let SQLite remove them (releaseLog): never
// this code itself.
func openSQLite(ctx context.Context, path string, mode openMode) (_ *Store, err error) {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return nil, openErr(path, ErrNotStore, nil, "is a directory, not a database file")
	case err == nil && !fi.Mode().IsRegular():
		return nil, openErr(path, ErrNotStore, nil, "is not a regular file (%s)", fileKind(fi.Mode()))
	case err == nil && fi.Size() == 0 && mode != modeCreate:
		return nil, &openError{text: "no attnlab database at " + path + " (the file is empty)", kind: ErrNoDatabase}
	case errors.Is(err, fs.ErrNotExist) && mode != modeCreate:
		return nil, &openError{text: "no attnlab database at " + path, kind: ErrNoDatabase, err: err}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, openErr(path, nil, err, "%v", err)
	}
	s := &Store{d: sqliteDialect{}, target: path, name: path, alive: pidAlive}
	exists := err == nil && fi.Size() > 0
	if !exists && mode == modeCreate && !accessW(filepath.Dir(path)) {
		if _, derr := os.Stat(filepath.Dir(path)); errors.Is(derr, fs.ErrNotExist) {
			return nil, openErr(path, nil, nil, "cannot be created: its directory %s does not exist", filepath.Dir(path))
		}
		return nil, openErr(path, nil, nil, "cannot be created: this user may not write its directory %s", filepath.Dir(path))
	}
	if exists {
		// The file, when neither -wal nor -shm was beside it: SQLite keeps
		// them beside the file a symbolic link names.
		var fresh *logRelease
		if id, ierr := statID(path); ierr == nil {
			real, rerr := filepath.EvalSymlinks(path)
			if rerr != nil {
				real = path
			}
			if !hasLog(real) {
				fresh = &logRelease{path: real, id: id}
				defer func() {
					if err != nil {
						releaseLog(real, id)
					}
				}()
			}
		}
		st, roDSN, err := s.probeReadOnly(ctx, path)
		if afterProbe != nil {
			afterProbe(path)
		}
		if err != nil {
			return nil, err
		}
		if err := s.identify(st, mode); err != nil {
			return nil, err
		}
		if mode == modeCreate && !writable(path) {
			return nil, openErr(path, nil, nil, "is read-only to this user (the file or its directory cannot be written): commands that only read it work (ls, show, compare, export)")
		}
		readOnly := mode == modeReadOnly || (mode == modeExisting && !writable(path))
		if readOnly {
			if st.version < SchemaVersion {
				return nil, openErr(path, nil, nil,
					"schema version %d is older than this attnlab's (%d) and the file is opened read-only; open it once where it can be written to migrate it", st.version, SchemaVersion)
			}
			db, err := sql.Open("sqlite3", roDSN)
			if err != nil {
				return nil, openErr(path, nil, err, "%v", err)
			}
			s.db, s.readOnly, s.release = handle{DB: db, d: s.d}, true, fresh
			if s.watch, err = newFileWatch(path); err != nil {
				db.Close()
				return nil, openErr(path, nil, err, "%v", err)
			}
			return s, nil
		}
	}
	dsn, err := sqliteDSN(path, url.Values{
		"_journal_mode": {"WAL"}, "_synchronous": {"NORMAL"}, "_busy_timeout": {"10000"},
		"_foreign_keys": {"on"}, "_txlock": {"immediate"},
	}, mode != modeCreate)
	if err != nil {
		return nil, openErr(path, nil, err, "%v", err)
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, openErr(path, nil, err, "%v", err)
	}
	db.SetMaxIdleConns(8)
	s.db = handle{DB: db, d: s.d}
	if err := s.init(ctx, mode); err != nil {
		db.Close()
		return nil, err
	}
	if s.watch, err = newFileWatch(path); err != nil {
		db.Close()
		return nil, openErr(path, nil, err, "%v", err)
	}
	return s, nil
}

// probeReadOnly reads the header fields of an existing file through a
// read-only connection and returns them with that connection's DSN. In a
// read-only directory a WAL database whose -shm file is missing cannot be
// opened read-only the ordinary way; it is then opened immutable (no
// process can be writing it: a writer would have left its -wal and -shm
// files there).
func (s *Store) probeReadOnly(ctx context.Context, path string) (dbState, string, error) {
	try := func(extra url.Values) (dbState, string, error) {
		extra.Set("mode", "ro")
		extra.Set("_busy_timeout", "10000")
		dsn, err := sqliteDSN(path, extra, false)
		if err != nil {
			return dbState{}, "", openErr(path, nil, err, "%v", err)
		}
		db, err := sql.Open("sqlite3", dsn)
		if err != nil {
			return dbState{}, "", openErr(path, nil, err, "%v", err)
		}
		defer db.Close()
		var st dbState
		err = retry(ctx, s.d, nil, nil, func(ctx context.Context) error {
			var err error
			st, err = s.d.probe(ctx, handle{DB: db, d: s.d})
			return err
		})
		if err != nil {
			return dbState{}, "", err
		}
		return st, dsn, nil
	}
	st, dsn, err := try(url.Values{})
	if err != nil && !writable(path) {
		if _, werr := os.Stat(path + "-wal"); errors.Is(werr, fs.ErrNotExist) {
			st, dsn, err = try(url.Values{"immutable": {"1"}})
		}
	}
	if err != nil {
		return dbState{}, "", s.classify(err)
	}
	return st, dsn, nil
}

// logRelease is a SQLite file opened when neither its -wal nor its -shm
// file was beside it: path, the file itself (symbolic links resolved), and
// its identity id. See releaseLog.
type logRelease struct {
	path string
	id   fileID
}

// afterProbe, when set (by tests, never in parallel), is called by
// openSQLite right after the read-only probe of an existing file.
var afterProbe func(path string)

// hasLog reports whether the -wal or the -shm file of the database at
// path exists (or cannot be told not to).
func hasLog(path string) bool {
	for _, side := range []string{"-wal", "-shm"} {
		if _, err := os.Lstat(path + side); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

// releaseLog lets SQLite remove the -wal and -shm files that this
// process's read-only connections made beside the WAL database at path
// (id: the file they read), where neither was before, once they are
// closed. A read-only connection cannot remove them; the last connection
// able to write the file does, as it closes: under an EXCLUSIVE lock on
// the database file, which it gets only when no other connection of any
// process has the database open, it checkpoints the log and deletes both.
// So releaseLog opens one such connection, with query_only set and no
// pragma that writes, reads the schema cookie (which opens the log) and
// closes it; SQLite decides what goes. Nothing is done when neither file
// is there, when the -wal is not empty (another connection committed into
// it since: the checkpoint would write its pages into the file), when the
// path no longer names the file read (the log beside it may then hold
// that file's pages, which SQLite would apply to the file there now), or
// when this process may not write the file or its directory (a read-only
// connection is all it can open). Errors are ignored: the files are then
// left, as a read-only connection leaves them.
func releaseLog(path string, id fileID) {
	// Without file identities (off unix) a replaced file cannot be told.
	if !fileIDs || !hasLog(path) || !writable(path) {
		return
	}
	if now, err := statID(path); err != nil || now != id {
		return
	}
	// A read-only connection never writes the log: frames in it are
	// another connection's commits since (one that could not checkpoint as
	// it closed, this process's reader holding the file), which the close
	// would checkpoint into a file that was refused untouched.
	if fi, err := os.Lstat(path + "-wal"); err != nil || fi.Size() != 0 {
		return
	}
	dsn, err := sqliteDSN(path, url.Values{"_busy_timeout": {"1000"}, "_query_only": {"1"}}, true)
	if err != nil {
		return
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var v int
	_ = db.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&v)
}

// sqliteDSN builds a go-sqlite3 DSN. The path is made absolute and
// percent-encoded so that '?', '#' and '%' in file names survive the URI.
// mustExist adds mode=rw unless the values set a mode: SQLite itself must
// not create the file either.
func sqliteDSN(path string, q url.Values, mustExist bool) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	abs = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(abs))
	if mustExist && q.Get("mode") == "" {
		q.Set("mode", "rw")
	}
	return "file:" + abs + "?" + q.Encode(), nil
}

// writable reports whether this process may write the file and create
// files (the -wal and -shm files) in its directory.
func writable(path string) bool {
	return accessW(path) && accessW(filepath.Dir(path))
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}

// fileWatch notices when the database file is deleted or replaced under a
// running process: SQLite keeps writing into the old, unlinked file and
// every result would silently be lost, and a reader reads the old file
// against the new one's -wal and -shm files (stale pages, then "database
// disk image is malformed"). Writes check it before they begin and after
// they commit; Gone checks it for a reader.
type fileWatch struct {
	path string
	id   fileID

	mu   sync.Mutex
	gone error // sticky once seen
	// wal is the identity of the path's -wal file when check last found
	// the database file still the one opened (walSeen: it was there).
	wal     fileID
	walSeen bool
}

func newFileWatch(path string) (*fileWatch, error) {
	id, err := statID(path)
	if err != nil {
		return nil, err
	}
	return &fileWatch{path: path, id: id}, nil
}

// check returns an error wrapping ErrDatabaseGone once the path no longer
// names the file that was opened.
func (w *fileWatch) check() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gone != nil {
		return w.gone
	}
	id, err := statID(w.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		w.gone = openErr(w.path, ErrDatabaseGone, err, "the database file was deleted while attnlab was using it; nothing written since is stored")
	case err != nil:
		return nil // a transient stat error is not proof of anything
	case id != w.id:
		w.gone = openErr(w.path, ErrDatabaseGone, nil, "the database file was replaced while attnlab was using it; nothing written since is stored")
	default:
		if wal, err := statID(w.path + "-wal"); err == nil {
			w.wal, w.walSeen = wal, true
		}
	}
	return w.gone
}

// walHeaderBytes is the size of a write-ahead log's header: a log no
// longer holds no frame.
const walHeaderBytes = 32

// leftLog returns the path's -wal file when the database file is gone
// (check said so) but that -wal file is still the one the gone file used,
// with frames in it: "" otherwise, or when the store never saw its log.
func (w *fileWatch) leftLog() string {
	if w == nil {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gone == nil || !w.walSeen || !fileIDs {
		return ""
	}
	wal := w.path + "-wal"
	fi, err := os.Stat(wal)
	if err != nil || fi.Size() <= walHeaderBytes {
		return ""
	}
	if id, err := statID(wal); err != nil || id != w.wal {
		return ""
	}
	return wal
}

// compact rewrites the file without its free pages, then checkpoints the
// write-ahead log and truncates it.
func (sqliteDialect) compact() []string {
	return []string{"VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"}
}
