package crash

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "crashes")
	t.Setenv("ATTNLAB_CRASH_DIR", dir)
	p1, err := Write("1.2.3", "boom", []byte("goroutine 1 [running]:\nmain.main()\n"))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := Write("1.2.3", "boom", nil)
	if err != nil || p1 == p2 {
		t.Fatalf("second report: %s, %v (first %s)", p2, err, p1)
	}
	if filepath.Dir(p1) != dir {
		t.Errorf("report in %s, want %s", filepath.Dir(p1), dir)
	}
	data, err := os.ReadFile(p1)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"panic: boom", "version: 1.2.3", "goroutine 1 [running]", "command: "} {
		if !strings.Contains(string(data), want) {
			t.Errorf("report lacks %q:\n%s", want, data)
		}
	}
	if fi, _ := os.Stat(p1); fi.Mode().Perm() != 0o600 {
		t.Errorf("report mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestWriteFallsBack(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ATTNLAB_CRASH_DIR", filepath.Join(f, "sub")) // under a regular file: cannot exist
	p, err := Write("v", "boom", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(p)
	if filepath.Dir(p) != filepath.Clean(os.TempDir()) {
		t.Errorf("fallback report at %s, want it in %s", p, os.TempDir())
	}
}

// TestWriteMasksPasswords: a database URL's password on the command line
// never reaches a report.
func TestWriteMasksPasswords(t *testing.T) {
	t.Setenv("ATTNLAB_CRASH_DIR", t.TempDir())
	saved := os.Args
	defer func() { os.Args = saved }()
	os.Args = []string{"attnlab", "worker", "--db", "postgres://lab:Hunter2-pw@db/x", "--db=postgresql://u:0ther-pw@h/d?sslmode=require"}
	p, err := Write("1", "boom", nil)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	if strings.Contains(string(data), "Hunter2-pw") || strings.Contains(string(data), "0ther-pw") || !strings.Contains(string(data), "postgres://lab:xxxxx@db/x") {
		t.Fatalf("report shows a password or no masked URL:\n%s", data)
	}
}

// TestRedactArgs: a crash report's command line masks the passwords of
// URLs and libpq settings, and leaves the rest as it was (a one-letter
// password does not garble the other arguments).
func TestRedactArgs(t *testing.T) {
	got := redactArgs([]string{"attnlab", "ls", "--db", "postgres://u:a@h/db", "--db=host=h password = hunter22", "--width", "80"})
	want := []string{"attnlab", "ls", "--db", "postgres://u:xxxxx@h/db", "--db=host=h password=xxxxx", "--width", "80"}
	if !slices.Equal(got, want) {
		t.Errorf("redactArgs = %q, want %q", got, want)
	}
}
