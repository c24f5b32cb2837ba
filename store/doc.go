// Package store is attnlab's run database: experiments, their runs, each
// run's params, metric history, summaries and artifacts (checkpoints, final
// weights, samples, attention maps). It runs on two engines with one schema:
// a SQLite file (WAL mode) on one machine, or a PostgreSQL database that
// many machines share. The executor and workers (package runs) write it;
// reports and the CLI read it. The package imports no other attnlab package.
//
// # Opening
//
// The target is a file path or a postgres:// (postgresql://) URL, its
// scheme in any case (it reaches the driver in lower case); EngineOf tells
// which. A libpq key=value connection string ("host=db user=lab
// password=… dbname=lab": at least two settings, every key one of libpq's,
// or a password= alone) is refused with the URL it means, its password
// masked: taken for a file name, it would create a SQLite file named with
// the password. So is a mistyped URL: another scheme followed by '/'
// (postgress://, postgres:/, pg://) or a user:password@ where a URL has it
// (postgres:lab:pw@db). Open creates what is missing (the SQLite file; the tables in
// an existing PostgreSQL database, in its current schema — the first of the
// URL's search_path, public by default); OpenExisting never creates
// anything and is what read-only commands use; OpenReadOnly never writes.
// Opening waits 30 s for a PostgreSQL server to answer; OpenReadOnlyWithin
// waits less, for a command that can go on without it (a dry run).
// An older schema is migrated forward on open, in one transaction; a newer
// one is refused ("store x.db: schema version 7 is newer than this attnlab
// supports (5); upgrade attnlab"); a file that is not a SQLite database, or
// a database another program made, gives a one-line error naming it
// (ErrNotStore).
//
// SQLite: an existing file is first probed through a read-only connection
// with no pragma that writes, so another program's file is refused without
// a byte changed (not even switched to WAL mode). Only a file that is
// attnlab's (or new) is then opened read-write with journal_mode=WAL,
// synchronous=NORMAL, busy_timeout=10000, foreign_keys=on and every
// transaction BEGIN IMMEDIATE. A file this process may not write, or in a
// directory it may not write, is opened read-only (mode=ro; immutable when
// the directory cannot hold the -shm file and no -wal file shows a writer).
// A failed open leaves the directory as it was. The read-only probe of a
// WAL file makes its -wal and -shm files, and a read-only connection
// cannot remove them as it closes; so when neither was there before, a
// failed open opens the file read-write once more (query_only, no pragma
// that writes) and closes it, and SQLite removes them as the last
// connection to a database does: under an EXCLUSIVE lock on the file,
// which it gets only while no other connection of any process has it
// open, after a checkpoint (of an empty log: nothing is done once another
// connection committed into the -wal since, whose pages the checkpoint
// would write into the file). Close does the same for a store opened
// read-only (OpenReadOnly, on a file this user may write) where neither
// file was: its connections made them. Both look beside the file a
// symbolic link names, where SQLite keeps them; off unix, where a replaced
// file cannot be told (no device and inode), neither does anything. The
// store never deletes a -wal or
// -shm file itself: a -wal may hold committed transactions that no
// checkpoint copied yet, and another process may be opening it. Left as
// they are: the -shm the probe makes beside a -wal that was there without
// one (a database copied with its log: removing the pair would first
// checkpoint that log into a file being refused); both, when the path
// names another file by the end of the open (SQLite would apply the first
// file's log to it); both, when another connection committed into the
// -wal meanwhile (as a read-only connection leaves them); and both (the
// -wal empty), when this user may not write the file but may write its
// directory — only a connection that can write the file removes them, and
// they are this user's, created with the file's mode, so the file's owner
// cannot write them (its writes fail, "attempt to write a readonly
// database", until they are deleted while no process has the file open).
// The schema version is PRAGMA user_version and PRAGMA application_id is
// 0x61746e6c ("atnl"). While open, the store watches the file: each write
// checks, before it begins and after it commits, that the path still names
// the file it opened (device and inode), and fails with ErrDatabaseGone once
// it was deleted or replaced — SQLite would go on writing into the unlinked
// file and every result would be lost. Gone asks the same of a store that
// only reads (one stat): SQLite keeps the old file open but opens its -wal
// and -shm by name, so a reader of a replaced file gets stale pages, then
// "database disk image is malformed". A long-lived reader (attnlab serve)
// calls it before using the store and opens the path anew once it is
// non-nil. (Closing the old store is safe: SQLite checkpoints and deletes
// the -wal file on close only while the database file is unmoved.) For the
// same reason a log the old file's writers left beside the path is not
// deleted by anyone, and SQLite would apply it to the next file opened at
// the path: LeftLog names it while it is there (the reader must not open
// the path until it is moved away).
//
// PostgreSQL (pgx's database/sql driver): the URL's parameters (sslmode and
// the other libpq parameters) pass through to the driver; the password comes
// from the URL, PGPASSWORD or a pgpass file. The database must exist. The
// schema version is the table attnlab_schema (application 'attnlab',
// version); a schema with other tables and no attnlab_schema is someone
// else's and is refused untouched. A role that lacks the rights
// to use an existing store's tables (or to create them) gets one line
// naming the role and the database, not "no tables". Migrations take an advisory lock, so
// processes opening a new database at once create it once.
//
// Passwords are never printed: every error of this package and Path() show
// the URL with its password masked (Redact); Secrets lists what a caller
// must scrub from its own output.
//
// # Dialects
//
// The SQL is written once, with '?' placeholders, in the subset both
// engines share (INSERT … ON CONFLICT … DO UPDATE, RETURNING, FILTER,
// EXISTS). What differs lives in one file per engine, dialect_sqlite.go and
// dialect_postgres.go: placeholders ($n), the migrations' DDL, how the
// schema version is kept, errors (busy, foreign keys), the clock,
// timestamps, id and name lists bound as one JSON parameter, hash-prefix
// and substring matching, the ±Inf test, the --where compiler's number
// placeholders, and the claim's row locking. The store's *sql.DB and
// transactions (handle, Tx) rebind every query, so code of the package
// that calls s.db or tx methods is portable.
//
// # Concurrency and locking
//
// Any number of goroutines and processes may share a database. Writes are
// short transactions retried with jittered backoff on contention; reads are
// autocommit queries. SQLite: one writer at a time (BEGIN IMMEDIATE, retried
// on SQLITE_BUSY after the 10 s busy timeout; after 8 retries, about 90 s,
// the error names the database and how long it waited; OnBusy lets a
// command say, once, that it is waiting). PostgreSQL: READ COMMITTED;
// a write of one statement (a heartbeat, an artifact, a metric flush of one
// INSERT) runs in autocommit, one round trip instead of three; a claim locks the run's row (SELECT … FOR UPDATE SKIP LOCKED, so
// concurrent claimers never wait for each other); serialization
// failures and deadlocks are retried.
//
// Outages (PostgreSQL): once a store has opened, a write whose connection
// breaks, whose server refuses connections (or has too many) or is shutting down (a restart,
// a failover) or that gets no answer within attemptTimeout (2 min; a
// partition, on a connection the kernel would hold for a quarter of an
// hour) is retried with backoff until the server answers again, for up to
// outageBudget (2 min) — then it fails with ErrUnavailable. The budget is
// the outage's, not each write's: the writes that follow one another
// through one outage share it, so once it is spent the next fail at their
// first refused try instead of waiting 2 minutes each (until a try reaches
// the server, or none has been made for outageGap, 30 s). OnOutage tells
// a caller when an outage begins and ends (a worker prints both; an outage
// that ended untried, the writes having given up, is told ended before
// the next begins), without the store's locks held;
// SetOutageBudget changes the budget. Repeating a
// try whose commit reached the server is harmless: metric, summary,
// parameter and artifact writes are upserts, and run transitions are
// guarded by the owner and status. (A claim whose commit was applied but
// whose answer was lost leaves that run running under a live owner that
// does not know it holds it: it is taken over, as a lost attempt, once its
// heartbeat is stale.) Opening a store is not retried: a wrong address
// fails at once. Nor are most reads (the queries of ls, compare, serve): a
// read during an outage fails with the driver's error (Unreachable tells
// such an error: serve answers 503 for it). The exceptions are
// the polls of a worker's idle loop, Queue and Held, retried as writes
// are, so that a worker waiting for queued runs outlives a restart. Once
// the server is back, a query is not sent on a connection it closed while
// idle: the pool pings an idle connection before reusing it when it has
// idled for a second or (on Unix but AIX; elsewhere only the second
// counts) when its socket shows that the server wrote to it or closed it
// (shouldPing), and replaces it if the ping fails.
//
// # Clocks
//
// Heartbeats, claims and the created/started/finished times are written
// and judged by the database's clock: PostgreSQL's now(), and for SQLite,
// which has no server, this machine's clock. So workers on machines whose
// clocks disagree still agree on which run is stale. metrics.wall is the
// logging process's own clock.
//
// # Run lifecycle
//
// EnsureRuns (or Submit, which also records the experiment, in the same
// transaction) inserts the missing runs of an experiment as queued. Claim
// takes one given run; ClaimNext takes the next run of the queue (the
// lowest id that a QueueFilter selects; on PostgreSQL with FOR UPDATE SKIP
// LOCKED, so that concurrent claimers take different runs without waiting;
// on SQLite the IMMEDIATE transactions take turns). Both move a queued or
// interrupted run — or a stale running one — to running under an Owner
// (host, pid; the host names its pid namespace when it is not the system's,
// as in a container on the host's network). A running run is stale when
// its owner is on the claimer's host and its pid no longer exists, or when its heartbeat is older than
// the staleAfter given to the claim. A pid that the system has given to a
// new process since the owner died looks alive: such a run falls back to
// the heartbeat rule (with staleAfter 0, it is never taken over). Taking a stale run counts a lost
// attempt (runs.lost); when a run's lost attempts reach its max_attempts it
// is failed with an error that says so instead. The claim's result says
// both, for the claimer to tell: a takeover's lost attempt and its owner
// (ClaimResult.Lost, LostFrom), and the runs failed so (GaveUp — ClaimNext
// fails them on its way to the run it takes). A run failed so keeps the
// host and pid of the owner whose attempt was lost, who never ended it,
// and that owner's last heartbeat, while a worker's end writes its
// heartbeat and finished time as one: Run.GaveUp tells it so from a run
// its worker failed (not by lost attempts against max_attempts, which a
// rerun may change since). The owner calls Heartbeat
// periodically and Finish at the end — FinishRun writes the run's summaries
// and drops its checkpoint in the same transaction, all or nothing — and
// both fail with ErrNotOwner if the run was reclaimed meanwhile; so does
// PutOwnedArtifact, the owner's artifact write (its checkpoints), which
// checks the owner in the statement that writes (on PostgreSQL holding the
// run's row FOR SHARE), so a worker that lost its run cannot replace the
// checkpoint its successor resumed from; and so do DeleteOwnedArtifacts and
// TruncateOwnedMetrics, the owner's deletions at a fresh start or a resume,
// which check the owner first in the transaction that deletes (on
// PostgreSQL locking the run's row FOR SHARE until it commits), so a
// worker that lost its run cannot delete its successor's checkpoint or
// history; and so does an owned MetricWriter (NewOwnedMetricWriter), whose
// usual flush checks the owner in its one INSERT (FOR SHARE on
// PostgreSQL), so a worker that lost its run adds no metric row to its
// successor's history. Finish with status interrupted hands the run
// back to the queue: the next claim resumes it from its checkpoint. The
// claim reports the previous status, so the executor knows to resume from a
// checkpoint (and to call TruncateOwnedMetrics with the checkpoint's step).
// PutArtifact, TruncateMetrics and NewMetricWriter write whoever holds the
// run: they are not for its owner.
//
// # Schema (version 5)
//
// The same tables and columns on both engines. SQLite: timestamps are UTC
// text "2006-01-02T15:04:05.000000Z" (microseconds; milliseconds,
// "…05.000Z", in files written before 2026-12-06, read alike);
// PostgreSQL: timestamptz, integer ids
// GENERATED BY DEFAULT AS IDENTITY, BYTEA for blobs, DOUBLE PRECISION for
// REAL, and text columns that are keys (names, hashes, params, metrics) with
// COLLATE "C", so that both engines sort them byte-wise alike. metrics.wall
// is Unix seconds (REAL). JSON columns hold compact JSON text.
//
//	experiments  id, name TEXT UNIQUE, description TEXT, yaml TEXT (the experiment
//	             file), dir TEXT (its directory, for the task's relative paths),
//	             created, updated
//	runs         id, experiment_id → experiments.id,
//	             hash TEXT (identity of the resolved config and seed), seed INTEGER,
//	             config TEXT (JSON, the resolved canonical config),
//	             point TEXT (JSON, the sweep point: the variant's name under "variant"
//	             and the other swept keys' values; before 2026-12-06 also the variant's
//	             own settings),
//	             status TEXT (queued | running | done | failed | interrupted),
//	             attempt INTEGER (number of claims, but for claims given back untrained), error TEXT,
//	             host TEXT, pid INTEGER, heartbeat, started, finished (owner of the last claim),
//	             attnlab_version TEXT, go_version TEXT, created,
//	             max_attempts INTEGER, lost INTEGER (attempts lost to dead workers),
//	             keep_checkpoints (0/1; BOOLEAN on PostgreSQL);
//	             UNIQUE (experiment_id, hash)
//	params       run_id → runs.id, key TEXT (dotted path: model.attention.name),
//	             type TEXT (number | text | bool | null), value (numbers: INTEGER or REAL
//	             on SQLite, DOUBLE PRECISION on PostgreSQL; NULL for NaN; bools 0/1),
//	             text_value TEXT (text); PRIMARY KEY (run_id, key)
//	metrics      run_id → runs.id, key TEXT (train/loss), step INTEGER,
//	             value REAL (NULL means NaN), wall REAL (Unix seconds);
//	             PRIMARY KEY (run_id, key, step): one row per key and step
//	summaries    run_id → runs.id, key TEXT (test/exact_match), value REAL (NULL means NaN);
//	             PRIMARY KEY (run_id, key)
//	artifacts    run_id → runs.id, kind TEXT, name TEXT, size INTEGER (bytes),
//	             data BLOB, created; PRIMARY KEY (run_id, kind, name)
//	             (the kinds and names, and what each holds: package artifact)
//	attnlab_schema (PostgreSQL only) application TEXT, version INTEGER
//
// Migrations: 1 creates the tables, 2 adds lookup indexes, 3 renames the
// model artifacts spec.json → vocab.json and model.json → model_spec.json
// (the store itself never interprets artifacts; it only renames them once),
// 4 splits params.value into value and text_value and adds the queue's
// columns (experiments.dir, runs.max_attempts, lost, keep_checkpoints).
// 5 renames the BLEU of older runs (every summary and metric key ending in
// /bleu: test/bleu, best/valid/bleu) to KEY_legacy and multiplies it by 100:
// BLEU is now sacreBLEU's, 0–100, against raw references, and the old value
// (NLTK's corpus_bleu, 0–1, against vocabulary-mapped references) is another
// metric, which must share neither a column nor a scale with it.
// Deleting a run or an experiment deletes its rows in the other tables
// (ON DELETE CASCADE, with foreign_keys=on on SQLite).
//
// NaN: SQLite stores a NaN double as NULL, so the store makes that the
// encoding on both engines: in metrics.value and summaries.value (and
// params.value with type 'number') NULL means NaN and no other value is ever
// NULL (PostgreSQL's own NaN would equal itself and sort above every number;
// it is never stored). ±Inf are stored as infinities. Both read back exactly
// (NaN payloads are not kept, and -0 is stored as +0 on both engines, as
// SQLite stores whole REALs as integers). In the sqlite3 shell:
//
//	SELECT step, coalesce(value, 'NaN') FROM metrics WHERE run_id = 3 AND key = 'valid/loss' ORDER BY step;
//	SELECT r.id, p.text_value AS attention, s.value AS em
//	  FROM runs r JOIN params p ON p.run_id = r.id AND p.key = 'model.attention.name'
//	  LEFT JOIN summaries s ON s.run_id = r.id AND s.key = 'test/exact_match';
//	SELECT datetime(wall, 'unixepoch'), value FROM metrics WHERE run_id = 3 AND key = 'train/loss';
//
// and in psql the same, with to_timestamp(wall) for the last.
//
// EachMetricPoint reads a run's history of a metric in pages of 10 000
// points (WHERE step > the last step read ORDER BY step LIMIT 10000) and
// closes each page's rows before it hands their points to its caller: a
// caller that blocks (export --curves into a paused pipe) holds no read on
// the database, so SQLite's WAL checkpoint and PostgreSQL's vacuum go on.
// EachRunMetricPoint reads all of a run's metrics alike, by key then step,
// in pages of one query each (WHERE run_id = ? AND (key, step) > the last
// point read ORDER BY key, step LIMIT 10000: a row value, which both
// engines seek the primary key to), so that a reader of every metric sends
// one query per run and page, not one per run and metric. Such paged
// reads see no one snapshot: Vanished tells a reader, after its last
// read, which of the runs it read were removed meanwhile (or their id
// given to a new run) or claimed again (a new attempt, which truncates
// the history), and so whether a removal or a new attempt cut what it
// read; EachMetricPointThen and EachRunMetricPointThen call the reader
// back right after a history's last page is read, where it can ask. A
// change of a run's rows that keeps its id, hash, creation time and
// attempt (sync's replacement of a run, a run removed and synced back)
// is not seen: the schema has no per-run version of its rows.
//
// # Run references
//
// Code that holds a run id uses RunByID; ids are never formatted and parsed
// back. ResolveRun is the one function that interprets a reference a user
// typed: a run's name EXPERIMENT/POINT/seed=N (Run.Name: the sweep point's
// values joined by ","; EXPERIMENT/seed=N without a sweep), EXPERIMENT/HASH
// (a hash prefix within one experiment: what tells apart the runs of one
// name in two versions of an experiment), a run id, or a hash prefix of at
// least MinPrefix characters. Digits are an id when a run
// has that id (so run 1000 stays reachable as "1000" beside a hash that
// starts with 1000), a hash prefix otherwise. A name shared by runs of two
// versions of an experiment, or a prefix shared by several hashes, is
// ambiguous (ErrAmbiguous, listing the runs); a reference of none of these
// forms is ErrBadRef.
//
// # Removal
//
// RemoveExperiments and RemoveRuns delete experiments or runs with every
// row they own (the cascade of the foreign keys), RemoveCheckpoints the
// checkpoint artifacts of done runs that do not keep them, each in one
// transaction and each reporting what it removed as a Removal (a dry run
// counts and writes nothing). A running run is never removed (ErrRunning):
// its owner would go on writing to it — unless its owner is gone, by
// Claim's rule (on this host its pid no longer exists; elsewhere its
// heartbeat is a minute old), as a killed worker's runs are. The check holds until the removal
// commits: on PostgreSQL the removal first locks the rows of the runs (and
// experiments) it removes, FOR UPDATE, so a claim cannot commit between
// the check and the DELETE (a claim skips or waits for locked rows); on
// SQLite its IMMEDIATE transaction holds the one write lock. Compact gives the freed space back
// (SQLite: VACUUM and a truncating WAL checkpoint; PostgreSQL: VACUUM).
//
// # Copying between databases
//
// Copy copies experiments and runs with all their rows from one store into
// another, of either engine, by identity: an experiment is its name, a run
// its experiment and hash; ids are the target's own. A run the target lacks
// is copied whole; a run it has is replaced only by one that got further
// (done > failed > interrupted > queued) and only if the target is not
// running it; runs running in the source are left out, and so are its
// queued and interrupted runs unless CopyOptions.Unfinished (the target's
// workers would take them from its queue and train them a second time).
// Each run is one
// transaction of the target, so Copy is idempotent and resumable. Each run
// is read from the source in one read-only snapshot (PostgreSQL: REPEATABLE
// READ READ ONLY; SQLite: a deferred read transaction, a snapshot of the
// WAL), its runs row read again there: a run requeued, rewritten or removed
// meanwhile reaches the target as it was at one instant, and one the
// snapshot shows removed, running or (without Unfinished) queued is not
// copied. On PostgreSQL that read fails, naming the source and the
// allowance that ran out, once attemptTimeout passes without a page or an
// artifact arriving, an artifact given 1 µs a byte more (1 MB/s; its size
// is read first); the time spent writing the temporary files below is not
// counted. The snapshot is rolled back under a live context, so its
// connection goes back to the pool. A run's
// metric history is not held in memory (millions of rows, when a run logs
// every step): it is read in pages of 10 000 rows (WHERE (key, step) > the
// last read, by the primary key) into a temporary file, about 21 bytes a
// row, and its artifacts into a second one; on Unix the files lose their
// names at once (a killed sync leaves nothing in $TMPDIR; on a tmpfs /tmp
// they are in RAM). Only once the snapshot has been read whole does the
// target's transaction begin, fed from the files, one artifact in memory
// at a time (read back into one buffer for the whole sync, and the
// drivers' copies of an artifact of 16 MB or more collected and returned
// to the system after its read and its write: 240 to 370 MB of RSS for
// checkpoints of 64 MB, by engines, where 300 to 490 MB piled up). So no read of the source happens inside a transaction of the
// target: a source that fails (a stopped server, a killed backend) fails
// Copy at once with an error that names the source, never retried as an
// outage of the target, and the target gets nothing of that run. A failure
// to read the files back rolls the target's transaction back at once (into
// PostgreSQL, aborting the COPY) and is not retried either. On PostgreSQL a
// try of a run's transaction is given 100 µs a row and 1 µs an artifact
// byte beyond attemptTimeout, since a COPY of millions of rows, or a
// checkpoint of gigabytes on a slow link, can take minutes. Runs are
// first looked up in the target 500 at a time, and the summaries of those
// done in both compared, in one query of each store per chunk: a repeated
// sync of a big store reads no run's rows and sends a few queries, not
// three per run. Into
// PostgreSQL, a run's metric rows go by COPY (pgx's CopyFrom, on the
// transaction's connection), not by INSERTs of 64 rows per round trip: the
// run's rows are written only into a run just created or emptied, so COPY
// needs no ON CONFLICT. Values,
// timestamps (to the microsecond on both engines) and artifact bytes are
// copied exactly: a SQLite → PostgreSQL → SQLite round trip, or a
// PostgreSQL → SQLite → PostgreSQL one, gives the same store but for its
// ids. (Until 2026-12-06 SQLite kept milliseconds, and a copy from
// PostgreSQL lost the rest.)
//
// # Filters
//
// ParseWhere parses the CLI's --where language (see its doc) into a *Cond,
// which Runs compiles to SQL with EXISTS subqueries over params and
// summaries — a metric's value is a done run's summary, and for a run not
// done the last value it logged (a failed run: its summary where it
// logged none), the values compare shows; keys and values are always bound parameters, never SQL text
// (numbers through the dialect's number placeholder; text PostgreSQL cannot
// hold, with a NUL, matches nothing).
// Keys lists the param and summary keys an experiment's runs have (the
// metrics runs not done logged among the latter), and
// Cond.MapKeys rewrites a filter's keys, so that callers (package report)
// can resolve short names such as attention.name to full keys and reject
// unknown ones before a filter silently matches nothing.
package store
