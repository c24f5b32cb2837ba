package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Engine names the database engine behind a Store.
type Engine string

// The engines a Store runs on.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// EngineOf tells which engine a --db value names: a postgres:// or
// postgresql:// URL (the scheme in any case) is PostgreSQL, anything else a
// SQLite file path — but Open refuses a libpq key=value connection string
// ("host=… password=…") rather than create a file of that name.
func EngineOf(target string) Engine {
	if isPostgresURL(target) {
		return Postgres
	}
	return SQLite
}

func isPostgresURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// libpqKeywords are the keywords of a libpq connection string
// (PostgreSQL 17's "Parameter Key Words"), as libpq spells them.
var libpqKeywords = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "password": true,
	"passfile": true, "require_auth": true, "channel_binding": true, "connect_timeout": true,
	"client_encoding": true, "options": true, "application_name": true, "fallback_application_name": true,
	"keepalives": true, "keepalives_idle": true, "keepalives_interval": true, "keepalives_count": true,
	"tcp_user_timeout": true, "replication": true, "gssencmode": true, "sslmode": true, "requiressl": true,
	"sslnegotiation": true, "sslcompression": true, "sslcert": true, "sslkey": true, "sslpassword": true,
	"sslcertmode": true, "sslrootcert": true, "sslcrl": true, "sslcrldir": true, "sslsni": true,
	"requirepeer": true, "ssl_min_protocol_version": true, "ssl_max_protocol_version": true,
	"krbsrvname": true, "gsslib": true, "gssdelegation": true, "service": true,
	"target_session_attrs": true, "load_balance_hosts": true,
}

// conninfoSetting is one setting of a libpq connection string at the start
// of the text: a keyword, '=' (spaces around it allowed) and a value, single-
// quoted (with backslash escapes) or up to the next white space.
var conninfoSetting = regexp.MustCompile(`^([a-z_]+)[ \t\n\r\f\v]*=[ \t\n\r\f\v]*('(?:[^'\\]|\\.)*'|[^ \t\n\r\f\v']*)(?:[ \t\n\r\f\v]+|$)`)

// conninfoURL reports whether target, given where a file path is expected,
// is a libpq key=value connection string ("host=db user=lab
// password=… dbname=lab") and not a file name, and returns the postgres://
// URL it means, with any password masked, to suggest instead. The rule:
// the whole of target (less surrounding white space) is a sequence of
// settings KEYWORD=VALUE separated by white space, every KEYWORD one of
// libpq's, and there are at least two settings — or one that is a
// password or sslpassword. So "host=a user=b", "password=x" and
// "dbname=lab port=5432" are refused, while "runs.db", "a=b.db",
// "host=gpu1.db", "host=gpu1/runs.db" (a directory named the Hive way),
// "my runs.db" and "x/host=a user=b" (its first word is not a keyword)
// stay file names.
func conninfoURL(target string) (string, bool) {
	rest := strings.TrimSpace(target)
	if rest == "" {
		return "", false
	}
	settings := map[string]string{}
	var keys []string
	for rest != "" {
		m := conninfoSetting.FindStringSubmatch(rest)
		if m == nil || !libpqKeywords[m[1]] {
			return "", false
		}
		v := m[2]
		if strings.HasPrefix(v, "'") {
			v = strings.NewReplacer(`\'`, "'", `\\`, `\`).Replace(v[1 : len(v)-1])
		}
		if _, dup := settings[m[1]]; !dup {
			keys = append(keys, m[1])
		}
		settings[m[1]] = v
		rest = rest[len(m[0]):]
	}
	_, pw := settings["password"]
	_, sslpw := settings["sslpassword"]
	if len(keys) < 2 && !pw && !sslpw {
		return "", false
	}
	u := url.URL{Scheme: "postgres"}
	q := url.Values{}
	host := settings["host"]
	switch {
	case strings.HasPrefix(host, "/"): // a socket directory
		q.Set("host", host)
		host = ""
	case strings.Contains(host, ":") && !strings.Contains(host, ","): // IPv6
		host = "[" + host + "]"
	}
	if p := settings["port"]; p != "" && host != "" {
		host += ":" + p
	} else if p != "" {
		q.Set("port", p)
	}
	u.Host = host
	switch {
	case pw:
		u.User = url.UserPassword(settings["user"], "xxxxx")
	case settings["user"] != "":
		u.User = url.User(settings["user"])
	}
	if db := settings["dbname"]; db != "" {
		u.Path = "/" + db
	}
	for _, k := range keys {
		switch k {
		case "host", "port", "user", "password", "dbname":
		case "sslpassword":
			q.Set(k, "xxxxx")
		default:
			q.Set(k, settings[k])
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), true
}

// urlScheme matches what starts a URL: a scheme of two characters or more
// (a Windows drive letter is one) and a colon.
var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]+:`)

// strayPassword returns where the password of target lies when target,
// not a postgres:// URL, still holds one the way a URL does: between the
// first ':' after any scheme (and its slashes) and the last '@'
// ("postgress://lab:pw@db", "postgres:lab:pw@db", "postgres//lab:pw@db").
func strayPassword(target string) (start, end int, ok bool) {
	at := strings.LastIndexByte(target, '@')
	if at < 0 {
		return 0, 0, false
	}
	from := len(urlScheme.FindString(target))
	for from < at && target[from] == '/' {
		from++
	}
	i := strings.IndexByte(target[from:at], ':')
	if i < 0 {
		return 0, 0, false
	}
	return from + i + 1, at, true
}

// strayUserinfo matches a user:password@ where a URL has it and a path
// does not: in the first element of the target ("postgres:lab:pw@db"), or
// in the one after a leading "word//" ("postgres//lab:pw@db/lab").
var strayUserinfo = regexp.MustCompile(`^(?:[^/]*:|[^/:]*//)[^/]*@`)

// mistypedURL reports whether target, given where a file path is expected
// and not a postgres:// URL, is a URL all the same: a scheme followed by
// '/' (postgress://, postgres:/, pg://, sqlite:///) or a user:password@host
// where a URL has it (postgres:lab:pw@db, postgres//lab:pw@db). Taken for a
// file name, a mistyped PostgreSQL URL became a SQLite file named with its
// password (or an error about a missing directory that printed it).
// "runs.db", "C:/runs.db", "a@b.db", "x:y.db" and "/a/b:c@d.db" stay file
// names.
func mistypedURL(target string) bool {
	if isPostgresURL(target) {
		return false
	}
	if m := urlScheme.FindString(target); m != "" && strings.HasPrefix(target[len(m):], "/") {
		return true
	}
	_, _, ok := strayPassword(target)
	return ok && strayUserinfo.MatchString(target)
}

// secretParams are the parameters of a PostgreSQL URL that carry secrets:
// the password and the passphrase of an encrypted client key.
var secretParams = []string{"password", "sslpassword"}

// Redact returns target fit to print: a PostgreSQL URL with its password
// (and any password= or sslpassword= parameter) replaced by xxxxx; a
// SQLite path as is.
func Redact(target string) string {
	if !isPostgresURL(target) {
		// Not a PostgreSQL URL; a libpq "host=… password=…" string or a
		// mistyped URL given by mistake (Open refuses both: see
		// conninfoURL and mistypedURL) is still masked.
		if start, end, ok := strayPassword(target); ok && mistypedURL(target) {
			target = target[:start] + "xxxxx" + target[end:]
		}
		return pgSetting.ReplaceAllString(target, "${1}=xxxxx")
	}
	u, err := url.Parse(target)
	if scheme, rest, _ := strings.Cut(target, "://"); err != nil || strings.Count(rest, "@") > 1 {
		// Unparseable, or an @ in the password (which Open refuses):
		// keep the scheme and what follows the last @ only.
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			rest = "xxxxx@" + rest[at+1:]
		}
		return scheme + "://" + rest
	}
	q := u.Query()
	changed := false
	for k := range q {
		for _, secret := range secretParams {
			if strings.EqualFold(k, secret) { // libpq's keys are case-insensitive here too
				q.Set(k, "xxxxx")
				changed = true
			}
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	out := u.Redacted()
	if scheme, rest, ok := strings.Cut(out, ":"); ok && !strings.HasPrefix(rest, "//") {
		out = scheme + "://" + rest // url.URL drops an empty authority: postgres:// would print as postgres:
	}
	return out
}

// WithoutPassword returns the PostgreSQL URL target without its password
// (the user's, and any password= parameter), for a command line that a
// message suggests: with the password in PGPASSWORD or a pgpass file it
// reaches the same database, and it shows nothing secret. ok is false when
// target is not a PostgreSQL URL, cannot be parsed, or carries another
// secret (sslpassword=) that the result would lack.
func WithoutPassword(target string) (bare string, ok bool) {
	if !isPostgresURL(target) {
		return "", false
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", false
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.User(u.User.Username())
		}
	}
	q := u.Query()
	changed := false
	for k := range q {
		if strings.EqualFold(k, "password") {
			q.Del(k)
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	bare = u.String()
	if len(Secrets(bare)) > 0 {
		return "", false
	}
	return bare, true
}

// Secrets returns the secret strings target carries — the URL's password
// and password= and sslpassword= parameters — so that callers can scrub
// them from any text they print. A SQLite path has none.
func Secrets(target string) []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s, url.QueryEscape(s), url.PathEscape(s))
		}
	}
	if !isPostgresURL(target) {
		if start, end, ok := strayPassword(target); ok && mistypedURL(target) {
			add(target[start:end])
		}
		for _, m := range pgSetting.FindAllStringSubmatch(target, -1) {
			_, v, _ := strings.Cut(m[0], "=")
			add(strings.Trim(strings.TrimSpace(v), "'"))
		}
		return out
	}
	if u, err := url.Parse(target); err == nil && strings.Count(target, "@") < 2 {
		if p, ok := u.User.Password(); ok {
			add(p)
		}
		for k, vs := range u.Query() {
			for _, secret := range secretParams {
				if strings.EqualFold(k, secret) {
					for _, v := range vs {
						add(v)
					}
				}
			}
		}
		return out
	}
	// Unparseable, or an @ in the password: everything between the first
	// ':' and the last '@'.
	_, rest, _ := strings.Cut(target, "://")
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
			add(pw)
		}
	}
	return out
}

// Scrub replaces every secret in s by xxxxx. A secret of 8 bytes or more
// is replaced wherever it appears; one of 4 to 7 only where it is not part
// of a longer word (a password "conn" leaves "connect" alone); one of 1 to
// 3 bytes ("1", "to", ":") is not looked for in free text at all, where
// it would mask host names, ports and words and give itself away by the
// pattern — the URLs that carry it are redacted by their structure
// (redactText, which Scrub applies to every PostgreSQL URL in s, with every
// password= or sslpassword= setting; it changes nothing else of the URL's
// text, %q's escapes included), and no driver message repeats a password.
func Scrub(s string, secrets []string) string {
	if len(secrets) > 0 {
		s = pgURL.ReplaceAllStringFunc(s, func(u string) string {
			// Punctuation that ends a sentence or an error's prefix
			// ("store postgres://…: cannot connect") is the text's, not
			// the URL's: Redact would encode it into the query.
			body := strings.TrimRight(u, ":,.;")
			return redactText(body) + u[len(body):]
		})
		s = pgSetting.ReplaceAllStringFunc(s, func(m string) string {
			key, value, _ := strings.Cut(m, "=")
			if v := strings.TrimSpace(value); strings.HasPrefix(v, "xxxxx") && strings.Trim(v[5:], ":,.;`") == "" {
				return m // masked already (a URL's setting), before the text's punctuation
			}
			return strings.TrimSpace(key) + "=xxxxx"
		})
	}
	for _, p := range quotedToo(secrets) {
		switch {
		case len(p) < 4:
			// Only where it is a URL's password (one the URL pattern above
			// stopped short of, at a quote or a bracket in the password).
			s = strings.ReplaceAll(s, ":"+p+"@", ":xxxxx@")
		case len(p) >= 8:
			s = strings.ReplaceAll(s, p, "xxxxx")
		default:
			s = scrubWord(s, p)
		}
	}
	return s
}

// redactText is Redact for a PostgreSQL URL as it appears in free text,
// perhaps escaped by %q ("db/x\\y") or not a valid URL: it masks the
// password after the user (the text between the first ':' and the '@' of
// the authority) and the values of password= and sslpassword=
// settings, and leaves every other byte as it was — Redact re-renders the
// URL, escaping what it holds (\ as %5C) and sorting its query.
func redactText(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	head, rest := u[:i+3], u[i+3:]
	// The authority ends at the first '/', '?' or '#', as url.Parse
	// reads it; with several '@' (an '@' in the password, which Open
	// refuses) the password ends at the last one, as Redact takes it.
	at := strings.LastIndexByte(rest, '@')
	if strings.Count(rest, "@") == 1 {
		if end := strings.IndexAny(rest, "/?#"); end >= 0 && end < at {
			at = -1
		}
	}
	if at >= 0 {
		if user, _, ok := strings.Cut(rest[:at], ":"); ok {
			head += user + ":xxxxx@"
			rest = rest[at+1:]
		}
	}
	q := strings.IndexByte(rest, '?')
	if q < 0 {
		return head + rest
	}
	query, frag, hasFrag := strings.Cut(rest[q+1:], "#")
	items := strings.Split(query, "&")
	for j, item := range items {
		key, _, ok := strings.Cut(item, "=")
		if !ok {
			continue
		}
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		for _, secret := range secretParams {
			if strings.EqualFold(key, secret) {
				items[j] = item[:strings.IndexByte(item, '=')+1] + "xxxxx"
			}
		}
	}
	out := head + rest[:q+1] + strings.Join(items, "&")
	if hasFrag {
		out += "#" + frag
	}
	return out
}

var (
	// pgURL matches a PostgreSQL URL in free text, up to white space or a
	// quote or bracket.
	pgURL = regexp.MustCompile("(?i)postgres(?:ql)?://[^\\s'\"`<>()\\[\\]]+")
	// pgSetting matches a secret key=value setting of a libpq connection
	// string ("password=hunter2").
	pgSetting = regexp.MustCompile(`(?i)\b((?:ssl)?password)\s*=\s*(?:'(?:[^'\\]|\\.)*'|[^\s&'"]+)`)
)

// quotedToo is secrets with, after each that %q escapes (a '"' or '\'
// in a password), its escaped form: an error quotes what the user gave
// (--sbatch-arg "...ATTNLAB_DB=postgres://lab:pa\"ss@db/x"), where the
// URL pattern stops at the escaped quote and the secret is not found as
// it is.
func quotedToo(secrets []string) []string {
	out := secrets
	for _, p := range secrets {
		if q := strconv.Quote(p); q[1:len(q)-1] != p {
			if len(out) == len(secrets) {
				out = append([]string(nil), secrets...)
			}
			out = append(out, q[1:len(q)-1])
		}
	}
	return out
}

// scrubWord replaces the occurrences of p in s that no letter, digit or
// underscore touches on a side where p itself begins or ends with one.
func scrubWord(s, p string) string {
	var b strings.Builder
	first, _ := utf8.DecodeRuneInString(p)
	last, _ := utf8.DecodeLastRuneInString(p)
	i := 0
	for {
		j := strings.Index(s[i:], p)
		if j < 0 {
			break
		}
		j += i
		before, _ := utf8.DecodeLastRuneInString(s[:j])
		after, _ := utf8.DecodeRuneInString(s[j+len(p):])
		if (j == 0 || !isWord(first) || !isWord(before)) && (j+len(p) == len(s) || !isWord(last) || !isWord(after)) {
			b.WriteString(s[i:j])
			b.WriteString("xxxxx")
			i = j + len(p)
			continue
		}
		_, size := utf8.DecodeRuneInString(s[j:])
		b.WriteString(s[i : j+size])
		i = j + size
	}
	b.WriteString(s[i:])
	return b.String()
}

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// dialect is everything that differs between the engines. Each engine has
// one file: dialect_sqlite.go and dialect_postgres.go. The rest of the
// package writes its SQL once, with '?' placeholders, in the subset both
// engines share (INSERT … ON CONFLICT … DO UPDATE, RETURNING, FILTER), and
// asks the dialect for the rest.
type dialect interface {
	// engine names the engine.
	engine() Engine
	// rebind turns the package's '?' placeholders into the engine's.
	rebind(query string) string
	// code classifies a driver error.
	code(err error) errCode
	// ddl returns migration m's text for this engine.
	ddl(m migration) string
	// lockSchema serialises migrations between processes; it runs first
	// in the migration's transaction.
	lockSchema(ctx context.Context, tx *Tx) error
	// probe reads what the database holds: its schema version and whether
	// it is attnlab's.
	probe(ctx context.Context, q querier) (dbState, error)
	// stamp records version as the schema version (inside the migration).
	stamp(ctx context.Context, tx *Tx, version int) error
	// now reads the database's clock (the local clock for SQLite).
	now(ctx context.Context, q querier) (time.Time, error)
	// nowSQL is the clock now as SQL: an expression, or a placeholder and
	// its argument.
	nowSQL() (string, []any)
	// timeArg is how a timestamp is bound.
	timeArg(t time.Time) any
	// int64s and texts are subqueries that select the elements of a JSON
	// array bound to their one placeholder (as column value).
	int64s() string
	texts() string
	// hasPrefix is a condition that col starts with the text bound to
	// its placeholders; prefixArgs returns those arguments.
	hasPrefix(col string) string
	prefixArgs(prefix string) []any
	// contains is a condition that col contains the text bound to its
	// one placeholder, compared byte for byte (case counts).
	contains(col string) string
	// infinite is a condition that col may hold +Inf or −Inf, with two
	// placeholders bound to them: on SQLite also any TEXT value (a
	// hand-written 'Inf', which database/sql reads as +Inf), so the
	// caller tests each value read.
	infinite(col string) string
	// pointText is the text of key at the top of a run's sweep point
	// (r.point, JSON), NULL when it has none.
	pointText(key string) string
	// number is the placeholder for a float64 compared with a numeric
	// column (PostgreSQL needs the type spelled out).
	number() string
	// storable reports whether the engine can hold text s (PostgreSQL's
	// text cannot contain NUL).
	storable(s string) bool
	// skipLocked ends a SELECT that claims a queued row: rows other
	// transactions are claiming are skipped, the one returned is locked.
	skipLocked() string
	// rowLock ends a SELECT whose rows must not change until the
	// transaction (or statement) ends: " FOR "+mode (SHARE, UPDATE, or
	// SHARE OF t for the rows of table t alone in a join) on
	// PostgreSQL, whose READ COMMITTED otherwise lets another transaction
	// commit a change between two statements; nothing on SQLite, whose
	// write transactions already hold the one write lock.
	rowLock(mode string) string
	// typed is a placeholder of SQL type t where PostgreSQL cannot infer
	// the type (the select list of INSERT … SELECT).
	typed(t string) string
	// check runs the engine's integrity check and returns its problems.
	check(ctx context.Context, q querier) ([]string, error)
	// compact returns the statements that give the space of removed rows
	// back to the file system, run outside a transaction.
	compact() []string
	// bulkMetrics writes a new run's metric rows (none of which it has),
	// the n rows next gives, inside tx by the engine's bulk path, and
	// reports false, having called next never, when the engine has none
	// (the caller then INSERTs them). An error of next ends the writing
	// at once, undone (the caller rolls tx back), and is returned as is.
	bulkMetrics(ctx context.Context, tx *Tx, runID int64, n int64, next func() (metricRowRaw, bool, error)) (bool, error)
}

// dbState is what probe found.
type dbState struct {
	empty   bool     // no tables at all: a new database
	ours    bool     // attnlab's marks are there
	version int      // schema version, when ours
	tables  []string // up to 5 table names, when not ours
	foreign string   // what marks it as someone else's, when not ours
}

// handle is the store's *sql.DB: the same methods, with the package's '?'
// placeholders rebound for the engine. Queries written by other parts of
// the package (and by tests) go through it unchanged on both engines.
type handle struct {
	*sql.DB
	d dialect
}

// ExecContext is sql.DB's, with the query rebound.
func (h handle) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return h.DB.ExecContext(ctx, h.d.rebind(q), args...)
}

// QueryContext is sql.DB's, with the query rebound.
func (h handle) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return h.DB.QueryContext(ctx, h.d.rebind(q), args...)
}

// QueryRowContext is sql.DB's, with the query rebound.
func (h handle) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return h.DB.QueryRowContext(ctx, h.d.rebind(q), args...)
}

// Exec is sql.DB's, with the query rebound.
func (h handle) Exec(q string, args ...any) (sql.Result, error) {
	return h.ExecContext(context.Background(), q, args...)
}

// Query is sql.DB's, with the query rebound.
func (h handle) Query(q string, args ...any) (*sql.Rows, error) {
	return h.QueryContext(context.Background(), q, args...)
}

// QueryRow is sql.DB's, with the query rebound.
func (h handle) QueryRow(q string, args ...any) *sql.Row {
	return h.QueryRowContext(context.Background(), q, args...)
}

// boundHandle is a handle whose statements all run under ctx, whatever
// context their caller passes: retry's context for one try, so that a
// try's deadline holds for the statements of a function written against
// its caller's context.
type boundHandle struct {
	handle
	ctx context.Context
}

func (h boundHandle) ExecContext(_ context.Context, q string, args ...any) (sql.Result, error) {
	return h.handle.ExecContext(h.ctx, q, args...)
}

func (h boundHandle) QueryContext(_ context.Context, q string, args ...any) (*sql.Rows, error) {
	return h.handle.QueryContext(h.ctx, q, args...)
}

func (h boundHandle) QueryRowContext(_ context.Context, q string, args ...any) *sql.Row {
	return h.handle.QueryRowContext(h.ctx, q, args...)
}

// begin starts a transaction: IMMEDIATE on SQLite (the DSN's _txlock),
// READ COMMITTED on PostgreSQL. On PostgreSQL the transaction holds its
// connection as a *sql.Conn, for the driver's own calls (COPY) inside it.
func (h handle) begin(ctx context.Context) (*Tx, error) {
	if h.d.engine() != Postgres {
		tx, err := h.DB.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		return &Tx{Tx: tx, d: h.d}, nil
	}
	conn, err := h.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &Tx{Tx: tx, d: h.d, conn: conn, ctx: ctx}, nil
}

// Tx is a transaction of the store: sql.Tx's methods with the package's
// '?' placeholders rebound for the engine.
type Tx struct {
	*sql.Tx
	d    dialect
	conn *sql.Conn // the transaction's connection (PostgreSQL), released at its end
	// ctx, when set (PostgreSQL), is the context every statement of the
	// transaction runs under, whatever its caller passes: the one of the
	// try (see retry), whose deadline must also end a statement that hangs.
	ctx context.Context
}

// use returns the context a statement runs under.
func (t *Tx) use(ctx context.Context) context.Context {
	if t.ctx != nil {
		return t.ctx
	}
	return ctx
}

// Commit is sql.Tx's; it releases the transaction's connection.
func (t *Tx) Commit() error {
	err := t.Tx.Commit()
	t.release()
	return err
}

// Rollback is sql.Tx's; it releases the transaction's connection.
func (t *Tx) Rollback() error {
	err := t.Tx.Rollback()
	t.release()
	return err
}

func (t *Tx) release() {
	if t.conn != nil {
		t.conn.Close()
		t.conn = nil
	}
}

// ExecContext is sql.Tx's, with the query rebound.
func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(t.use(ctx), t.d.rebind(q), args...)
}

// QueryContext is sql.Tx's, with the query rebound.
func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(t.use(ctx), t.d.rebind(q), args...)
}

// QueryRowContext is sql.Tx's, with the query rebound.
func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(t.use(ctx), t.d.rebind(q), args...)
}

// PrepareContext is sql.Tx's, with the query rebound.
func (t *Tx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.Tx.PrepareContext(t.use(ctx), t.d.rebind(q))
}

// dollarCache holds queries rebound to $n placeholders.
var dollarCache sync.Map // string → string

// rebindDollar rewrites '?' placeholders as $1, $2, … outside quoted text
// ('…', "…") and comments, as PostgreSQL wants them.
func rebindDollar(q string) string {
	if v, ok := dollarCache.Load(q); ok {
		return v.(string)
	}
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) && q[j] != c {
				j++
			}
			b.WriteString(q[i:min(j+1, len(q))])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j - 1
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	if len(q) < 64<<10 {
		dollarCache.Store(q, out)
	}
	return out
}

// dbTime scans a timestamp column of either engine: TEXT on SQLite
// ("2006-01-02T15:04:05.000000Z", or with milliseconds in older files),
// timestamptz on PostgreSQL. NULL is the
// zero time; times are in UTC.
type dbTime struct{ time.Time }

// Scan implements sql.Scanner.
func (t *dbTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.Time = time.Time{}
	case time.Time:
		t.Time = v.UTC()
	case string:
		t.Time = parseTime(v)
	case []byte:
		t.Time = parseTime(string(v))
	default:
		t.Time = time.Time{}
	}
	return nil
}

// snapshot is a read-only transaction that sees one state of the database
// for all its queries, whatever commits meanwhile: on PostgreSQL REPEATABLE
// READ READ ONLY; on SQLite a deferred transaction (BEGIN, not the
// IMMEDIATE of the store's writes, so it takes no write lock), whose first
// read fixes its view of the WAL. Copy reads each source run through one,
// so that a run requeued, truncated or removed while it is read reaches
// the target whole as it was, never mixed or cut. Its queries run under
// the context given to beginSnapshot.
type snapshot struct {
	conn *sql.Conn
	tx   *sql.Tx // PostgreSQL; on SQLite the transaction is the connection's
	d    dialect
	ctx  context.Context
}

// beginSnapshot begins a snapshot on a connection of its own; the caller
// ends it with end.
func (h handle) beginSnapshot(ctx context.Context) (*snapshot, error) {
	conn, err := h.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	sn := &snapshot{conn: conn, d: h.d, ctx: ctx}
	if h.d.engine() == Postgres {
		sn.tx, err = conn.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	} else {
		// The driver's BeginTx would send the DSN's BEGIN IMMEDIATE.
		_, err = conn.ExecContext(ctx, "BEGIN DEFERRED")
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return sn, nil
}

// end ends the snapshot (it wrote nothing: a rollback) and releases its
// connection; a connection whose transaction could not be ended is
// discarded, not given back to the pool.
func (sn *snapshot) end() {
	var err error
	if sn.tx != nil {
		err = sn.tx.Rollback()
	} else {
		_, err = sn.conn.ExecContext(context.Background(), "ROLLBACK")
	}
	if err != nil {
		_ = sn.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	sn.conn.Close()
}

// QueryContext is sql.Tx's, with the query rebound, under the snapshot's
// context.
func (sn *snapshot) QueryContext(_ context.Context, q string, args ...any) (*sql.Rows, error) {
	if sn.tx != nil {
		return sn.tx.QueryContext(sn.ctx, sn.d.rebind(q), args...)
	}
	return sn.conn.QueryContext(sn.ctx, sn.d.rebind(q), args...)
}

// QueryRowContext is sql.Tx's, with the query rebound, under the
// snapshot's context.
func (sn *snapshot) QueryRowContext(_ context.Context, q string, args ...any) *sql.Row {
	if sn.tx != nil {
		return sn.tx.QueryRowContext(sn.ctx, sn.d.rebind(q), args...)
	}
	return sn.conn.QueryRowContext(sn.ctx, sn.d.rebind(q), args...)
}
