//go:build unix && !aix

package store

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// stallConn is a TCP connection whose writes, while stall is set, return
// only 50 ms after the bytes went out: as when the goroutine that wrote
// them waits that long for a CPU. pgx's slow-write timer (15 ms) then
// starts its background reader, which reads the reply and waits in a
// second read on the idle socket.
type stallConn struct {
	net.Conn
	stall *atomic.Bool
}

func (c stallConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if c.stall.Load() {
		time.Sleep(50 * time.Millisecond)
	}
	return n, err
}

func (c stallConn) NetConn() net.Conn { return c.Conn }

// TestShouldPingNeverWaits: deciding whether to ping a pooled connection
// returns at once even when pgx's background reader is waiting on its
// socket; before, the peek waited for the socket's read lock, which that
// reader holds until the server next writes: the query hung, whatever
// its context said.
func TestShouldPingNeverWaits(t *testing.T) {
	cfg, err := pgx.ParseConfig(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	var stall atomic.Bool
	var mu sync.Mutex
	var conns []net.Conn
	d := &net.Dialer{}
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		return stallConn{c, &stall}, nil
	}
	db := stdlib.OpenDB(*cfg, stdlib.OptionShouldPing(shouldPing))
	defer db.Close()
	defer func() { // frees a hung query, if any
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	stall.Store(true)
	if _, err := db.ExecContext(ctx, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	stall.Store(false)
	done := make(chan error, 1)
	go func() {
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := db.ExecContext(qctx, `SELECT 1`)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a query on a pooled connection still waits 5 s later (its context: 2 s)")
	}
}
