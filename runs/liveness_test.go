package runs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

// panicOn is a Reporter whose runs panic (a bug) at their first progress
// update when their name contains label.
type panicOn struct{ label string }

func (p panicOn) Start(int, int, int)         {}
func (p panicOn) Skip(store.Run, int, string) {}
func (p panicOn) Wait()                       {}
func (p panicOn) Begin(r store.Run, _, _ int) RunReporter {
	if strings.Contains(r.Name(), p.label) {
		return panicRun{}
	}
	return nopRun{}
}

type panicRun struct{}

func (panicRun) Update(Progress)         { panic("index out of range [7] with length 7") }
func (panicRun) End(store.Status, error) {}

// TestExecuteBug: a run that panics with a bug is recorded as failed with
// one line (no stack in the database), its Outcome carries the *Bug with
// the stack, and the other runs finish.
func TestExecuteBug(t *testing.T) {
	t.Parallel()
	x := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "train.steps=20")
	st := openStore(t, filepath.Join(t.TempDir(), "bug.db"))
	rep, err := Execute(context.Background(), st, x, ExecOptions{Workers: 2, Reporter: panicOn{"additive"}})
	if err != nil {
		t.Fatal(err)
	}
	bugs := 0
	for _, o := range rep.Outcomes {
		var b *Bug
		if !errors.As(o.Err, &b) {
			if o.Run.Status != store.StatusDone {
				t.Errorf("run %s ended %s (%v), want done", o.Label, o.Run.Status, o.Err)
			}
			continue
		}
		bugs++
		if o.Run.Status != store.StatusFailed || o.Run.Error != "internal error: index out of range [7] with length 7" {
			t.Errorf("bug run: status %s, error %q", o.Run.Status, o.Run.Error)
		}
		if !strings.Contains(string(b.Stack), "panicRun.Update") {
			t.Errorf("the Bug's stack does not show the panic:\n%s", b.Stack)
		}
	}
	if bugs != 1 {
		t.Fatalf("%d runs ended with a bug, want 1: %+v", bugs, rep.Outcomes)
	}
}

// sleeper starts a process that stays alive until killed, and returns it
// and a function that kills and reaps it.
func sleeper(t *testing.T) (*exec.Cmd, func()) {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start sleep: %v", err)
	}
	var once sync.Once
	kill := func() {
		once.Do(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
	}
	t.Cleanup(kill)
	return cmd, kill
}

// interruptedRun records the experiment in st and leaves its first run
// interrupted at its first step, so that a test can hand it to another
// owner.
func interruptedRun(t *testing.T, st *store.Store, sets ...string) store.Run {
	t.Helper()
	x := loadExperiment(t, "testdata/sweep4.yaml", sets...)
	ctx, cancel := context.WithCancel(context.Background())
	rep, _ := Execute(ctx, st, x, ExecOptions{Workers: 1, Reporter: &cancelAt{step: 1, cancel: cancel}})
	if rep == nil || rep.Outcomes[0].Run.Status != store.StatusInterrupted {
		t.Fatalf("setup: want the first run interrupted, got %+v", rep)
	}
	return rep.Outcomes[0].Run
}

// heldRun makes the first run of the plan an interrupted run that another
// live process on this host (a sleeper) has claimed again; kill ends that
// process.
func heldRun(t *testing.T, st *store.Store, sets ...string) (other *exec.Cmd, kill func()) {
	t.Helper()
	r := interruptedRun(t, st, sets...)
	other, kill = sleeper(t)
	owner := store.CurrentOwner("test")
	owner.PID = other.Process.Pid
	if c, err := st.Claim(context.Background(), r.ID, owner, time.Hour); err != nil || !c.Claimed {
		t.Fatalf("claim for the other process: %+v, %v", c, err)
	}
	return other, kill
}

// TestExecuteWaitsForHeldRun: a run that a live process on this host holds
// is waited for, and taken over and finished once that process dies.
func TestExecuteWaitsForHeldRun(t *testing.T) {
	t.Parallel()
	sets := []string{"seeds=[1]", "train.steps=20"}
	st := openStore(t, filepath.Join(t.TempDir(), "held.db"))
	_, kill := heldRun(t, st, sets...)

	var waited []string
	var mu sync.Mutex
	opt := ExecOptions{Workers: 1, Heartbeat: 100 * time.Millisecond, StaleAfter: time.Hour,
		Waiting: func(run store.Run, label, why string) {
			mu.Lock()
			waited = append(waited, why)
			mu.Unlock()
			time.AfterFunc(300*time.Millisecond, kill) // the other process dies while we wait
		}}
	rep, err := Execute(context.Background(), st, loadExperiment(t, "testdata/sweep4.yaml", sets...), opt)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waited) != 1 || !strings.Contains(waited[0], "running on") {
		t.Fatalf("Waiting calls: %q, want one naming the holder", waited)
	}
	o := rep.Outcomes[0]
	if o.Run.Status != store.StatusDone || o.Run.Attempt != 3 || o.Run.PID != os.Getpid() {
		t.Fatalf("after the holder died: status %s, attempt %d, pid %d; want done by this process at attempt 3",
			o.Run.Status, o.Run.Attempt, o.Run.PID)
	}
}

// TestExecuteStopsWaiting: cancelling the context while waiting returns at
// once, with the held run's outcome saying who holds it.
func TestExecuteStopsWaiting(t *testing.T) {
	t.Parallel()
	sets := []string{"seeds=[1]", "train.steps=20"}
	st := openStore(t, filepath.Join(t.TempDir(), "stop.db"))
	other, _ := heldRun(t, st, sets...)
	ctx, cancel := context.WithCancel(context.Background())
	opt := ExecOptions{Workers: 1, Heartbeat: 100 * time.Millisecond, StaleAfter: time.Hour,
		Waiting: func(store.Run, string, string) { time.AfterFunc(200*time.Millisecond, cancel) }}
	start := time.Now()
	rep, err := Execute(ctx, st, loadExperiment(t, "testdata/sweep4.yaml", sets...), opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopping the wait took %v", d)
	}
	o := rep.Outcomes[0]
	if o.Status != store.StatusRunning || !strings.Contains(o.Note, "running on") || o.Run.PID != other.Process.Pid {
		t.Fatalf("outcome %+v: want running, held by the other process", o)
	}
}

// TestExecuteZombieOwner: a run whose owner was killed but not yet reaped
// (a zombie) is taken over at once, without waiting.
func TestExecuteZombieOwner(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	sets := []string{"seeds=[1]", "train.steps=20"}
	st := openStore(t, filepath.Join(t.TempDir(), "zombie.db"))
	other, kill := heldRun(t, st, sets...)
	if err := other.Process.Signal(syscall.SIGKILL); err != nil { // killed, not reaped: a zombie
		t.Fatal(err)
	}
	defer kill()
	waitZombie(t, other.Process.Pid)
	waited := false
	opt := ExecOptions{Workers: 1, StaleAfter: time.Hour, Waiting: func(store.Run, string, string) { waited = true }}
	rep, err := Execute(context.Background(), st, loadExperiment(t, "testdata/sweep4.yaml", sets...), opt)
	if err != nil {
		t.Fatal(err)
	}
	if waited || rep.Outcomes[0].Run.Status != store.StatusDone {
		t.Fatalf("waited %v, outcome %+v: want the zombie's run taken over at once", waited, rep.Outcomes[0])
	}
}

// waitZombie waits until process pid is a zombie.
func waitZombie(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if i := strings.LastIndexByte(string(data), ')'); err == nil && i > 0 && strings.HasPrefix(string(data[i:]), ") Z") {
			return
		}
	}
	t.Fatalf("process %d did not become a zombie", pid)
}
