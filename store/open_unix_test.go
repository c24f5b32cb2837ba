//go:build unix

package store

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadOnlyDirectory lists a store in a directory this process may not
// write: it must open read-only, without creating -wal or -shm files and
// without changing the file. Run as root (who may write anything), the
// check runs in a copy of the test binary as user nobody. Unix only:
// Windows ignores a directory's read-only mode and has no user nobody.
func TestReadOnlyDirectory(t *testing.T) {
	base, err := os.MkdirTemp("", "attnlab-ro-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		filepath.Walk(base, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(base)
	}()
	dir := filepath.Join(base, "ro")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "runs.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	addExperiment(t, s, "e", 3)
	s.Close()
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Fatalf("setup: %s%s left after Close", path, suffix)
		}
	}
	before, _ := os.ReadFile(path)
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0])
	if os.Geteuid() == 0 {
		// Root ignores permissions: run a copy of this binary as nobody.
		bin := filepath.Join(base, "store.test")
		if err := copyFile(os.Args[0], bin, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(bin)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		cmd.Dir = base
	}
	cmd.Env = append(os.Environ(), readOnlyHelperEnv+"="+path, "HOME="+base)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if got := strings.Count(string(out), "RUNS 3 readonly=true"); got != 2 || strings.Contains(string(out), "ERROR") {
		t.Fatalf("helper output:\n%s\nwant RUNS 3 readonly=true twice and no ERROR", out)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("listing the read-only store changed the file")
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Fatalf("listing the read-only store created %s%s", path, suffix)
		}
	}
}
