package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/web"
)

// shutdownGrace is how long serve lets requests in flight finish after
// Ctrl-C (within main's signalGrace).
const shutdownGrace = 3 * time.Second

// serveReadTimeout is the longest serve waits for a request, headers and
// body (a generate form is at most a few kilobytes): a client that stalls
// in its body is dropped instead of holding a connection for ever. A
// variable for a test.
var serveReadTimeout = 30 * time.Second

func newServeCmd() *cobra.Command {
	var (
		db       *string
		addr     string
		readOnly bool
		hosts    []string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Look at the run database in a browser, live while runs train",
		Long: `Serve a dashboard of the run database: the experiments, each experiment's
comparison (the very table attnlab compare prints, with its filter, grouping,
baseline and statistics chosen in the page), metric curves of any runs, each
run's status, config, summaries, decoded samples, attention heatmaps and
artifacts. Pages of running experiments update by themselves. Every page has
its own URL to share.

The server listens on loopback (127.0.0.1:8080) unless --addr says otherwise,
and answers only to localhost names there. Listening elsewhere, it answers to
its IP addresses and to the names --host gives (the one in the URL you open it
by, such as --host lab.example), so that no other site's page can read it
through a visitor's browser by pointing its own name at this address.

It never writes the database; it is read-only by default: --read-only=false
also lets a page decode inputs with a finished run's model (attnlab generate
in the browser). A SQLite file deleted or replaced while it serves (another
database moved into place, or made again by attnlab run) is noticed at the next
request: pages show the file at the path now, or say that none is there until
one is. If the old file's write-ahead log (FILE-wal) is still beside the new
file, SQLite would apply it to the new one: pages say so, and nothing is opened
until it is moved away. Ctrl-C stops it.`,
		Example: `  attnlab serve
  attnlab serve --db runs.db --addr 127.0.0.1:9000
  attnlab serve --db postgres://lab@db.example/attnlab --read-only=false`,
		Args: args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return usagef("--addr %q: want host:port, e.g. 127.0.0.1:8080", addr)
			}
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				return usagef("--addr %q: port %q: want a number from 0 (any free port) to 65535", addr, port)
			}
			for _, h := range hosts {
				if !hostNameOK(h) {
					return usagef("--host %q: want a host name such as lab.example (no scheme, port or path)", h)
				}
			}
			st, err := openStore(*db)
			if err != nil {
				return err
			}
			defer st.Close()
			errw := cmd.ErrOrStderr()
			loopback := isLoopback(host)
			reopenPath := *db
			if abs, err := filepath.Abs(st.Path()); err == nil && st.Engine() == store.SQLite {
				reopenPath = abs
			}
			srv, err := web.New(st, web.Options{
				ReadOnly:     readOnly,
				LoopbackOnly: loopback,
				Hosts:        hosts,
				Version:      version,
				Log:          log.New(errw, "attnlab serve: ", 0),
				// The absolute path, which the 503 pages name (as
				// their command lines do): its open errors name it.
				Reopen: func() (*store.Store, error) { return openStore(reopenPath) },
			})
			if err != nil {
				return err
			}
			defer srv.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			hs := &http.Server{
				Handler:           srv,
				ReadHeaderTimeout: 10 * time.Second,
				ReadTimeout:       serveReadTimeout,
				IdleTimeout:       2 * time.Minute,
				ErrorLog:          log.New(errw, "attnlab serve: ", 0),
			}
			mode := "read-only"
			if !readOnly {
				mode = "generate enabled"
			}
			url := "http://" + ln.Addr().String() + "/"
			if !loopback {
				what := "read the run database"
				if !readOnly {
					what += " and decode with its models"
				}
				fmt.Fprintf(errw, "attnlab serve: listening on %s: any machine that reaches this address can %s\n", ln.Addr(), what)
				if h := host; h == "" || h == "0.0.0.0" || h == "::" {
					url = "http://localhost:" + portOf(ln.Addr()) + "/"
				}
			}
			fmt.Fprintf(errw, "attnlab serve: %s (database %s, %s; Ctrl-C stops)\n", url, st.Path(), mode)
			ctx := cmd.Context()
			done := make(chan error, 1)
			go func() { done <- hs.Serve(ln) }()
			select {
			case err := <-done:
				return fmt.Errorf("serve: %w", err)
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			err = hs.Shutdown(sctx)
			if errors.Is(err, context.DeadlineExceeded) {
				hs.Close()
				err = nil
			}
			if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
				return fmt.Errorf("serve: %w", serr)
			}
			if err != nil {
				return fmt.Errorf("serve: shut down: %w", err)
			}
			fmt.Fprintln(errw, "attnlab serve: stopped")
			return nil
		},
	}
	db = addDBFlag(cmd)
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on, host:port (port 0 picks a free one)")
	f.StringArrayVar(&hosts, "host", nil, "also answer to this host name, as in the URL the dashboard is opened by (repeatable; localhost and IP addresses need none)")
	f.BoolVar(&readOnly, "read-only", true, "only show the database; --read-only=false also lets pages generate with a run's model")
	return cmd
}

// isLoopback reports whether a listen host is this machine's loopback
// interface only.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func portOf(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// hostNameOK reports whether a --host value is a DNS name (letters,
// digits, hyphens and dots, as a Host header carries it).
func hostNameOK(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
