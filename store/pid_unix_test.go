//go:build unix

package store

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
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

// TestOwnerNamesItsPIDNamespace: a process in its own pid namespace (a
// container sharing the host's name) is an owner of another host than the
// processes outside it, so the pid rule of a claim never judges one by the
// other's pids. Runs this test binary under unshare(1) as root.
func TestOwnerNamesItsPIDNamespace(t *testing.T) {
	if os.Getenv("ATTNLAB_PRINT_OWNER") == "1" {
		fmt.Printf("owner host: %s\n", CurrentOwner("").Host) // the child
		return
	}
	out := CurrentOwner("").Host
	if pidNamespace() != "" {
		t.Skipf("this test already runs in a pid namespace of its own (%s)", out)
	}
	if strings.Contains(out, "/pidns:") {
		t.Fatalf("owner host %q names a pid namespace outside one", out)
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil || os.Geteuid() != 0 {
		msg := "needs root and unshare(1) (util-linux) to make a pid namespace"
		if os.Getenv("ATTNLAB_CI") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cmd := exec.Command(unshare, "--pid", "--fork", "--mount-proc", os.Args[0], "-test.run", "^TestOwnerNamesItsPIDNamespace$")
	cmd.Env = append(os.Environ(), "ATTNLAB_PRINT_OWNER=1")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	var inside string
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "owner host: "); ok {
			inside = h
		}
	}
	if !strings.HasPrefix(inside, out+"/pidns:") {
		t.Fatalf("owner host in a pid namespace = %q, want %q/pidns:…", inside, out)
	}
}
