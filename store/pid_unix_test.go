//go:build unix

package store

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestPIDAliveZombie: a child that exited but is not reaped yet (what a
// `run` killed with SIGKILL is until its parent waits for it) is dead.
func TestPIDAliveZombie(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc: zombies cannot be told from live processes here")
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot run sleep: %v", err)
	}
	pid := cmd.Process.Pid
	if !pidAlive(pid) {
		t.Fatalf("pidAlive(%d) = false for a sleeping child", pid)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Not reaped: the child is a zombie until cmd.Wait.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if state, err := procState(pid); err == nil && state == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d did not become a zombie", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pidAlive(pid) {
		t.Errorf("pidAlive(%d) = true for a zombie", pid)
	}
	cmd.Wait()
}
