package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/attnlab/attnlab/internal/shell"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

// openStore opens an existing run database for a command that reads it;
// it never creates one.
func openStore(path string) (*store.Store, error) {
	return openStoreFlag(path, "--db")
}

// openStoreFlag is openStore for a database given by another flag than
// --db (sync's --from), which the error of a missing one names.
func openStoreFlag(path, flag string) (*store.Store, error) {
	st, err := store.OpenExisting(path)
	if errors.Is(err, store.ErrNoDatabase) {
		arg, note := store.CommandDB(path)
		return nil, fmt.Errorf("%w (attnlab run EXP.yaml%s creates it%s; %s names another)", err, arg, noteSuffix(note), flag)
	}
	return st, err
}

// noteSuffix is note (from store.CommandDB) as the end of a parenthesis
// that suggests a command line: "" or "; " and the note.
func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return "; " + note
}

// noteBusy has st say on w (a command's stderr), once, when one of its
// writes waits for other writers (store.OnBusy), so that a command with
// nothing else on the terminal (gc, rm, sync) does not seem to hang
// until the write succeeds or gives up.
func noteBusy(w io.Writer, st *store.Store) {
	st.OnBusy(func() {
		fmt.Fprintf(w, "attnlab: the database %s is busy with another writer; waiting for it (giving up after about a minute and a half)\n", st.Path())
	})
}

// findRun resolves a RUN argument (a run name, id or hash prefix: see
// store.ResolveRun). A reference that names no run is a usage error that
// names the database and how to list its runs; an ambiguous or malformed
// one is one too (exitCode).
func findRun(ctx context.Context, st *store.Store, ref string) (store.Run, error) {
	r, err := st.ResolveRun(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		arg, note := st.CommandDB()
		if _, xerr := st.ExperimentByName(ctx, ref); xerr == nil {
			// An experiment where a run was wanted: name its runs.
			return r, usagef("%q is an experiment, not a run: attnlab ls runs%s --experiment %s lists its runs%s", ref, arg, shell.Quote(ref), noteSuffix(note))
		}
		return r, usagef("no run %q in %s (attnlab ls runs%s lists them%s)", ref, st.Path(), arg, noteSuffix(note))
	}
	return r, err
}

// openRun opens the run database at db and finds the run that ref names
// (findRun). On success the caller closes the store; on error it is closed.
func openRun(ctx context.Context, db, ref string) (*store.Store, store.Run, error) {
	st, err := openStore(db)
	if err != nil {
		return nil, store.Run{}, err
	}
	r, err := findRun(ctx, st, ref)
	if err != nil {
		st.Close()
		return nil, store.Run{}, err
	}
	return st, r, nil
}

// loadRun opens the database db, finds the run ref names and rebuilds its
// trained model (see [runs.Load]); the database is closed again before it
// returns.
func loadRun(ctx context.Context, db, ref string) (*runs.Trained, error) {
	st, r, err := openRun(ctx, db, ref)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return runs.Load(ctx, st, r.ID)
}

// checkExperiments returns a usage error naming the first of names that
// the database does not hold, with the names it does hold.
func checkExperiments(ctx context.Context, st *store.Store, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	all, err := st.Experiments(ctx)
	if err != nil {
		return err
	}
	known := make([]string, len(all))
	have := make(map[string]bool, len(all))
	for i, x := range all {
		known[i] = x.Name
		have[x.Name] = true
	}
	for _, n := range names {
		if !have[n] {
			if len(known) == 0 {
				return usagef("no experiment %q in %s: it holds no experiments yet", n, st.Path())
			}
			return usagef("no experiment %q in %s (known: %s)", n, st.Path(), strings.Join(known, ", "))
		}
	}
	return nil
}
