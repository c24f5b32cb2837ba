package web

import (
	"errors"
	"fmt"
	"net/http"
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

	mu     sync.Mutex
	cur    *Server // serves the file at the path; nil while there is none
	err    error   // why cur is nil: what answers every page
	logged string  // the last error logged, so that it is logged once
	tried  time.Time
	opened []*store.Store // by open, for Close
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
		if strings.HasPrefix(r.URL.Path, "/api/") {
			s.failJSON(w, r, http.StatusServiceUnavailable, err)
		} else {
			s.fail(w, r, http.StatusServiceUnavailable, err)
		}
		return
	}
	cur.mux.ServeHTTP(w, r)
}

// current returns the server of the file at the path: the one in use
// while its store's file is still there (one stat), else a new one over
// the file Reopen opens, at most every reopenEvery. The store of a file
// that is gone is closed at once: its connections would go on reading the
// new file's -wal and -shm against the old file.
func (l *reopener) current(s *Server) (*Server, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur != nil {
		gone := l.cur.st.Gone()
		if gone == nil {
			return l.cur, nil
		}
		old := l.cur.st
		go old.Close() // waits for the queries in flight
		l.cur, l.tried = nil, time.Time{}
		l.err = l.deleted()
	}
	if time.Since(l.tried) < reopenEvery {
		return nil, l.err
	}
	l.tried = time.Now()
	st, err := l.open()
	if err != nil {
		if errors.Is(err, store.ErrNoDatabase) {
			l.err = l.deleted()
		} else { // err names the path
			l.err = &fileGoneError{fmt.Errorf("%w (it replaced the database this server showed; pages come back once it can be opened)", err)}
		}
		if msg := l.err.Error(); msg != l.logged {
			l.logged = msg
			s.logf("%s", msg)
		}
		return nil, l.err
	}
	next, err := build(st, s.opt)
	if err != nil {
		st.Close()
		return nil, err
	}
	l.opened = append(l.opened, st)
	l.cur, l.err, l.logged = next, nil, ""
	s.logf("the database file %s was replaced; serving the new file", l.path)
	return next, nil
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
