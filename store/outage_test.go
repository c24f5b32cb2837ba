package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// faultProxy forwards TCP connections to a server and can cut them (close
// every connection and refuse new ones, as a server restarting does) or
// freeze them (keep them open and forward nothing, as a network partition
// does).
type faultProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	mode   string // "", "cut" or "freeze"
	conns  []net.Conn
	frozen chan struct{} // closed when the freeze ends
}

func newFaultProxy(tb testing.TB, target string) *faultProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target, frozen: make(chan struct{})}
	close(p.frozen)
	go p.serve()
	tb.Cleanup(func() { ln.Close(); p.set("cut"); p.set("") })
	return p
}

func (p *faultProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		if mode == "cut" {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		go p.forward(c)
	}
}

func (p *faultProxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, s)
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			p.mu.Lock()
			frozen := p.frozen
			p.mu.Unlock()
			<-frozen // a frozen link holds what it read
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
	}
	go pipe(s, c)
	pipe(c, s)
}

// set switches the proxy to mode: "cut" closes every connection and
// refuses new ones, "freeze" forwards nothing more, "" forwards again.
func (p *faultProxy) set(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == "freeze" {
		close(p.frozen)
	}
	p.mode = mode
	switch mode {
	case "cut":
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	case "freeze":
		p.frozen = make(chan struct{})
	}
}

// through returns target's URL with its host and port replaced by the
// proxy's.
func (p *faultProxy) through(tb testing.TB, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

// outageOwner holds proxiedStore's run.
var outageOwner = Owner{Host: "h", PID: 1}

// proxiedStore opens a fresh PostgreSQL store through a faultProxy, with
// one run running under outageOwner, and returns both and the run.
func proxiedStore(t *testing.T) (*Store, *faultProxy, Run) {
	t.Helper()
	pgBase.Lock()
	base := pgBase.url
	pgBase.Unlock()
	target := pgSchema(t, base)
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := newFaultProxy(t, u.Host)
	s, err := Open(p.through(t, target))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, runs, err := s.Submit(context.Background(), ExperimentSpec{Name: "outage"}, []RunSpec{{Hash: "h1", Seed: 1, Config: `{"seed":1}`}})
	if err != nil {
		t.Fatal(err)
	}
	s.alive = func(int) bool { return true }
	if _, err := s.Claim(context.Background(), runs[0].ID, outageOwner, time.Minute); err != nil {
		t.Fatal(err)
	}
	return s, p, runs[0]
}

// testPostgresRidesOutRestart: a server that drops every connection and
// refuses new ones for a while (a restart) costs the writes made meanwhile
// only time: they are retried until it answers again.
func testPostgresRidesOutRestart(t *testing.T) {
	s, p, r := proxiedStore(t)
	ctx, owner := context.Background(), outageOwner
	p.set("cut")
	back := make(chan struct{})
	go func() {
		time.Sleep(1500 * time.Millisecond)
		p.set("")
		close(back)
	}()
	w := s.NewMetricWriter(r.ID, 1)
	if err := w.Log(1, "train/loss", 0.5); err != nil {
		t.Fatalf("metric write during the restart: %v", err)
	}
	if err := s.Heartbeat(ctx, r.ID, owner); err != nil {
		t.Fatalf("heartbeat during the restart: %v", err)
	}
	select {
	case <-back:
	default:
		t.Fatal("the writes returned before the server was back: nothing was cut")
	}
	if _, err := s.FinishRun(ctx, r.ID, owner, Ending{Status: StatusDone}); err != nil {
		t.Fatalf("finish after the restart: %v", err)
	}
	got, err := s.RunByID(ctx, r.ID)
	if err != nil || got.Status != StatusDone {
		t.Fatalf("run after the restart: %+v, %v", got, err)
	}
	hs, err := s.MetricHistory(ctx, []int64{r.ID}, "train/loss")
	if h := hs[r.ID]; err != nil || len(h) != 1 || h[0].Value != 0.5 {
		t.Fatalf("history after the restart: %+v, %v", h, err)
	}

	// An idle worker's polls (Queue, Held) ride out a restart too: they
	// used to fail at once and end the worker.
	p.set("cut")
	back = make(chan struct{})
	go func() {
		time.Sleep(1500 * time.Millisecond)
		p.set("")
		close(back)
	}()
	counts, err := s.Queue(ctx, QueueFilter{})
	if err != nil || counts[StatusDone] != 1 {
		t.Fatalf("queue during the restart: %v, %v", counts, err)
	}
	if _, err := s.Held(ctx, QueueFilter{}, owner); err != nil {
		t.Fatalf("held runs during the restart: %v", err)
	}
	select {
	case <-back:
	default:
		t.Fatal("the reads returned before the server was back: nothing was cut")
	}

	// A poll that waits out an outage still ends with its context (Ctrl-C
	// on an idle worker).
	p.set("cut")
	defer p.set("")
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := s.Queue(cctx, QueueFilter{}); err == nil || time.Since(start) > time.Second {
		t.Fatalf("queue during an outage with a context ending after 200 ms: %v after %v, want an error at once", err, time.Since(start))
	}
}

// testPostgresPartitionEndsWrites: a connection on which the server stops
// answering (a partition) does not hold a write forever: each try ends
// after attemptTimeout, and once the server has been unreachable for
// outageBudget the write fails with ErrUnavailable; and the outage does
// not outlive the partition.
func testPostgresPartitionEndsWrites(t *testing.T) {
	s, p, r := proxiedStore(t)
	ctx, owner := context.Background(), outageOwner
	defer func(a, b time.Duration) { attemptTimeout, outageBudget = a, b }(attemptTimeout, outageBudget)
	attemptTimeout, outageBudget = 300*time.Millisecond, time.Second
	p.set("freeze")
	done := make(chan error, 1)
	go func() { done <- s.Heartbeat(ctx, r.ID, owner) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("heartbeat over a partition: %v, want ErrUnavailable", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("a heartbeat over a partition did not return within a minute")
	}
	p.set("")
	if err := s.Heartbeat(ctx, r.ID, owner); err != nil {
		t.Fatalf("heartbeat once the partition ended: %v", err)
	}
}

// testPostgresOutageBudgetShared: the writes that follow one another
// through an outage longer than outageBudget (a worker's metric flush, then
// the run's end, then its heartbeat) share the budget: once one has given
// up, the next fail at their first refused try instead of each waiting a
// whole budget of its own (a worker used to take four budgets, 8 minutes, to
// give up). A write that reaches the server ends the outage, and so does a
// pause of outageGap without a try: the next outage gets a whole budget.
func testPostgresOutageBudgetShared(t *testing.T) {
	s, p, r := proxiedStore(t)
	ctx, owner := context.Background(), outageOwner
	defer func(a, b, g time.Duration) { attemptTimeout, outageBudget, outageGap = a, b, g }(attemptTimeout, outageBudget, outageGap)
	attemptTimeout, outageBudget, outageGap = 500*time.Millisecond, time.Second, 2*time.Second
	rideOut := func(what string) {
		t.Helper()
		start := time.Now()
		err := s.Heartbeat(ctx, r.ID, owner)
		if !errors.Is(err, ErrUnavailable) || time.Since(start) < outageBudget {
			t.Fatalf("%s: heartbeat during an outage: %v after %v, want ErrUnavailable after the budget of %v", what, err, time.Since(start), outageBudget)
		}
	}
	p.set("cut")
	rideOut("first outage")
	writes := []struct {
		name string
		f    func() error
	}{
		{"metric flush", func() error {
			w := s.NewMetricWriter(r.ID, 10)
			if err := w.Log(1, "train/loss", 0.5); err != nil {
				return err
			}
			return w.Flush(ctx)
		}},
		{"finish", func() error {
			_, err := s.FinishRun(ctx, r.ID, owner, Ending{Status: StatusFailed, Error: "x"})
			return err
		}},
		{"heartbeat", func() error { return s.Heartbeat(ctx, r.ID, owner) }},
	}
	for _, w := range writes {
		start := time.Now()
		err := w.f()
		if !errors.Is(err, ErrUnavailable) || time.Since(start) > outageBudget/2 {
			t.Fatalf("%s after the outage outlasted the budget: %v after %v, want ErrUnavailable at once", w.name, err, time.Since(start))
		}
	}

	p.set("")
	if err := s.Heartbeat(ctx, r.ID, owner); err != nil {
		t.Fatalf("heartbeat once the server is back: %v", err)
	}
	p.set("cut")
	rideOut("an outage after the server answered")

	time.Sleep(outageGap + 100*time.Millisecond)
	rideOut("an outage after a pause without writes")
	p.set("")
}

// testPostgresRidesOutTooManyClients: a server that refuses new
// connections because it has too many ("sorry, too many clients already",
// SQLSTATE 53300: many workers on a shared server) is ridden out as a
// restart is: the write waits for a connection instead of failing at once.
// Workers used to exit with that error while the others trained.
func testPostgresRidesOutTooManyClients(t *testing.T) {
	ctx := context.Background()
	pgBase.Lock()
	base := pgBase.url
	pgBase.Unlock()
	target := pgSchema(t, base)
	admin, err := sql.Open("pgx", target)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	role := "attnlab_r_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE ROLE "+role+" LOGIN"); err != nil {
		t.Skipf("cannot create a role to limit its connections: %v", err)
	}
	defer admin.ExecContext(ctx, "DROP OWNED BY "+role+" CASCADE; DROP ROLE "+role)
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "GRANT ALL ON SCHEMA "+u.Query().Get("search_path")+" TO "+role); err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	s, err := Open(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, runs, err := s.Submit(ctx, ExperimentSpec{Name: "busy"}, []RunSpec{{Hash: "h1", Seed: 1, Config: `{"seed":1}`}})
	if err != nil {
		t.Fatal(err)
	}
	s.db.SetMaxIdleConns(0) // every write connects anew
	if _, err := admin.ExecContext(ctx, "ALTER ROLE "+role+" CONNECTION LIMIT 0"); err != nil {
		t.Fatal(err)
	}
	back := make(chan struct{})
	go func() {
		time.Sleep(1500 * time.Millisecond)
		admin.ExecContext(ctx, "ALTER ROLE "+role+" CONNECTION LIMIT -1")
		close(back)
	}()
	if _, err := s.Claim(ctx, runs[0].ID, outageOwner, time.Minute); err != nil {
		t.Fatalf("claim while the server has no connection to give: %v", err)
	}
	select {
	case <-back:
	default:
		t.Fatal("the claim returned before the server took connections again: nothing was refused")
	}
}

// TestOutageClockRetryingKeepsItsOutage: the tries of one write belong to
// one outage however long their backoff; only another write that fails
// after outageGap without a try starts a new one, and a success ends it.
// A write whose jittered backoff grew past outageGap used to restart its
// own outage at every try and retry for ever (a CI run hung 10 minutes in
// testPostgresOutageBudgetShared, whose outageGap is 2 s).
func TestOutageClockRetryingKeepsItsOutage(t *testing.T) {
	defer func(g time.Duration) { outageGap = g }(outageGap)
	outageGap = 50 * time.Millisecond
	var c outageClock
	first := c.failed(time.Now(), false)
	time.Sleep(2 * outageGap)
	if got := c.failed(time.Now(), true); !got.Equal(first) {
		t.Fatalf("a retry after a backoff longer than outageGap started a new outage (%v, first %v)", got, first)
	}
	time.Sleep(2 * outageGap)
	second := c.failed(time.Now(), false)
	if !second.After(first) {
		t.Fatalf("another write failing after outageGap without a try kept the old outage (%v)", second)
	}
	if got := c.failed(time.Now(), false); !got.Equal(second) {
		t.Fatalf("a failure right after another started a new outage (%v, want %v)", got, second)
	}
	c.ok()
	if third := c.failed(time.Now(), true); !third.After(second) {
		t.Fatalf("the outage outlived a success (%v)", third)
	}
}
