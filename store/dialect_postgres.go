package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also the database/sql driver "pgx"
)

// postgresDialect is PostgreSQL through pgx's database/sql driver: $n
// placeholders, the schema version in the table attnlab_schema, timestamps
// as timestamptz, text columns with the "C" collation (byte order, as
// SQLite's BINARY), READ COMMITTED transactions with row locks, claims with
// FOR UPDATE SKIP LOCKED, and migrations serialised by an advisory lock.
type postgresDialect struct{}

func (postgresDialect) engine() Engine         { return Postgres }
func (postgresDialect) rebind(q string) string { return rebindDollar(q) }
func (postgresDialect) ddl(m migration) string { return m.postgres }

func (postgresDialect) code(err error) errCode {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return codeBusy
		case "23503": // foreign_key_violation
			return codeForeignKey
		case "3D000": // invalid_catalog_name: the database does not exist
			return codeNoDatabase
		case "XX001", "XX002": // data_corrupted, index_corrupted
			return codeCorrupt
		case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return codeGone
		case "53300": // too_many_connections: the server (or the role's limit) is full for now
			return codeGone
		case "42501": // insufficient_privilege
			return codeDenied
		}
		if strings.HasPrefix(pe.Code, "08") { // connection_exception
			return codeGone
		}
		return codeOther
	}
	var na *noAnswerError
	if errors.As(err, &na) {
		return codeGone
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return codeCantOpen
	}
	// The end of the caller's context is the caller's, though
	// context.DeadlineExceeded passes for a net.Error and pgconn.Timeout
	// counts it.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return codeOther
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || pgconn.Timeout(err) ||
		strings.Contains(err.Error(), "conn closed") {
		return codeGone
	}
	return codeOther
}

// lockSchema takes a transaction-scoped advisory lock keyed by the
// application id, so that processes opening a new database at once
// migrate it one after the other.
func (postgresDialect) lockSchema(ctx context.Context, tx *Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(applicationID))
	return err
}

// noSchemaError: no schema of the search_path exists that the role may
// use (current_schema() is NULL), so the role sees no table at all: a
// store's would look like an empty database.
type noSchemaError struct{ searchPath string }

func (e *noSchemaError) Error() string {
	return "no schema of the search_path (" + e.searchPath + ") exists that the role may use"
}

func (postgresDialect) probe(ctx context.Context, q querier) (dbState, error) {
	var schema sql.NullString
	var path string
	if err := q.QueryRowContext(ctx, `SELECT current_schema()::text, current_setting('search_path')`).Scan(&schema, &path); err != nil {
		return dbState{}, err
	}
	if !schema.Valid {
		return dbState{}, &noSchemaError{searchPath: path}
	}
	// pg_class, not information_schema.tables: the latter lists only the
	// tables the role has rights on, so that a role without them took a
	// store for an empty database (and then failed to create it).
	rows, err := q.QueryContext(ctx, `SELECT c.relname::text FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
		ORDER BY c.relname::text COLLATE "C"`)
	if err != nil {
		return dbState{}, err
	}
	var tables []string
	ours := false
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return dbState{}, err
		}
		if n == "attnlab_schema" {
			ours = true
		}
		tables = append(tables, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return dbState{}, err
	}
	if len(tables) == 0 {
		return dbState{empty: true}, nil
	}
	if !ours {
		return dbState{tables: tables[:min(len(tables), 5)]}, nil
	}
	var app string
	var version int
	err = q.QueryRowContext(ctx, `SELECT application, version FROM attnlab_schema LIMIT 1`).Scan(&app, &version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return dbState{foreign: "attnlab_schema is empty", tables: tables[:min(len(tables), 5)]}, nil
	case err != nil:
		return dbState{}, err
	case app != "attnlab" || version < 1:
		return dbState{foreign: fmt.Sprintf("attnlab_schema says %q, version %d", app, version)}, nil
	}
	return dbState{ours: true, version: version}, nil
}

func (postgresDialect) stamp(ctx context.Context, tx *Tx, version int) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM attnlab_schema`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO attnlab_schema (application, version) VALUES ('attnlab', ?)`, version)
	return err
}

// now is the server's clock: every process that shares the database judges
// heartbeats by the same clock, whatever its own says.
func (postgresDialect) now(ctx context.Context, q querier) (time.Time, error) {
	var t time.Time
	err := q.QueryRowContext(ctx, `SELECT now()`).Scan(&t)
	return t.UTC(), err
}

func (postgresDialect) timeArg(t time.Time) any { return t.UTC() }
func (postgresDialect) nowSQL() (string, []any) { return "now()", nil }
func (postgresDialect) int64s() string {
	return `SELECT CAST(j.value AS BIGINT) FROM json_array_elements_text(CAST(? AS json)) AS j(value)`
}
func (postgresDialect) texts() string {
	return `SELECT j.value FROM json_array_elements_text(CAST(? AS json)) AS j(value)`
}
func (postgresDialect) hasPrefix(col string) string { return `starts_with(` + col + `, ?)` }
func (postgresDialect) prefixArgs(p string) []any   { return []any{p} }
func (postgresDialect) contains(col string) string  { return `strpos(` + col + `, ?) > 0` }
func (postgresDialect) number() string              { return "CAST(? AS DOUBLE PRECISION)" }
func (postgresDialect) pointText(key string) string {
	return "(CAST(r.point AS json) ->> '" + key + "')"
}
func (postgresDialect) infinite(col string) string {
	return `(` + col + ` = CAST(? AS DOUBLE PRECISION) OR ` + col + ` = CAST(? AS DOUBLE PRECISION))`
}
func (postgresDialect) skipLocked() string         { return " FOR UPDATE OF r SKIP LOCKED" }
func (postgresDialect) rowLock(mode string) string { return " FOR " + mode }
func (postgresDialect) typed(t string) string      { return "CAST(? AS " + t + ")" }
func (postgresDialect) storable(s string) bool     { return !strings.ContainsRune(s, 0) }

// copiedRows counts the metric rows bulkMetrics's COPYs wrote, as the
// server counts them: none for an aborted COPY (for tests).
var copiedRows atomic.Int64

// bulkMetrics sends the rows with COPY (pgx's CopyFrom) on the
// transaction's connection: one stream instead of an INSERT of 64 rows per
// round trip. COPY has no ON CONFLICT: the run must have none of the rows
// (Copy writes the rows of a run it has just created or emptied). An error
// of next aborts the COPY (pgx sends CopyFail, and the server answers with
// an error of its own, query_canceled) and is what bulkMetrics returns.
func (postgresDialect) bulkMetrics(ctx context.Context, tx *Tx, runID int64, n int64, next func() (metricRowRaw, bool, error)) (bool, error) {
	if tx.conn == nil {
		return false, nil
	}
	if n == 0 {
		return true, nil
	}
	err := tx.conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: PostgreSQL connection is a %T, not pgx's", driverConn)
		}
		var sent int64
		var nextErr error
		src := pgx.CopyFromFunc(func() ([]any, error) {
			m, ok, err := next()
			if err != nil {
				nextErr = err
				return nil, err // aborts the COPY
			}
			if !ok {
				return nil, nil
			}
			sent++
			var v any // NULL: NaN
			if m.value.Valid {
				v = m.value.Float64
			}
			return []any{runID, m.key, m.step, v, m.wall}, nil
		})
		copied, err := c.Conn().CopyFrom(tx.use(ctx), pgx.Identifier{"metrics"}, []string{"run_id", "key", "step", "value", "wall"}, src)
		copiedRows.Add(copied) // as the server counts them: none when aborted
		if nextErr != nil {
			// The server's error (COPY from stdin failed) only echoes it.
			return nextErr
		}
		if err == nil && (copied != sent || sent != n) {
			err = fmt.Errorf("store: COPY wrote %d metric rows of %d", copied, n)
		}
		return err
	})
	return true, err
}

// check: the server guards its own storage; there is no cheap whole-database
// check to run from a client.
func (postgresDialect) check(context.Context, querier) ([]string, error) { return nil, nil }

// openPostgres opens the store in the PostgreSQL database rawURL names (in
// its current schema: the first of the search_path, public by default).
// The password may be in the URL, in PGPASSWORD or in a pgpass file; sslmode
// and the other libpq parameters pass through to the driver. The database
// must exist (attnlab does not create databases); its tables are created on
// first use.
func openPostgres(ctx context.Context, rawURL string, mode openMode, wait time.Duration) (*Store, error) {
	name := Redact(rawURL)
	secrets := Secrets(rawURL)
	if _, err := url.Parse(rawURL); err != nil {
		return nil, &openError{text: "store " + name + ": not a valid PostgreSQL URL", kind: nil}
	}
	if _, rest, _ := strings.Cut(rawURL, "://"); strings.Count(rest, "@") > 1 {
		// url.Parse takes the last @ for the host's, the driver the first:
		// it would try a host named by the password's tail and print it.
		// Counted over the whole URL: a password may hold a / or ? too,
		// and no path or query of a PostgreSQL URL needs an @ (Redact
		// masks all before the last one).
		return nil, &openError{text: "store " + name + ": not a valid PostgreSQL URL: an @ in the user name or password must be written %40"}
	}
	cfg, err := pgx.ParseConfig(pgxURL(rawURL))
	if err != nil {
		return nil, &openError{text: Scrub("store "+name+": "+oneLine(err.Error()), secrets)}
	}
	db := stdlib.OpenDB(*cfg, stdlib.OptionShouldPing(shouldPing))
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	s := &Store{d: postgresDialect{}, target: rawURL, name: name, secrets: secrets, alive: pidAlive}
	s.db = handle{DB: db, d: s.d}
	pingCtx, cancel := context.WithTimeout(ctx, wait)
	err = s.db.PingContext(pingCtx)
	timedOut := errors.Is(pingCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	cancel()
	if err != nil {
		db.Close()
		if timedOut {
			return nil, &openError{text: Scrub(fmt.Sprintf("store %s: cannot connect: no answer within %s", name, wait), secrets)}
		}
		if s.d.code(err) == codeNoDatabase {
			return nil, &openError{text: Scrub("no attnlab database at "+name+" ("+pgMessage(err)+"; createdb makes it)", secrets), kind: ErrNoDatabase}
		}
		return nil, &openError{text: Scrub("store "+name+": cannot connect: "+connectMessage(err), secrets)}
	}
	st, err := s.d.probe(ctx, s.db)
	if err != nil {
		err = s.classify(err) // before Close: it may ask the server who we are
		db.Close()
		return nil, err
	}
	if err := s.identify(st, mode); err != nil {
		db.Close()
		return nil, err
	}
	if mode == modeReadOnly {
		if st.version < SchemaVersion {
			db.Close()
			return nil, openErr(name, nil, nil, "schema version %d is older than this attnlab's (%d); open it once read-write to migrate it", st.version, SchemaVersion)
		}
		s.readOnly = true
		return s, nil
	}
	if st.version != SchemaVersion {
		if err := s.migrate(ctx, SchemaVersion, mode); err != nil {
			db.Close()
			return nil, err
		}
	}
	return s, nil
}

// pgxURL returns the URL with its scheme in lower case: attnlab takes
// POSTGRES:// and PostgreSQL:// as PostgreSQL (URL schemes are
// case-insensitive), but pgx only knows the lower-case spellings and would
// read any other as a key=value string, connecting to the local socket as
// the login user.
func pgxURL(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL
	}
	return strings.ToLower(scheme) + "://" + rest
}

// shouldPing tells database/sql's pool to ping a connection before reusing
// it when it has been idle for over a second (pgx's default) or when the
// server has written to it or closed it since its last query (peerSpoke).
// A connection that the server terminated within the last second (a
// restart) would otherwise fail the query sent on it, and a dashboard page
// or a worker's poll with it, instead of being replaced by a new one.
//
// The peek reads the socket directly, which pgx allows only after SyncConn:
// pgx's background reader (started when a write takes over 15 ms) may still
// be waiting in a read on it, holding the socket's read lock until the
// server next writes, and the peek would wait as long. SyncConn returns at
// once when no such read is pending; otherwise it pings, which ends that
// read, and a ping that fails has the connection replaced.
func shouldPing(ctx context.Context, p stdlib.ShouldPingParams) bool {
	if p.IdleDuration > time.Second {
		return true
	}
	pc := p.Conn.PgConn()
	if err := pc.SyncConn(ctx); err != nil {
		return true
	}
	return peerSpoke(pc.Conn())
}

// pgMessage is the server's message of a PostgreSQL error, else the error.
func pgMessage(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	return oneLine(err.Error())
}

// compact marks the space of dead rows reusable (plain VACUUM: no
// exclusive lock, so running workers go on).
func (postgresDialect) compact() []string { return []string{"VACUUM"} }

// connectMessage is a connection error on one line. pgx reports each
// attempt on a line of its own, and sslmode=prefer (the default) makes two
// attempts that fail alike; a host that does not resolve adds the lookup's
// own error after the attempt that quotes it: a line said already, or
// inside one said already, is left out.
func connectMessage(err error) string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		l = oneLine(l)
		if l != "" && !slices.ContainsFunc(out, func(o string) bool { return strings.Contains(o, l) }) {
			out = append(out, l)
		}
	}
	return strings.Join(out, " ")
}
