package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// dumpStore writes everything a store holds about its experiments' runs, by
// identity (experiment, hash), without database ids: two stores that hold
// the same results dump the same text.
func dumpStore(t *testing.T, s *Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	exps, err := s.Experiments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range exps {
		fmt.Fprintf(&b, "experiment %s %q %q %q %s %s\n", x.Name, x.Description, x.YAML, x.Dir, x.Created.Format(time.RFC3339Nano), x.Updated.Format(time.RFC3339Nano))
		runs, err := s.Runs(ctx, RunFilter{Experiments: []string{x.Name}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			fmt.Fprintf(&b, "run %s seed %d %s %s %s attempt %d lost %d/%d keep %v err %q owner %s:%d %s/%s hb %s st %s fin %s cr %s\n",
				r.Hash, r.Seed, r.Config, r.Point, r.Status, r.Attempt, r.Lost, r.MaxAttempts, r.KeepCheckpoints, r.Error,
				r.Host, r.PID, r.Version, r.GoVersion, r.Heartbeat.Format(time.RFC3339Nano), r.Started.Format(time.RFC3339Nano),
				r.Finished.Format(time.RFC3339Nano), r.Created.Format(time.RFC3339Nano))
			params, err := s.Params(ctx, []int64{r.ID})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range params[r.ID] {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v := params[r.ID][k]
				fmt.Fprintf(&b, "  param %s %s %s\n", k, v.kind(), v.String())
			}
			mkeys, err := s.MetricKeys(ctx, []int64{r.ID})
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range mkeys {
				h, err := s.MetricHistory(ctx, []int64{r.ID}, k)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range h[r.ID] {
					fmt.Fprintf(&b, "  metric %s %d %v %d\n", k, p.Step, p.Value, p.Wall.UnixNano())
				}
			}
			sums, err := s.Summaries(ctx, []int64{r.ID})
			if err != nil {
				t.Fatal(err)
			}
			keys = keys[:0]
			for k := range sums[r.ID] {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "  summary %s %v\n", k, sums[r.ID][k])
			}
			arts, err := s.Artifacts(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range arts {
				data, err := s.Artifact(ctx, r.ID, a.Kind, a.Name)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "  artifact %s/%s %d %x %s\n", a.Kind, a.Name, a.Size, data, a.Created.Format(time.RFC3339Nano))
			}
		}
	}
	return b.String()
}

// fillForCopy makes an experiment whose runs are in every state, with
// params of every kind, special metric values and artifacts.
func fillForCopy(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	// Nanoseconds, which both engines keep to the microsecond (truncated),
	// and which a copy keeps exactly.
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 123456789, time.UTC)
	s.now = func() time.Time { return t0 }
	specs := []RunSpec{
		{Hash: "done0001", Seed: 1, Config: `{"a":1}`, Point: `{"a":1}`, KeepCheckpoints: true,
			Params: []Param{{"a", 1}, {"lr", 3e-4}, {"name", "dot"}, {"bi", true}, {"nan", math.NaN()}, {"none", nil}, {"inf", math.Inf(-1)}}},
		{Hash: "fail0002", Seed: 2, Config: `{"a":2}`, MaxAttempts: 5},
		{Hash: "intr0003", Seed: 3, Config: `{"a":3}`},
		{Hash: "queu0004", Seed: 4, Config: `{"a":4}`},
		{Hash: "runn0005", Seed: 5, Config: `{"a":5}`},
	}
	_, runs, err := s.Submit(ctx, ExperimentSpec{Name: "copyme", Description: "all states", YAML: "name: copyme\n", Dir: "/lab"}, specs)
	if err != nil {
		t.Fatal(err)
	}
	o := Owner{Host: "node", PID: 17, Version: "v", GoVersion: "go"}
	for i, st := range []Status{StatusDone, StatusFailed, StatusInterrupted} {
		s.now = func() time.Time { return t0.Add(time.Duration(i+1) * time.Minute) }
		claimAs(o)(t, s, runs[i].ID)
		w := s.NewMetricWriter(runs[i].ID, 0)
		for step, v := range []float64{2.5, math.NaN(), math.Inf(1), 1.0 / 3} {
			w.Log(step*10, "train/loss", v)
			w.Log(step*10, "valid/loss", -v)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.PutSummaries(ctx, runs[i].ID, map[string]float64{"test/bleu": float64(i) / 7, "test/ppl": math.Inf(1), "test/x": math.NaN()}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutArtifact(ctx, runs[i].ID, "checkpoint", "checkpoint.safetensors", []byte{1, 2, byte(i), 0}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutArtifact(ctx, runs[i].ID, "samples", "empty.json", nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, runs[i].ID, o, st, fmt.Sprintf("because %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	claimAs(o)(t, s, runs[4].ID)
	s.now = nil
}

func testCopy(t *testing.T) {
	ctx := context.Background()
	src := newStore(t)
	fillForCopy(t, src)
	want := dumpStore(t, src)
	if !strings.Contains(want, "12:00:00.123456Z") || !strings.Contains(want, "12:01:00.123456Z") {
		t.Fatalf("%s does not keep its timestamps to the microsecond:\n%s", src.Engine(), want)
	}
	// Into a store of the same engine and into a SQLite file, and back.
	sqlite, err := Open(filepath.Join(t.TempDir(), "copy.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sqlite.Close()
	all := CopyOptions{Unfinished: true}
	for _, dst := range []*Store{newStore(t), sqlite} {
		rep, err := src.Copy(ctx, dst, all)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Experiments != 1 || rep.NewExperiments != 1 || rep.Runs[CopyNew] != 4 || rep.Runs[CopyRunning] != 1 {
			t.Fatalf("%s → %s: %+v, want 4 runs copied and the running one skipped", src.Engine(), dst.Engine(), rep)
		}
		got := dumpStore(t, dst)
		wantCopied := strings.Replace(want, want[strings.Index(want, "run runn0005"):], "", 1)
		if got != wantCopied {
			t.Fatalf("%s → %s copy differs:\n--- got\n%s\n--- want\n%s", src.Engine(), dst.Engine(), got, wantCopied)
		}
		// Idempotent: a second copy changes nothing.
		rep, err = src.Copy(ctx, dst, all)
		if err != nil || rep.Runs[CopySame] != 4 || rep.Runs[CopyNew] != 0 || rep.NewExperiments != 0 {
			t.Fatalf("second copy: %+v, %v; want every run kept", rep, err)
		}
		if again := dumpStore(t, dst); again != got {
			t.Fatalf("a second copy changed the target:\n%s", again)
		}
		// The same done run with other results in the target (trained
		// again elsewhere): kept, and counted as differing.
		rs, err := dst.Runs(ctx, RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(rs, func(r Run) bool { return r.Hash == "done0001" })
		if err := dst.PutSummaries(ctx, rs[i].ID, map[string]float64{"test/bleu": 0.5}); err != nil {
			t.Fatal(err)
		}
		changed := dumpStore(t, dst)
		rep, err = src.Copy(ctx, dst, all)
		if err != nil || rep.Runs[CopyDiffers] != 1 || rep.Runs[CopySame] != 3 {
			t.Fatalf("copy onto a done run with other summaries: %+v, %v; want 1 differing, 3 kept", rep, err)
		}
		if again := dumpStore(t, dst); again != changed {
			t.Fatalf("a copy replaced the target's results:\n%s", again)
		}
		if err := dst.PutSummaries(ctx, rs[i].ID, map[string]float64{"test/bleu": 0}); err != nil { // back as it was
			t.Fatal(err)
		}
		if again := dumpStore(t, dst); again != got {
			t.Fatalf("the target did not read back as copied:\n%s", again)
		}
		// And back into a fresh store of the source's engine: the same.
		back := newStore(t)
		if _, err := dst.Copy(ctx, back, all); err != nil {
			t.Fatal(err)
		}
		if b := dumpStore(t, back); b != wantCopied {
			t.Fatalf("%s → %s → %s differs:\n--- got\n%s\n--- want\n%s", src.Engine(), dst.Engine(), back.Engine(), b, wantCopied)
		}
	}

	// A run that got further in the source replaces the target's; a run
	// the target is running is left alone.
	dst := newStore(t)
	_, druns, err := dst.Submit(ctx, ExperimentSpec{Name: "copyme"}, []RunSpec{
		{Hash: "done0001", Config: `{"a":1}`}, {Hash: "fail0002", Config: `{"a":2}`}, {Hash: "intr0003", Config: `{"a":3}`}})
	if err != nil {
		t.Fatal(err)
	}
	claimAs(Owner{Host: "busy", PID: 1})(t, dst, druns[2].ID)
	w := dst.NewMetricWriter(druns[0].ID, 0)
	w.Log(999, "stale/metric", 1)
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := src.Copy(ctx, dst, CopyOptions{Experiments: []string{"copyme"}, Unfinished: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Runs[CopyUpdated] != 2 || rep.Runs[CopyTargetOn] != 1 || rep.Runs[CopyNew] != 1 || rep.NewExperiments != 0 {
		t.Fatalf("copy onto older runs: %+v, want 2 updated, 1 busy, 1 new", rep)
	}
	r, err := dst.RunByID(ctx, druns[0].ID)
	if err != nil || r.Status != StatusDone || r.Error != "because 0" {
		t.Fatalf("updated run = %+v, %v", r, err)
	}
	if keys, _ := dst.MetricKeys(ctx, []int64{r.ID}); strings.Join(keys, " ") != "train/loss valid/loss" {
		t.Fatalf("updated run's metrics = %v, want the source's only", keys)
	}
	if r, _ := dst.RunByID(ctx, druns[2].ID); r.Status != StatusRunning || r.Host != "busy" {
		t.Fatalf("the target's running run was touched: %+v", r)
	}
	if _, err := src.Copy(ctx, dst, CopyOptions{Experiments: []string{"nope"}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("copy of an unknown experiment: %v", err)
	}
}

// testPostgresCopyUsesCOPY: copied into PostgreSQL, metric rows go by COPY
// (every row, once), and the copy is the source's and idempotent. It runs
// alone (not parallel), so the package's COPY counter is its own.
func testPostgresCopyUsesCOPY(t *testing.T) {
	ctx := context.Background()
	src, err := Open(filepath.Join(t.TempDir(), "src.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	fillForCopy(t, src)
	want := dumpStore(t, src)
	if !strings.Contains(want, "12:00:00.123456Z") || !strings.Contains(want, "12:01:00.123456Z") {
		t.Fatalf("%s does not keep its timestamps to the microsecond:\n%s", src.Engine(), want)
	}
	want = strings.Replace(want, want[strings.Index(want, "run runn0005"):], "", 1) // running: not copied
	dst := newStore(t)
	for i, rows := range []int64{24, 0} { // 3 finished runs × 8 rows, then nothing new
		before := copiedRows.Load()
		if _, err := src.Copy(ctx, dst, CopyOptions{Unfinished: true}); err != nil {
			t.Fatal(err)
		}
		if n := copiedRows.Load() - before; n != rows {
			t.Errorf("copy %d: %d metric rows went by COPY, want %d", i+1, n, rows)
		}
		if got := dumpStore(t, dst); got != want {
			t.Fatalf("copy %d differs:\n--- got\n%s\n--- want\n%s", i+1, got, want)
		}
	}
}

// testCopyLeavesTheQueue: by default Copy copies finished runs only. The
// source's queued and interrupted runs (a laptop still training them) used
// to join the target's queue, where any worker took them and trained them
// a second time; now they are counted as CopyUnfinished and the target's
// queue stays empty. A run the target already has queued is still replaced
// by the source's done one.
func testCopyLeavesTheQueue(t *testing.T) {
	ctx := context.Background()
	src := newStore(t)
	fillForCopy(t, src)
	dst := newStore(t)
	_, druns, err := dst.Submit(ctx, ExperimentSpec{Name: "copyme"}, []RunSpec{{Hash: "done0001", Config: `{"a":1}`}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := src.Copy(ctx, dst, CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Runs[CopyUpdated] != 1 || rep.Runs[CopyNew] != 1 || rep.Runs[CopyUnfinished] != 2 || rep.Runs[CopyRunning] != 1 {
		t.Fatalf("copy: %+v, want done0001 updated, fail0002 copied, 2 unfinished and 1 running left out", rep)
	}
	if r, err := dst.RunByID(ctx, druns[0].ID); err != nil || r.Status != StatusDone {
		t.Fatalf("the target's queued run = %+v, %v; want the source's done one", r, err)
	}
	res, err := dst.ClaimNext(ctx, Owner{Host: "worker", PID: 1}, QueueFilter{}, time.Minute)
	if err != nil || res.Claimed {
		t.Fatalf("a worker of the target claimed %+v (%v): the source's unfinished runs reached its queue", res.Run, err)
	}
	hashes := map[string]Status{}
	rs, err := dst.Runs(ctx, RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		hashes[r.Hash] = r.Status
	}
	if len(hashes) != 2 || hashes["done0001"] != StatusDone || hashes["fail0002"] != StatusFailed {
		t.Fatalf("the target holds %v, want done0001 done and fail0002 failed", hashes)
	}
	// Asked for, they are copied, and the target's workers take them.
	rep, err = src.Copy(ctx, dst, CopyOptions{Unfinished: true})
	if err != nil || rep.Runs[CopyNew] != 2 || rep.Runs[CopySame] != 2 {
		t.Fatalf("copy with Unfinished: %+v, %v; want 2 copied, 2 kept", rep, err)
	}
	if res, err := dst.ClaimNext(ctx, Owner{Host: "worker", PID: 1}, QueueFilter{}, time.Minute); err != nil || !res.Claimed {
		t.Fatalf("after copying the unfinished runs nothing could be claimed: %+v, %v", res, err)
	}
}

// testCopyConcurrent: copies that run at once into one new target (two
// `attnlab sync` into a fresh database) all succeed. The experiment is
// created once, the way Submit creates it, however their transactions
// interleave; on PostgreSQL the loser of the race used to fail with the
// unique constraint's error.
func testCopyConcurrent(t *testing.T) {
	ctx := context.Background()
	src := newStore(t)
	fillForCopy(t, src)
	const copiers = 6
	for round := range 4 {
		target := newTarget(t)
		dsts := make([]*Store, copiers)
		for i := range dsts {
			d, err := Open(target)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { d.Close() })
			dsts[i] = d
		}
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			reps  = make([]CopyReport, copiers)
			errs  = make([]error, copiers)
		)
		for i := range dsts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				reps[i], errs[i] = src.Copy(ctx, dsts[i], CopyOptions{})
			}()
		}
		close(start)
		wg.Wait()
		newExps, newRuns := 0, 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: copy %d of %d at once: %v", round, i+1, copiers, err)
			}
			newExps += reps[i].NewExperiments
			newRuns += reps[i].Runs[CopyNew]
		}
		if newExps != 1 || newRuns != 2 {
			t.Fatalf("round %d: the copies created %d experiments and %d runs, want 1 and 2", round, newExps, newRuns)
		}
		exps, err := dsts[0].Experiments(ctx)
		if err != nil || len(exps) != 1 || exps[0].Counts[StatusDone] != 1 || exps[0].Counts[StatusFailed] != 1 {
			t.Fatalf("round %d: the target holds %+v (%v), want copyme with one done and one failed run", round, exps, err)
		}
	}
}
