// Package store is attnlab's run database: one SQLite file (WAL mode) that
// holds experiments, their runs, each run's params, metric history,
// summaries and artifacts. The executor (package runs) writes it; reports
// and the CLI read it. The package imports no other attnlab package.
//
// # Opening
//
// Open creates the file if needed; OpenExisting never creates anything and is
// what read-only commands use. Both set journal_mode=WAL, synchronous=NORMAL,
// busy_timeout=10000, foreign_keys=on and make every transaction BEGIN
// IMMEDIATE. The schema version is PRAGMA user_version, and PRAGMA
// application_id is 0x61746e6c ("atnl"); an older store is migrated forward
// on open in one transaction, a newer one is refused
// ("store x.db: schema version 7 is newer than this attnlab supports (3); upgrade attnlab"),
// and a file that is not a SQLite database, or is another program's
// database, gives a one-line error naming the file (ErrNotStore).
//
// # Concurrency
//
// Any number of goroutines and processes may use one file. Writes are short
// IMMEDIATE transactions (metrics are buffered by a MetricWriter and written
// in batches), retried with backoff on SQLITE_BUSY; reads are autocommit
// queries that never take the write lock.
//
// # Run lifecycle
//
// EnsureRuns inserts the missing runs of an experiment as queued. Claim moves
// a queued or interrupted run — or a stale running one — to running under an
// Owner (host, pid). A running run is stale when its owner is on the
// claimer's host and its pid no longer exists (kill(pid, 0) fails with
// ESRCH), or when its heartbeat is older than the staleAfter given to Claim.
// The owner calls Heartbeat periodically and Finish at the end; both fail
// with ErrNotOwner if the run was reclaimed meanwhile. Claim reports the
// previous status, so the executor knows to resume from a checkpoint (and
// to call TruncateMetrics with the checkpoint's step).
//
// # Schema (version 3)
//
// Timestamps are UTC text, "2006-01-02T15:04:05.000Z", except metrics.wall,
// which is Unix seconds (REAL). JSON columns hold compact JSON text.
//
//	experiments  id INTEGER PRIMARY KEY, name TEXT UNIQUE, description TEXT,
//	             yaml TEXT (the experiment file), created, updated
//	runs         id INTEGER PRIMARY KEY, experiment_id → experiments.id,
//	             hash TEXT (identity of the resolved config and seed), seed INTEGER,
//	             config TEXT (JSON, the resolved canonical config),
//	             point TEXT (JSON, the sweep point's varying parameters),
//	             status TEXT (queued | running | done | failed | interrupted),
//	             attempt INTEGER (number of claims), error TEXT,
//	             host TEXT, pid INTEGER, heartbeat, started, finished (owner of the last claim),
//	             attnlab_version TEXT, go_version TEXT, created;
//	             UNIQUE (experiment_id, hash)
//	params       run_id → runs.id, key TEXT (dotted path: model.attention.name),
//	             type TEXT (number | text | bool | null), value (INTEGER or REAL for
//	             numbers, TEXT, 0/1 for bools, NULL for null and NaN);
//	             PRIMARY KEY (run_id, key)
//	metrics      run_id → runs.id, key TEXT (train/loss), step INTEGER,
//	             value REAL (NULL means NaN), wall REAL (Unix seconds);
//	             PRIMARY KEY (run_id, key, step): one row per key and step
//	summaries    run_id → runs.id, key TEXT (test/exact_match), value REAL (NULL means NaN);
//	             PRIMARY KEY (run_id, key)
//	artifacts    run_id → runs.id, kind TEXT, name TEXT, size INTEGER (bytes),
//	             data BLOB, created; PRIMARY KEY (run_id, kind, name)
//	             (the kinds and names, and what each holds: package artifact)
//
// Migrations: 1 creates the tables, 2 adds lookup indexes, 3 renames the
// model artifacts spec.json → vocab.json and model.json → model_spec.json
// (the store itself never interprets artifacts; it only renames them once).
//
// Deleting a run or an experiment deletes its rows in the other tables
// (ON DELETE CASCADE, with foreign_keys=on).
//
// NaN: SQLite stores a NaN double as NULL, so the store makes that the
// encoding: in metrics.value and summaries.value (and params.value with
// type 'number') NULL means NaN and no other value is ever NULL. ±Inf are
// stored as REAL infinities. Both read back exactly (NaN payloads are not
// kept, and -0 reads back as +0, since SQLite stores whole REALs as
// integers). In the sqlite3 shell:
//
//	SELECT step, coalesce(value, 'NaN') FROM metrics WHERE run_id = 3 AND key = 'valid/loss' ORDER BY step;
//	SELECT r.id, p.value AS attention, s.value AS em
//	  FROM runs r JOIN params p ON p.run_id = r.id AND p.key = 'model.attention.name'
//	  LEFT JOIN summaries s ON s.run_id = r.id AND s.key = 'test/exact_match';
//	SELECT datetime(wall, 'unixepoch'), value FROM metrics WHERE run_id = 3 AND key = 'train/loss';
//
// # Filters
//
// ParseWhere parses the CLI's --where language (see its doc) into a *Cond,
// which Runs compiles to SQL with EXISTS subqueries over params and
// summaries; keys and values are always bound parameters, never SQL text.
package store
