package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/attnlab/attnlab/internal/faultproxy"
)

// outageOwner holds proxiedStore's run.
var outageOwner = Owner{Host: "h", PID: 1}

// proxiedStore opens a fresh PostgreSQL store through a faultproxy.Proxy, with
// one run running under outageOwner, and returns both and the run.
func proxiedStore(t *testing.T) (*Store, *faultproxy.Proxy, Run) {
	t.Helper()
	pgBase.Lock()
	base := pgBase.url
	pgBase.Unlock()
	target := pgSchema(t, base)
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.New(t, u.Host)
	s, err := Open(p.Through(t, target))
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
	p.Cut()
	back := make(chan struct{})
	go func() {
		time.Sleep(1500 * time.Millisecond)
		p.Forward()
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
	p.Cut()
	back = make(chan struct{})
	go func() {
		time.Sleep(1500 * time.Millisecond)
		p.Forward()
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
	p.Cut()
	defer p.Forward()
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
	p.Freeze()
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
	p.Forward()
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
	p.Cut()
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

	p.Forward()
	if err := s.Heartbeat(ctx, r.ID, owner); err != nil {
		t.Fatalf("heartbeat once the server is back: %v", err)
	}
	p.Cut()
	rideOut("an outage after the server answered")

	time.Sleep(outageGap + 100*time.Millisecond)
	rideOut("an outage after a pause without writes")
	p.Forward()
}

// adminSchema returns the URL of a fresh schema, a connection to it of
// the test's own (closed when the test ends), and a random suffix for the
// names of what the test creates on the server.
func adminSchema(t *testing.T) (target string, admin *sql.DB, unique string) {
	t.Helper()
	pgBase.Lock()
	base := pgBase.url
	pgBase.Unlock()
	target = pgSchema(t, base)
	admin, err := sql.Open("pgx", target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return target, admin, hex.EncodeToString(b[:])
}

// testPostgresRidesOutTooManyClients: a server that refuses new
// connections because it has too many ("sorry, too many clients already",
// SQLSTATE 53300: many workers on a shared server) is ridden out as a
// restart is: the write waits for a connection instead of failing at once.
// Workers used to exit with that error while the others trained.
func testPostgresRidesOutTooManyClients(t *testing.T) {
	ctx := context.Background()
	target, admin, unique := adminSchema(t)
	role := "attnlab_r_" + unique
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

// testPostgresUnreachable: Unreachable tells an error of a server that
// dropped the connection or refuses new ones (the dashboard answers 503
// for it) from one of the request (a run that does not exist), on
// PostgreSQL; it is never true on SQLite.
func testPostgresUnreachable(t *testing.T) {
	s, p, r := proxiedStore(t)
	ctx := context.Background()
	_, err := s.ResolveRun(ctx, "no-such-run")
	if !errors.Is(err, ErrNotFound) || s.Unreachable(err) {
		t.Fatalf("a run that does not exist: %v, Unreachable %v", err, s.Unreachable(err))
	}
	p.Cut()
	_, cut := s.Experiments(ctx)
	if cut == nil || !s.Unreachable(cut) {
		t.Fatalf("with every connection cut: %v, Unreachable %v", cut, s.Unreachable(cut))
	}
	p.Forward()
	if _, err := s.Experiments(ctx); err != nil {
		t.Fatalf("once the server is back: %v", err)
	}
	if s.Unreachable(ErrUnavailable) != true || s.Unreachable(nil) {
		t.Errorf("Unreachable(ErrUnavailable) must be true, Unreachable(nil) false")
	}

	// The end of the caller's own context says nothing of the server.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	for name, c := range map[string]context.Context{"cancelled": cancelled, "past its deadline": expired} {
		_, err := s.Experiments(c)
		if err == nil || s.Unreachable(err) {
			t.Errorf("a read whose context is %s: %v, Unreachable %v", name, err, s.Unreachable(err))
		}
	}
	for _, err := range []error{context.Canceled, context.DeadlineExceeded} {
		if s.Unreachable(err) {
			t.Errorf("Unreachable(%v) is true", err)
		}
	}
	// A try of a write that the server leaves unanswered is the server's
	// state, though it ends by a deadline; here the caller's deadline ends
	// the write before the outage's budget does.
	defer func(a, b time.Duration) { attemptTimeout, outageBudget = a, b }(attemptTimeout, outageBudget)
	attemptTimeout, outageBudget = 200*time.Millisecond, time.Minute
	p.Freeze()
	short, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	err = s.Heartbeat(short, r.ID, outageOwner)
	p.Forward()
	if err == nil || errors.Is(err, ErrUnavailable) || !s.Unreachable(err) {
		t.Errorf("a heartbeat the frozen server left unanswered: %v, Unreachable %v", err, s.Unreachable(err))
	}

	lite, err := Open(filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if lite.Unreachable(ErrUnavailable) || lite.Unreachable(cut) {
		t.Errorf("Unreachable is never true on SQLite")
	}
}

// testPostgresTerminatedConnectionsReplaced: pooled connections that the
// server terminated while idle (a restart; here pg_terminate_backend) are
// replaced before use, so the next read succeeds even within the second
// of idleness in which pgx does not ping a connection. The dashboard's
// first page after a restart used to answer 503 (500 before that) from a
// query sent on a dead connection.
func testPostgresTerminatedConnectionsReplaced(t *testing.T) {
	ctx := context.Background()
	target, admin, unique := adminSchema(t)
	app := "attnlab_term_" + unique
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	s, err := Open(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for round := 1; round <= 3; round++ {
		if _, err := s.Experiments(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app); err != nil {
			t.Fatal(err)
		}
		// pg_terminate_backend only signals: wait until the backends are gone.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			var n int
			if err := admin.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d backends still there 10 s after pg_terminate_backend", n)
			}
		}
		if _, err := s.Experiments(ctx); err != nil {
			t.Fatalf("round %d: a read right after the server terminated the pooled connections: %v", round, err)
		}
	}
}

// testPostgresTellsOutage: OnOutage tells an outage once when the writes
// begin to ride it out, however many writes wait through it, and once
// when a try reaches the server again; SetOutageBudget bounds the ride.
func testPostgresTellsOutage(t *testing.T) {
	s, p, r := proxiedStore(t)
	ctx, owner := context.Background(), outageOwner
	var (
		mu     sync.Mutex
		events []Outage
	)
	s.OnOutage(func(o Outage) {
		mu.Lock()
		events = append(events, o)
		mu.Unlock()
	})
	s.SetOutageBudget(time.Second)
	told := func() []Outage {
		mu.Lock()
		defer mu.Unlock()
		return append([]Outage(nil), events...)
	}
	p.Cut()
	start := time.Now()
	for range 3 {
		if err := s.Heartbeat(ctx, r.ID, owner); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("heartbeat during an outage: %v, want ErrUnavailable", err)
		}
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("the writes gave up after %v, want about the budget of 1s", d)
	}
	if ev := told(); len(ev) != 1 || !ev[0].End.IsZero() || ev[0].Budget != time.Second || ev[0].Since.Before(start) {
		t.Fatalf("during the outage OnOutage was told %+v, want its start once, with the budget of 1s", ev)
	}
	p.Forward()
	if err := s.Heartbeat(ctx, r.ID, owner); err != nil {
		t.Fatalf("heartbeat once the server is back: %v", err)
	}
	if err := s.Heartbeat(ctx, r.ID, owner); err != nil {
		t.Fatalf("heartbeat once the server is back: %v", err)
	}
	ev := told()
	if len(ev) != 2 || ev[1].End.IsZero() || !ev[1].Since.Equal(ev[0].Since) {
		t.Fatalf("after the outage OnOutage was told %+v, want its start and then its end", ev)
	}
}

// TestOutageClockTellsWithoutItsLock: the OnOutage function is called
// without the clock's lock: while it is slow, other writes record their
// tries (and read the budget) without waiting for it, and a function that
// uses the clock itself (as a function that uses the store does) does not
// deadlock. The events found meanwhile are told after it, in order, by the
// goroutine already telling. The function used to be called with the lock
// held, so that a slow one stopped every write of the store.
func TestOutageClockTellsWithoutItsLock(t *testing.T) {
	defer func(g time.Duration) { outageGap = g }(outageGap)
	outageGap = time.Hour
	var (
		c       outageClock
		mu      sync.Mutex
		told    []Outage
		entered = make(chan struct{})
		release = make(chan struct{})
	)
	c.notify = func(o Outage) {
		c.budgetNow() // uses the clock: deadlocked while its lock was held
		mu.Lock()
		told = append(told, o)
		first := len(told) == 1
		mu.Unlock()
		if first {
			close(entered)
			<-release
		}
	}
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	slow := make(chan time.Time)
	go func() { slow <- c.failed(time.Now(), false) }()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the outage's start was not told within 10 s: the function deadlocked on the clock")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.failed(time.Now(), false) // the same outage: nothing to tell
		c.budgetNow()
		c.ok() // its end: queued, told by the slow goroutine
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("other writes waited for a slow OnOutage function (10 s)")
	}
	mu.Lock()
	n := len(told)
	mu.Unlock()
	if n != 1 {
		t.Fatalf("told %d events while the first call was still running, want 1 (calls must not overlap)", n)
	}
	close(release)
	since := <-slow
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 2 || !told[0].End.IsZero() || told[1].End.IsZero() || !told[0].Since.Equal(since) || !told[1].Since.Equal(since) {
		t.Fatalf("told %+v, want the outage's start and then its end", told)
	}
}

// TestOutageClockPairsSuccessiveOutages: each outage told begun is told
// ended before the next one begins — also when the writes gave up on it
// and the next failure, after outageGap without a try, begins a new one
// (that end is Lapsed, at the last failed try). The second start used to
// follow the first with no end between them.
func TestOutageClockPairsSuccessiveOutages(t *testing.T) {
	defer func(g time.Duration) { outageGap = g }(outageGap)
	outageGap = 50 * time.Millisecond
	var (
		c    outageClock
		told []Outage
	)
	c.notify = func(o Outage) { told = append(told, o) }
	first := c.failed(time.Now(), false)
	c.failed(time.Now(), false)
	time.Sleep(2 * outageGap)
	second := c.failed(time.Now(), false)
	c.ok()
	c.ok()
	third := c.failed(time.Now(), false)
	c.ok()
	want := []struct {
		since      time.Time
		end, lapse bool
	}{{first, false, false}, {first, true, true}, {second, false, false}, {second, true, false}, {third, false, false}, {third, true, false}}
	if len(told) != len(want) {
		t.Fatalf("told %d events, want %d (start, end for each of 3 outages): %+v", len(told), len(want), told)
	}
	for i, w := range want {
		o := told[i]
		if !o.Since.Equal(w.since) || o.End.IsZero() == w.end || o.Lapsed != w.lapse {
			t.Fatalf("event %d = %+v, want since %v, end %v, lapsed %v", i, o, w.since, w.end, w.lapse)
		}
	}
	if !told[1].End.Before(told[2].Since) || told[1].End.Before(first) {
		t.Fatalf("the lapsed end %v is not the first outage's last failed try (began %v, next began %v)", told[1].End, first, told[2].Since)
	}
}

// testPostgresTellsSuccessiveOutages: two outages, the second beginning
// after the writes gave up on the first and none tried for outageGap, are
// told start, end, start, end — the first's end Lapsed, as no try saw the
// server back — and an OnOutage function that writes to the store itself
// (its own write rides the same outage) neither deadlocks nor is told
// anything twice.
func testPostgresTellsSuccessiveOutages(t *testing.T) {
	s, p, r := proxiedStore(t)
	ctx, owner := context.Background(), outageOwner
	defer func(a, g time.Duration) { attemptTimeout, outageGap = a, g }(attemptTimeout, outageGap)
	attemptTimeout, outageGap = 500*time.Millisecond, 2*time.Second
	var (
		mu     sync.Mutex
		events []Outage
	)
	s.OnOutage(func(o Outage) {
		mu.Lock()
		events = append(events, o)
		mu.Unlock()
		s.Heartbeat(ctx, r.ID, owner) // deadlocked while the clock's lock was held
	})
	s.SetOutageBudget(time.Second)
	heartbeat := func(what string, want error) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- s.Heartbeat(ctx, r.ID, owner) }()
		select {
		case err := <-done:
			if want == nil && err != nil || want != nil && !errors.Is(err, want) {
				t.Fatalf("heartbeat %s: %v, want %v", what, err, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("heartbeat %s still waiting after 30 s: deadlocked in OnOutage", what)
		}
	}
	p.Cut()
	heartbeat("during the first outage", ErrUnavailable)
	time.Sleep(outageGap + 100*time.Millisecond)
	heartbeat("during the second outage", ErrUnavailable)
	p.Forward()
	heartbeat("once the server is back", nil)
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 4 || !events[0].End.IsZero() || !events[1].Lapsed || !events[1].Since.Equal(events[0].Since) ||
		!events[2].End.IsZero() || !events[2].Since.After(events[1].End) ||
		events[3].End.IsZero() || events[3].Lapsed || !events[3].Since.Equal(events[2].Since) {
		t.Fatalf("OnOutage was told %+v, want start, lapsed end, start, end", events)
	}
}
