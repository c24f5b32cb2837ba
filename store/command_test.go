package store

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/internal/shell"
)

// TestSharedCommandDB: a command line shown to someone in another shell
// (the dashboard's pages) names the database whatever their working
// directory or $ATTNLAB_DB: a relative SQLite path made absolute, a URL
// given even when it is $ATTNLAB_DB (without its password). CommandDB,
// for the user's own shell, still leaves out what $ATTNLAB_DB gives.
func TestSharedCommandDB(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	abs := " --db " + shell.Quote(filepath.Join(dir, "runs.db"))
	const pgURL = "postgres://lab:s3cretpw@db/attnlab"
	for _, tc := range []struct {
		env, target      string
		arg, note        string // CommandDB
		shared, sharedNt string // SharedCommandDB
	}{
		{"", "runs.db", " --db runs.db", "", abs, ""},
		{"runs.db", "runs.db", "", "", abs, ""},
		{"", "/lab/runs.db", " --db /lab/runs.db", "", " --db /lab/runs.db", ""},
		{pgURL, pgURL, "", "", " --db postgres://lab@db/attnlab", PasswordNote},
		{"", pgURL, " --db postgres://lab@db/attnlab", PasswordNote, " --db postgres://lab@db/attnlab", PasswordNote},
		{"postgres://lab@db/attnlab", "postgres://lab@db/attnlab", "", "", " --db postgres://lab@db/attnlab", ""},
	} {
		t.Setenv("ATTNLAB_DB", tc.env)
		if arg, note := CommandDB(tc.target); arg != tc.arg || note != tc.note {
			t.Errorf("ATTNLAB_DB=%q: CommandDB(%q) = %q, %q; want %q, %q", tc.env, tc.target, arg, note, tc.arg, tc.note)
		}
		arg, note := SharedCommandDB(tc.target)
		if arg != tc.shared || note != tc.sharedNt {
			t.Errorf("ATTNLAB_DB=%q: SharedCommandDB(%q) = %q, %q; want %q, %q", tc.env, tc.target, arg, note, tc.shared, tc.sharedNt)
		}
		line, wnote := SharedWorkerCommand(tc.target, "x")
		if line != "attnlab worker"+tc.shared+" --experiment x" || wnote != tc.sharedNt {
			t.Errorf("ATTNLAB_DB=%q: SharedWorkerCommand(%q) = %q, %q", tc.env, tc.target, line, wnote)
		}
		if strings.Contains(arg+note+line, "s3cretpw") {
			t.Errorf("SharedCommandDB(%q) shows the password: %q %q", tc.target, arg, note)
		}
	}
}
