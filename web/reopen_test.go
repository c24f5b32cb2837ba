package web

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

// TestReopenOpensWithoutTheLock: while the database file that replaced
// the served one is being opened (SQLite can wait up to its busy timeout
// for a writer still creating it), other requests answer at once with
// 503 "being opened" instead of queueing behind the open; once it is
// open, pages show the new file.
func TestReopenOpensWithoutTheLock(t *testing.T) {
	path, spare, st := replaceable(t, "runs", "spare")
	entered, release := make(chan struct{}), make(chan struct{})
	s := newServer(t, st, Options{Reopen: func() (*store.Store, error) {
		close(entered)
		<-release
		return store.OpenExisting(path)
	}})
	defer s.Close()
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open() // before Close: a failing test does not hang on the open
	if err := os.Rename(spare, path); err != nil {
		t.Fatal(err)
	}
	first := make(chan response, 1)
	go func() { first <- get(t, s, "/") }()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first request after the replacement did not open the new file")
	}
	other := make(chan response, 1)
	go func() { other <- get(t, s, "/x/runs") }()
	select {
	case r := <-other:
		if r.status != 503 || !strings.Contains(r.body, "being opened") {
			t.Errorf("a request while the new file opens: %d %s", r.status, shortBody(r.body))
		}
	case <-time.After(5 * time.Second):
		t.Error("a request waited for the new file's open (the reopener holds its lock while opening)")
	}
	open()
	if r := <-first; r.status != 200 || !strings.Contains(r.body, `href="/x/spare"`) || strings.Contains(r.body, `href="/x/runs"`) {
		t.Errorf("the request that opened the new file: %d %s", r.status, shortBody(r.body))
	}
}
