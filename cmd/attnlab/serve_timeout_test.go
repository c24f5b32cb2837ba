package main

import (
	"bufio"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

// TestServeDropsStalledRequests: a client that sends a request's headers
// and then stalls in its body holds a connection and a goroutine of the
// server; serve drops it after serveReadTimeout instead of waiting for
// ever (ReadHeaderTimeout covers the headers only). Many such clients
// would otherwise use up the process's file descriptors.
func TestServeDropsStalledRequests(t *testing.T) {
	defer func(d time.Duration) { serveReadTimeout = d }(serveReadTimeout)
	serveReadTimeout = time.Second
	db := filepath.Join(t.TempDir(), "runs.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	base := startServe(t, "--db", db)
	for _, req := range []string{
		"POST /r/1/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\ninput=",
		"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\nx",
	} {
		c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		// Read the answer, then wait for the server to close: it must
		// within a few read timeouts.
		c.SetReadDeadline(time.Now().Add(6 * time.Second))
		start := time.Now()
		_, err = bufio.NewReader(c).ReadString(0)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("%.30q: the connection is still open after %v", req, time.Since(start).Round(time.Second))
		}
	}
}
