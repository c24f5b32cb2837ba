//go:build cgo

package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"
)

// TestLockedErrorNamesTheDatabase: a write that finds the database busy
// through every retry says which database other writers kept busy, and
// for how long, instead of the driver's bare "database is locked".
func TestLockedErrorNamesTheDatabase(t *testing.T) {
	tries := 0
	busy := sqlite3.Error{Code: sqlite3.ErrBusy}
	err := retry(context.Background(), sqliteDialect{}, nil, nil, func(context.Context) error {
		tries++
		return busy
	})
	if tries != maxRetries+1 {
		t.Errorf("%d tries, want %d", tries, maxRetries+1)
	}
	s := &Store{name: "/data/lab.db"}
	err = s.named(err)
	var se sqlite3.Error
	if msg := err.Error(); !strings.HasPrefix(msg, "the database /data/lab.db was still busy with other writers after ") ||
		!strings.Contains(msg, "try again") || !errors.As(err, &se) || se.Code != sqlite3.ErrBusy {
		t.Errorf("error %q (%T): want the database named, and the driver's error still inside", msg, err)
	}
}

// TestRetryCallsBusyOnce: retry's busy function is called once, when a try
// first finds the database busy, and not at all when no try does.
func TestRetryCallsBusyOnce(t *testing.T) {
	busyErr := sqlite3.Error{Code: sqlite3.ErrBusy}
	for _, fails := range []int{0, 1, 3} {
		calls, tries := 0, 0
		err := retry(context.Background(), sqliteDialect{}, nil, func() { calls++ }, func(context.Context) error {
			if tries++; tries <= fails {
				return busyErr
			}
			return nil
		})
		want := min(fails, 1)
		if err != nil || calls != want {
			t.Errorf("%d busy tries: err %v, busy called %d times, want %d", fails, err, calls, want)
		}
	}
}
