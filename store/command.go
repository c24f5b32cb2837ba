package store

import (
	"os"
	"path/filepath"

	"github.com/attnlab/attnlab/internal/shell"
)

// PasswordNote is what a suggested command line whose database URL had a
// password needs besides (CommandDB).
const PasswordNote = "the URL's password is not shown: give it in PGPASSWORD or ~/.pgpass, or set ATTNLAB_DB to the whole URL and leave out --db"

// CommandDB returns the --db option (" --db TARGET", shell-quoted, or ""
// when the database is $ATTNLAB_DB, which the command then takes by
// itself) of a command line that a message or a page suggests, given the
// database's target as the user gave it. When the target holds a password
// that ATTNLAB_DB does not provide, the masked URL would fail as pasted:
// the option names the URL without its password, and note says how to
// give it (PasswordNote); note is "" otherwise. The password is never
// shown.
func CommandDB(target string) (arg, note string) { return commandDB(target, false) }

// SharedCommandDB is CommandDB for a command line shown to someone in
// another shell, perhaps on another machine (the dashboard's pages): it
// counts neither on their working directory nor on their $ATTNLAB_DB. A
// SQLite path is made absolute, and the --db option is given even when
// the database is $ATTNLAB_DB (a URL without its password, with
// PasswordNote, when it has one). The password is never shown.
func SharedCommandDB(target string) (arg, note string) { return commandDB(target, true) }

// commandDB is CommandDB, or SharedCommandDB when shared.
func commandDB(target string, shared bool) (arg, note string) {
	if shared && !isPostgresURL(target) {
		if abs, err := filepath.Abs(target); err == nil {
			target = abs
		}
	}
	shown := Redact(target)
	if env := os.Getenv("ATTNLAB_DB"); !shared && env != "" && Redact(env) == shown {
		return "", ""
	}
	if len(Secrets(target)) == 0 {
		return " --db " + shell.Quote(shown), ""
	}
	if bare, ok := WithoutPassword(target); ok {
		return " --db " + shell.Quote(bare), PasswordNote
	}
	return "", "its secrets are not shown: set ATTNLAB_DB to the database's whole URL first"
}

// CommandDB is CommandDB of the store's own target.
func (s *Store) CommandDB() (arg, note string) { return CommandDB(s.target) }

// SharedCommandDB is SharedCommandDB of the store's own target.
func (s *Store) SharedCommandDB() (arg, note string) { return SharedCommandDB(s.target) }

// WorkerCommand returns the command line that trains the queued runs of
// experiment in the database target names (attnlab worker), and the note
// it needs besides (CommandDB).
func WorkerCommand(target, experiment string) (line, note string) {
	return workerCommand(CommandDB, target, experiment)
}

// SharedWorkerCommand is WorkerCommand for someone in another shell
// (SharedCommandDB).
func SharedWorkerCommand(target, experiment string) (line, note string) {
	return workerCommand(SharedCommandDB, target, experiment)
}

func workerCommand(db func(string) (string, string), target, experiment string) (line, note string) {
	arg, note := db(target)
	return "attnlab worker" + arg + " --experiment " + shell.Quote(experiment), note
}

// WorkerCommand is WorkerCommand of the store's own target.
func (s *Store) WorkerCommand(experiment string) (line, note string) {
	return WorkerCommand(s.target, experiment)
}

// SharedWorkerCommand is SharedWorkerCommand of the store's own target.
func (s *Store) SharedWorkerCommand(experiment string) (line, note string) {
	return SharedWorkerCommand(s.target, experiment)
}
