package runs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/attnlab/attnlab/store"
)

// benchQueue trains 100 tiny runs (100 steps, two checkpoints each) with
// workers workers (4 in the figure), each with its own store handle
// and owner as so many processes would have, and reports what the queue and the store cost a run on average
// (QueueCost): claiming it, preparing it, its heartbeats, its metric
// writes, its artifact writes and finishing it, in ms per run, and the
// training time per run for scale (heartbeat 0: the default 5 s). The
// times are wall times of the store calls: with more workers than cores
// they include the wait for a CPU that the other workers' training holds
// when a reply arrives (a PostgreSQL round trip waits so at every reply, a
// SQLite call on its own thread does not); one worker shows the calls
// without that wait. Run it once: go test ./runs -run '^$' -bench Queue100
// -benchtime 1x.
func benchQueue(b *testing.B, target string, heartbeat time.Duration, workers int) {
	ctx := context.Background()
	sets := []string{"seeds=[" + seedList(50) + "]", "train.steps=100", "train.eval_every=50", "train.log_every=10",
		"task.train_size=200", "task.valid_size=20", "task.test_size=20"}
	for b.Loop() {
		st, err := store.Open(target)
		if err != nil {
			b.Fatal(err)
		}
		x := loadExperiment(b, "testdata/sweep4.yaml", sets...)
		x.Name = fmt.Sprintf("queue100-%d", time.Now().UnixNano())
		sub, err := Submit(ctx, st, x)
		if err != nil || len(sub.Runs) != 100 {
			b.Fatalf("submit: %d runs, %v", len(sub.Runs), err)
		}
		start := time.Now()
		var mu sync.Mutex
		var outs []Outcome
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				h, err := store.Open(target)
				if err != nil {
					b.Error(err)
					return
				}
				defer h.Close()
				rep, err := Work(ctx, h, WorkOptions{Filter: store.QueueFilter{Experiments: []string{x.Name}},
					Owner: store.Owner{Host: fmt.Sprintf("worker%d", w), PID: os.Getpid()}, Heartbeat: heartbeat})
				if err != nil {
					b.Error(err)
				}
				mu.Lock()
				outs = append(outs, rep.Outcomes...)
				mu.Unlock()
			})
		}
		wg.Wait()
		wall := time.Since(start)
		st.Close()
		if len(outs) != 100 {
			b.Fatalf("%d runs ended, want 100", len(outs))
		}
		var sum QueueCost
		var train time.Duration
		for _, o := range outs {
			if o.Status != store.StatusDone {
				b.Fatalf("run %d: %s %v", o.Run.ID, o.Status, o.Err)
			}
			c := o.Cost
			sum.Claim += c.Claim
			sum.Prepare += c.Prepare
			sum.Heartbeats += c.Heartbeats
			sum.HeartbeatCount += c.HeartbeatCount
			sum.Metrics += c.Metrics
			sum.MetricWrites += c.MetricWrites
			sum.Artifacts += c.Artifacts
			sum.ArtifactWrites += c.ArtifactWrites
			sum.Finish += c.Finish
			train += o.Run.Finished.Sub(o.Run.Started)
		}
		per := func(d time.Duration) float64 { return float64(d) / 1e6 / 100 }
		b.ReportMetric(per(sum.Claim), "ms-claim/run")
		b.ReportMetric(per(sum.Prepare), "ms-prepare/run")
		b.ReportMetric(per(sum.Heartbeats), "ms-heartbeats/run")
		b.ReportMetric(float64(sum.HeartbeatCount)/100, "heartbeats/run")
		if sum.HeartbeatCount > 0 {
			b.ReportMetric(float64(sum.Heartbeats)/1e6/float64(sum.HeartbeatCount), "ms/heartbeat")
		}
		b.ReportMetric(per(sum.Metrics), "ms-metrics/run")
		b.ReportMetric(float64(sum.MetricWrites)/100, "metric-writes/run")
		b.ReportMetric(per(sum.Artifacts), "ms-artifacts/run")
		b.ReportMetric(float64(sum.ArtifactWrites)/100, "artifact-writes/run")
		b.ReportMetric(per(sum.Finish), "ms-finish/run")
		b.ReportMetric(per(sum.Claim+sum.Heartbeats+sum.Metrics), "ms-queue/run")
		b.ReportMetric(per(sum.Total()), "ms-store/run")
		b.ReportMetric(per(train), "ms-run/run")
		b.ReportMetric(wall.Seconds(), "s-wall")
	}
}

func seedList(n int) string {
	s := "1"
	for i := 2; i <= n; i++ {
		s += fmt.Sprintf(", %d", i)
	}
	return s
}

func BenchmarkQueue100Postgres(b *testing.B) { benchQueue(b, testenv.PostgresURL(b), 0, 4) }

func BenchmarkQueue100SQLite(b *testing.B) {
	benchQueue(b, filepath.Join(b.TempDir(), "q.db"), 0, 4)
}

// BenchmarkQueue100PostgresOneWorker and BenchmarkQueue100SQLiteOneWorker
// train the same 100 runs with one worker: the store's own cost per run,
// without waiting behind other workers for a CPU.
func BenchmarkQueue100PostgresOneWorker(b *testing.B) {
	benchQueue(b, testenv.PostgresURL(b), 0, 1)
}

func BenchmarkQueue100SQLiteOneWorker(b *testing.B) {
	benchQueue(b, filepath.Join(b.TempDir(), "q.db"), 0, 1)
}

// BenchmarkQueue100PostgresBeat is BenchmarkQueue100Postgres with a
// heartbeat every 100 ms instead of 5 s, so that tiny runs heartbeat and a
// heartbeat's cost shows (ms/heartbeat).
func BenchmarkQueue100PostgresBeat(b *testing.B) {
	benchQueue(b, testenv.PostgresURL(b), 100*time.Millisecond, 4)
}

// BenchmarkTakeover measures how long a run whose worker stopped
// heartbeating on another host (a killed node, as kill -9 there) waits
// before a worker here takes it over, with the default heartbeat (5 s) and
// staleness (12 heartbeats): the staleness bound plus at most one poll.
// (On the same host the dead pid is seen at the next poll: see
// TestWorkersShareAQueue in cmd/attnlab.)
func BenchmarkTakeover(b *testing.B) {
	ctx := context.Background()
	target := testenv.PostgresURL(b)
	for b.Loop() {
		st, err := store.Open(target)
		if err != nil {
			b.Fatal(err)
		}
		x := loadExperiment(b, "testdata/sweep4.yaml", "seeds=[1]", "sweep={}", "train.steps=20")
		x.Name = fmt.Sprintf("takeover-%d", time.Now().UnixNano())
		sub, err := Submit(ctx, st, x)
		if err != nil {
			b.Fatal(err)
		}
		gone := store.Owner{Host: "lost-node", PID: 4242}
		if res, err := st.ClaimNext(ctx, gone, store.QueueFilter{Experiments: []string{x.Name}}, time.Minute); err != nil || !res.Claimed {
			b.Fatalf("claim as the lost node: %+v, %v", res, err)
		}
		killed := time.Now() // its last heartbeat
		rep, err := Work(ctx, st, WorkOptions{Filter: store.QueueFilter{RunIDs: []int64{sub.Runs[0].ID}}})
		if err != nil || len(rep.Outcomes) != 1 {
			b.Fatalf("work: %+v, %v", rep, err)
		}
		b.ReportMetric(rep.Outcomes[0].Run.Started.Sub(killed).Seconds(), "s-to-takeover")
		st.Close()
	}
}
