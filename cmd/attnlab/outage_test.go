package main

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attnlab/attnlab/internal/faultproxy"
	"github.com/attnlab/attnlab/internal/testenv"
)

// onLines is a stderr that calls, once each, the action of every trigger
// a written line contains.
type onLines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	actions map[string]func()
}

func (o *onLines) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for trigger, act := range o.actions {
		if bytes.Contains(p, []byte(trigger)) {
			delete(o.actions, trigger)
			act()
		}
	}
	return o.buf.Write(p)
}

// TestRunSaysOutage: `attnlab run` and `attnlab worker` on a PostgreSQL
// database that becomes unreachable while they train say so at once, and
// when the server answers again (they said nothing until their writes gave
// up, minutes later).
func TestRunSaysOutage(t *testing.T) {
	target := testenv.PostgresURL(t)
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.New(t, u.Host)
	db := p.Through(t, target)
	wantOK(t, attnlab(t, "submit", "testdata/long.yaml", "--db", db, "--set", "name=queued"))
	for _, args := range [][]string{
		{"run", "testdata/long.yaml", "--db", db, "--workers", "1"},
		{"worker", "--db", db, "--experiment", "queued"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		stderr := &onLines{actions: map[string]func(){
			"step 20/40":        p.Cut,
			"unreachable since": func() { time.AfterFunc(500*time.Millisecond, p.Forward) },
		}}
		r := attnlabWith(ctx, "", stderr, &stderr.buf, args...)
		timedOut := ctx.Err() != nil
		cancel()
		noTrace(t, r)
		if timedOut {
			t.Fatalf("%s did not end within 2 minutes:\n%v", args[0], r)
		}
		if !strings.Contains(r.stderr, " unreachable since ") || !strings.Contains(r.stderr, "; retrying for up to ") || !strings.Contains(r.stderr, " reachable again after ") {
			t.Errorf("%s: no outage lines:\n%v", args[0], r)
		}
		wantOK(t, r)
	}
}
