package runs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/store"
)

// The crash and concurrency tests run Execute in child processes: the test
// binary re-executes itself with ATTNLAB_EXEC_HELPER set.
func TestMain(m *testing.M) {
	if os.Getenv("ATTNLAB_EXEC_HELPER") == "1" {
		os.Exit(helperMain())
	}
	os.Exit(m.Run())
}

func helperMain() int {
	sets := strings.Fields(os.Getenv("ATTNLAB_SETS"))
	x, err := experiments.Load(os.Getenv("ATTNLAB_YAML"), sets)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	st, err := store.Open(os.Getenv("ATTNLAB_DB"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer st.Close()
	rep, err := Execute(context.Background(), st, x, ExecOptions{Workers: 2, Heartbeat: 200 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, o := range rep.Outcomes {
		if o.Err != nil {
			fmt.Fprintf(os.Stderr, "run %d: %v\n", o.Run.ID, o.Err)
			return 1
		}
	}
	return 0
}

func helperCmd(t *testing.T, db string, sets ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ATTNLAB_EXEC_HELPER=1", "ATTNLAB_DB="+db,
		"ATTNLAB_YAML=testdata/sweep4.yaml", "ATTNLAB_SETS="+strings.Join(sets, " "))
	return cmd
}

var longerRuns = []string{"train.steps=400"}

// waitFor polls the store until cond holds or the timeout passes.
func waitFor(t *testing.T, db string, timeout time.Duration, cond func(*store.Store) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(db); err == nil {
			if st, err := store.OpenExisting(db); err == nil {
				ok := cond(st)
				st.Close()
				if ok {
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("timed out waiting for the child process")
}

func TestCrashAndResume(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("trains in child processes")
	}
	dir := t.TempDir()
	x := loadExperiment(t, "testdata/sweep4.yaml", longerRuns...)
	ref := openStore(t, filepath.Join(dir, "ref.db"))
	refRep, err := Execute(context.Background(), ref, x, ExecOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}

	db := filepath.Join(dir, "crash.db")
	child := helperCmd(t, db, longerRuns...)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once one run is done and another has a checkpoint past step 40.
	waitFor(t, db, 2*time.Minute, func(st *store.Store) bool {
		runs, err := st.Runs(context.Background(), store.RunFilter{})
		if err != nil || len(runs) != 4 {
			return false
		}
		done, mid := 0, 0
		for _, r := range runs {
			if r.Status == store.StatusDone {
				done++
			}
			if r.Status == store.StatusRunning {
				if h, err := st.MetricHistory(context.Background(), []int64{r.ID}, "valid/loss"); err == nil && len(h[r.ID]) >= 2 {
					mid++
				}
			}
		}
		return done >= 1 && mid >= 1
	})
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	st := openStore(t, db)
	before, err := st.Runs(context.Background(), store.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	doneBefore := map[int64]bool{}
	running := 0
	for _, r := range before {
		if r.Status == store.StatusDone {
			doneBefore[r.ID] = true
		}
		if r.Status == store.StatusRunning {
			running++
		}
	}
	if len(doneBefore) == 4 || running == 0 {
		t.Fatalf("the kill did not land mid-way: %d done, %d running", len(doneBefore), running)
	}

	again := helperCmd(t, db, longerRuns...)
	if out, err := again.CombinedOutput(); err != nil {
		t.Fatalf("second execution: %v\n%s", err, out)
	}
	after, err := st.Runs(context.Background(), store.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range after {
		if r.Status != store.StatusDone {
			t.Fatalf("run %d ended %s: %s", r.ID, r.Status, r.Error)
		}
		if doneBefore[r.ID] && r.Attempt != 1 {
			t.Errorf("run %d was done before the crash but ran again (attempt %d)", r.ID, r.Attempt)
		}
		want := refRep.Outcomes[i].Run.ID
		if d := sameFloats(quality(t, st, r.ID), quality(t, ref, want)); d != "" {
			t.Errorf("run %d: final metrics differ from the uninterrupted run at %q", r.ID, d)
		}
		got, wantH := history(t, st, r.ID), history(t, ref, want) // history fails on duplicated steps
		for k := range wantH {
			if d := sameFloats(toStr(got[k]), toStr(wantH[k])); d != "" {
				t.Errorf("run %d metric %s differs at step %s", r.ID, k, d)
			}
		}
	}
}

func TestTwoProcessesOneDatabase(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("trains in child processes")
	}
	db := filepath.Join(t.TempDir(), "shared.db")
	a, b := helperCmd(t, db), helperCmd(t, db)
	var outA, outB strings.Builder
	a.Stdout, a.Stderr = &outA, &outA
	b.Stdout, b.Stderr = &outB, &outB
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	errA, errB := a.Wait(), b.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("child processes failed: %v / %v\n%s\n%s", errA, errB, outA.String(), outB.String())
	}
	for _, out := range []string{outA.String(), outB.String()} {
		if strings.Contains(out, "locked") {
			t.Fatalf("a process saw a locked database:\n%s", out)
		}
	}
	st := openStore(t, db)
	runs, err := st.Runs(context.Background(), store.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 {
		t.Fatalf("%d runs recorded, want 4", len(runs))
	}
	for _, r := range runs {
		if r.Status != store.StatusDone || r.Attempt != 1 {
			t.Errorf("run %d: status %s after %d attempts, want done after 1", r.ID, r.Status, r.Attempt)
		}
	}
}
