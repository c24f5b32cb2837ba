package web

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/attnlab/attnlab/store"
)

// reopenEvery is how often a server whose database file is gone tries
// Options.Reopen again (a variable for tests).
var reopenEvery = time.Second

// reopener is what a server with Options.Reopen keeps: the server of the
// file at its path now, or why there is none.
type reopener struct {
	open func() (*store.Store, error)
	path string

	mu      sync.Mutex
	cur     *Server // serves the file at the path; nil while there is none
	err     error   // why cur is nil: what answers every page
	logged  string  // the last error logged, so that it is logged once
	tried   time.Time
	opened  []*store.Store // by open, for Close
	old     *store.Store   // the store of the file that went, until a new one is open
	opening bool           // a request is opening the path (without mu)
}

// fileGoneError is why a server with Options.Reopen has no database to
// show: every page answers it with 503, and it is logged once.
type fileGoneError struct{ err error }

func (e *fileGoneError) Error() string { return e.err.Error() }
func (e *fileGoneError) Unwrap() error { return e.err }

// dispatch serves a request with the server of the current file, or
// answers 503 naming the file while there is none. Assets need no
// database.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/static/") {
		s.mux.ServeHTTP(w, r)
		return
	}
	cur, err := s.live.current(s)
	if err != nil {
		s.failAny(w, r, http.StatusServiceUnavailable, err)
		return
	}
	cur.mux.ServeHTTP(w, r)
}

// current returns the server of the file at the path: the one in use
// while its store's file is still there (one stat), else a new one over
// the file Reopen opens, at most every reopenEvery. The store of a file
// that is gone is closed at once: its connections would go on reading the
// new file's -wal and -shm against the old file. The file is opened
// without the lock held (SQLite may wait up to its busy timeout for a
// writer creating it): requests meanwhile answer the error of the moment.
func (l *reopener) current(s *Server) (*Server, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur != nil {
		gone := l.cur.st.Gone()
		if gone == nil {
			return l.cur, nil
		}
		old := l.cur.st
		if i := slices.Index(l.opened, old); i >= 0 {
			l.opened = slices.Delete(l.opened, i, i+1)
		}
		go old.Close() // waits for the queries in flight (the caller's store too: closing twice is harmless)
		l.cur, l.tried, l.old = nil, time.Time{}, old
		l.err = l.deleted()
		if !errors.Is(gone, fs.ErrNotExist) {
			l.err = &fileGoneError{fmt.Errorf("the database file %s was replaced; its new file is being opened", l.path)}
		}
	}
	if l.opening || time.Since(l.tried) < reopenEvery {
		return nil, l.err
	}
	l.tried = time.Now()
	if err := l.leftLog(); err != nil {
		l.fail(s, err)
		return nil, l.err
	}
	l.opening = true
	l.mu.Unlock()
	st, err := l.open()
	var next *Server
	if err == nil {
		if next, err = build(st, s.opt); err != nil {
			st.Close()
		}
	}
	l.mu.Lock()
	l.opening = false
	switch {
	case errors.Is(err, store.ErrNoDatabase):
		l.fail(s, l.deleted())
		return nil, l.err
	case err != nil && st == nil: // err names the path
		l.fail(s, &fileGoneError{fmt.Errorf("%w (it replaced the database this server showed; pages come back once it can be opened)", err)})
		return nil, l.err
	case err != nil:
		return nil, err
	}
	l.opened = append(l.opened, st)
	l.cur, l.err, l.logged, l.old = next, nil, "", nil
	s.logf("the database file %s was replaced; serving the new file", l.path)
	return next, nil
}

// fail sets why there is no server now, logging it unless it was the last
// thing logged; l.mu is held.
func (l *reopener) fail(s *Server, err error) {
	l.err = err
	if msg := err.Error(); msg != l.logged {
		l.logged = msg
		s.logf("%s", msg)
	}
}

// Close closes the stores the server opened since New (Options.Reopen);
// the store given to New is the caller's. The server must not be used
// after.
func (s *Server) Close() error {
	if s.live == nil {
		return nil
	}
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	var errs []error
	for _, st := range s.live.opened {
		errs = append(errs, st.Close())
	}
	s.live.opened = nil
	return errors.Join(errs...)
}

// deleted is why there is no server while nothing is at the path.
func (l *reopener) deleted() error {
	return &fileGoneError{fmt.Errorf("the database file %s was deleted; pages come back once a database is there again (attnlab run creates one)", l.path)}
}

// leftLog returns why the file at the path must not be opened yet: a file
// is there, but so is the write-ahead log of the file that went, which
// SQLite would apply to it (store.Store.LeftLog); nil otherwise.
func (l *reopener) leftLog() error {
	if l.old == nil {
		return nil
	}
	wal := l.old.LeftLog()
	if wal == "" {
		return nil
	}
	wal = absPath(wal)
	db := strings.TrimSuffix(wal, "-wal")
	if _, err := os.Stat(db); err != nil {
		return nil // nothing there yet: opening says the file was deleted
	}
	return &fileGoneError{fmt.Errorf("the database file %s was replaced, but %s beside it is still the old file's write-ahead log, which SQLite would apply to the new one: move %s and %s-shm next to the old file (named after it) or delete them; pages come back then", l.path, wal, wal, db)}
}

// absPath is path made absolute, as store.SharedCommandDB names a file
// (path as it is if the working directory cannot be read).
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}
