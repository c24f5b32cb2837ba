package store

// applicationID marks a SQLite file as an attnlab store (PRAGMA
// application_id, bytes 68-71 of the header): the ASCII bytes "atnl".
// A file with tables but another application id is not ours and is refused.
const applicationID = 0x61746e6c

// migration is one forward step of the schema. migrations[i] takes a
// database from user_version i to i+1; it runs inside the transaction that
// also sets the new user_version, so a failed step leaves the file as it was.
type migration struct {
	name string
	sql  string
}

// migrations is the ordered schema history. Never edit or reorder a step
// that has been released: append a new one. SchemaVersion is its length.
var migrations = []migration{
	{name: "tables", sql: `
CREATE TABLE experiments (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	yaml        TEXT NOT NULL DEFAULT '',
	created     TEXT NOT NULL,
	updated     TEXT NOT NULL
);

CREATE TABLE runs (
	id              INTEGER PRIMARY KEY,
	experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	hash            TEXT NOT NULL,
	seed            INTEGER NOT NULL,
	config          TEXT NOT NULL CHECK (json_valid(config)),
	point           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(point)),
	status          TEXT NOT NULL DEFAULT 'queued'
	                CHECK (status IN ('queued', 'running', 'done', 'failed', 'interrupted')),
	attempt         INTEGER NOT NULL DEFAULT 0,
	error           TEXT NOT NULL DEFAULT '',
	host            TEXT NOT NULL DEFAULT '',
	pid             INTEGER NOT NULL DEFAULT 0,
	heartbeat       TEXT,
	started         TEXT,
	finished        TEXT,
	attnlab_version TEXT NOT NULL DEFAULT '',
	go_version      TEXT NOT NULL DEFAULT '',
	created         TEXT NOT NULL,
	UNIQUE (experiment_id, hash)
);

CREATE TABLE params (
	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	key    TEXT NOT NULL,
	type   TEXT NOT NULL CHECK (type IN ('number', 'text', 'bool', 'null')),
	value,
	PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE metrics (
	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	key    TEXT NOT NULL,
	step   INTEGER NOT NULL,
	value  REAL,
	wall   REAL NOT NULL,
	PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;

CREATE TABLE summaries (
	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	key    TEXT NOT NULL,
	value  REAL,
	PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE artifacts (
	run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	kind    TEXT NOT NULL,
	name    TEXT NOT NULL,
	size    INTEGER NOT NULL,
	data    BLOB NOT NULL,
	created TEXT NOT NULL,
	PRIMARY KEY (run_id, kind, name)
);
`},
	{name: "lookup indexes", sql: `
CREATE INDEX runs_hash ON runs(hash);
CREATE INDEX runs_experiment_status ON runs(experiment_id, status);
CREATE INDEX params_key_value ON params(key, type, value);
CREATE INDEX summaries_key_value ON summaries(key, value);
`},
	// Artifact names say what they hold (package artifact): the vocabularies
	// were "spec.json", the model's build spec "model.json".
	{name: "artifact names", sql: `
UPDATE artifacts SET name = 'vocab.json' WHERE kind = 'model' AND name = 'spec.json';
UPDATE artifacts SET name = 'model_spec.json' WHERE kind = 'model' AND name = 'model.json';
`},
}

// SchemaVersion is the schema version (PRAGMA user_version) this build
// writes and understands: the number of migrations. Open migrates older
// stores forward to it and refuses newer ones.
const SchemaVersion = 3
