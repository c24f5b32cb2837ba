package store

import (
	"os"

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
func CommandDB(target string) (arg, note string) {
	shown := Redact(target)
	if env := os.Getenv("ATTNLAB_DB"); env != "" && Redact(env) == shown {
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

// WorkerCommand returns the command line that trains the queued runs of
// experiment in the database target names (attnlab worker), and the note
// it needs besides (CommandDB).
func WorkerCommand(target, experiment string) (line, note string) {
	arg, note := CommandDB(target)
	return "attnlab worker" + arg + " --experiment " + shell.Quote(experiment), note
}

// WorkerCommand is WorkerCommand of the store's own target.
func (s *Store) WorkerCommand(experiment string) (line, note string) {
	return WorkerCommand(s.target, experiment)
}
