package safeout

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/attnlab/attnlab/internal/testenv"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTemps fails if dir holds a temporary file of Write.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestWriteNewFile(t *testing.T) {
	for _, umask := range testUmasks {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.csv")
		old := setUmask(umask)
		err := Target{Path: path}.Write(writeString("a,b\n"))
		setUmask(old)
		if err != nil {
			t.Fatalf("umask %#o: %v", umask, err)
		}
		if got := readString(t, path); got != "a,b\n" {
			t.Errorf("wrote %q", got)
		}
		fi, _ := os.Stat(path)
		if want := fs.FileMode(newFilePerm &^ umask); fi.Mode().Perm() != want {
			t.Errorf("umask %#o: mode %v, want %v", umask, fi.Mode().Perm(), want)
		}
		noTemps(t, dir)
	}
}

func TestWriteStdout(t *testing.T) {
	var b bytes.Buffer
	if err := (Target{Path: "-", Stdout: &b}).Write(writeString("hello")); err != nil || b.String() != "hello" {
		t.Fatalf("stdout: %q, %v", b.String(), err)
	}
	// /dev/stdout is stdout too, whatever it is (a pipe was refused as
	// "a symlink to /proc/self/fd/1, which does not resolve to a file").
	for _, path := range []string{"/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"} {
		b.Reset()
		if err := (Target{Path: path, Stdout: &b}).Write(writeString("hi")); err != nil || b.String() != "hi" {
			t.Fatalf("%s: %q, %v", path, b.String(), err)
		}
	}
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "c.db")
	mustWrite(t, db, "SQLite format 3\x00 precious")
	existing := filepath.Join(dir, "old.csv")
	mustWrite(t, existing, "old")
	fifo := filepath.Join(dir, "fifo")
	haveFifo := testenv.Mkfifo(t, fifo)
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	link := func(name, to string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(to, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hard := filepath.Join(dir, "hard.db")
	if err := os.Link(db, hard); err != nil {
		t.Fatal(err)
	}
	keep := []Keep{{Path: db, What: "the run database"}}
	// SQLite files that are not kept: refused by their first bytes.
	header := func(appID uint32) string {
		h := make([]byte, 100)
		copy(h, "SQLite format 3\x00")
		binary.BigEndian.PutUint32(h[68:], appID)
		return string(h) + "tables"
	}
	otherRunDB := filepath.Join(dir, "other.db")
	mustWrite(t, otherRunDB, header(0x61746e6c))
	foreignDB := filepath.Join(dir, "foreign.sqlite")
	mustWrite(t, foreignDB, header(0))
	wal := filepath.Join(dir, "other.db-wal")
	mustWrite(t, wal, "\x37\x7f\x06\x82 frames")
	journal := filepath.Join(dir, "other.db-journal")
	mustWrite(t, journal, "\xd9\xd5\x05\xf9\x20\xa1\x63\xd7 pages")
	for _, tc := range []struct {
		name  string
		path  string
		force bool
		want  string // in the error
	}{
		{"database", db, true, "is the run database"},
		{"database by another name", filepath.Join(dir, ".", "x", "..", "c.db"), true, "is the run database"},
		{"database by hard link", hard, true, "is the run database"},
		{"database by symlink", link("dblink", "c.db"), true, "is the run database"},
		{"another run database", otherRunDB, true, "is an attnlab run database (SQLite): never overwritten, --force or not"},
		{"another run database without force", otherRunDB, false, "is an attnlab run database"},
		{"another run database by symlink", link("otherlink", "other.db"), true, "is an attnlab run database"},
		{"a SQLite database", foreignDB, true, "is a SQLite database: never overwritten"},
		{"a write-ahead log", wal, true, "is a SQLite write-ahead log"},
		{"a rollback journal", journal, true, "is a SQLite rollback journal"},
		{"existing file", existing, false, "file exists (--force replaces it)"},
		{"symlink to existing file without force", link("oldlink", existing), false, "file exists"},
		{"directory", dir, true, "is a directory"},
		{"fifo", fifo, true, "is a FIFO"},
		{"socket", sock, true, "is a socket"},
		{"device", "/dev/null", true, "is a character device"},
		{"dangling symlink", link("dangling", "nowhere/x.csv"), true, "does not resolve"},
		{"symlink to fifo", link("fifolink", fifo), true, "a FIFO (named pipe), not a regular file"},
		{"symlink to device", link("devlink", "/dev/full"), true, "a character device"},
		{"symlink loop", link("loop", "loop"), true, "does not resolve"},
		{"empty path", "", true, "empty output path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "fifo") && !haveFifo {
				t.Skip("no FIFOs on this platform")
			}
			called := false
			err := Target{Path: tc.path, Force: tc.force, Keep: keep}.Write(func(w io.Writer) error {
				called = true
				return nil
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if !errors.Is(err, ErrRefused) {
				t.Errorf("err %v does not wrap ErrRefused", err)
			}
			// Only the refusal --force lifts is ErrExists (a command may
			// leave it to Write); never one of a file --force cannot replace.
			if exists := strings.Contains(tc.want, "file exists"); errors.Is(err, ErrExists) != exists {
				t.Errorf("errors.Is(%v, ErrExists) = %v, want %v", err, !exists, exists)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("err is not one line: %q", err)
			}
			if called {
				t.Errorf("the content was produced for a refused destination")
			}
			if cerr := (Target{Path: tc.path, Force: tc.force, Keep: keep}).Check(); cerr == nil || cerr.Error() != err.Error() {
				t.Errorf("Check = %v, Write = %v", cerr, err)
			}
		})
	}
	if got := readString(t, db); got != "SQLite format 3\x00 precious" {
		t.Errorf("the database changed: %q", got)
	}
	if got := readString(t, existing); got != "old" {
		t.Errorf("the existing file changed: %q", got)
	}
	for path, want := range map[string]string{otherRunDB: header(0x61746e6c), foreignDB: header(0)} {
		if got := readString(t, path); got != want {
			t.Errorf("%s changed", path)
		}
	}
	if haveFifo {
		if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("the FIFO is no longer a FIFO: %v %v", fi, err)
		}
	}
	noTemps(t, dir)
}

func TestForceReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	mustWrite(t, path, "old")
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (Target{Path: path, Force: true}).Write(writeString("new")); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != "new" {
		t.Errorf("got %q", got)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("a replaced file's mode became %v, want it kept (0600)", fi.Mode().Perm())
	}
	noTemps(t, dir)
}

// TestForceReplacesLookalikes: only a SQLite file's real first bytes
// protect it; a text file that merely mentions SQLite, or a short one, is
// replaced with Force like any other.
func TestForceReplacesLookalikes(t *testing.T) {
	dir := t.TempDir()
	for i, old := range []string{"SQLite format 2\x00 and more text", "SQLite", "", "\x37\x7f"} {
		path := filepath.Join(dir, fmt.Sprintf("out%d.txt", i))
		mustWrite(t, path, old)
		if err := (Target{Path: path, Force: true}).Write(writeString("new")); err != nil {
			t.Fatalf("%q: %v", old, err)
		}
		if got := readString(t, path); got != "new" {
			t.Errorf("%q: got %q", old, got)
		}
	}
	noTemps(t, dir)
}

func TestForceFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "real")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(sub, "data.csv")
	mustWrite(t, target, "old")
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink("real/data.csv", link); err != nil {
		t.Fatal(err)
	}
	if err := (Target{Path: link, Force: true}).Write(writeString("new")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v %v", fi, err)
	}
	if got := readString(t, target); got != "new" {
		t.Errorf("target holds %q, want the new content", got)
	}
	noTemps(t, dir)
	noTemps(t, sub)
}

func TestWriteErrorLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	boom := errors.New("boom")
	if err := (Target{Path: path}).Write(func(w io.Writer) error {
		io.WriteString(w, "partial")
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed write created %s", path)
	}
	mustWrite(t, path, "old")
	if err := (Target{Path: path, Force: true}).Write(func(w io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if got := readString(t, path); got != "old" {
		t.Errorf("a failed forced write changed the file: %q", got)
	}
	noTemps(t, dir)
}

// TestCreatedMeanwhile: a file that appears at the destination while the
// content is produced is not replaced without Force.
func TestCreatedMeanwhile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	err := Target{Path: path}.Write(func(w io.Writer) error {
		mustWrite(t, path, "theirs")
		_, err := io.WriteString(w, "ours")
		return err
	})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if got := readString(t, path); got != "theirs" {
		t.Errorf("the file created meanwhile was replaced: %q", got)
	}
	noTemps(t, dir)
}

func TestMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "dir", "x.csv")
	err := Target{Path: path}.Write(writeString("x"))
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrRefused) {
		t.Fatalf("err = %v, want not-exist", err)
	}
	if !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("err = %v", err)
	}
}

func TestReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	err := Target{Path: filepath.Join(dir, "x.csv")}.Write(writeString("x"))
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("err = %v, want permission denied", err)
	}
}

// TestRefusesWhatItCannotCheck: a file that cannot be read cannot be shown
// not to be a database, so --force does not replace it; the -shm, -wal and
// -journal files beside any SQLite database are refused by name (a -shm
// has no header, the others are empty between transactions); a new file
// through a directory that does not exist ("nox/../x") is refused before
// anything is written.
func TestRefusesWhatItCannotCheck(t *testing.T) {
	dir := t.TempDir()
	h := make([]byte, 100)
	copy(h, "SQLite format 3\x00")
	db := filepath.Join(dir, "theirs.db")
	mustWrite(t, db, string(h))
	side := map[string]string{}
	for _, s := range []string{"-shm", "-wal", "-journal"} {
		side[s] = filepath.Join(dir, "theirs.db"+s)
		mustWrite(t, side[s], "")
	}
	for s, p := range side {
		err := Target{Path: p, Force: true}.Check()
		if err == nil || !strings.Contains(err.Error(), "is the "+s+" file of a SQLite database") {
			t.Errorf("%s: %v", s, err)
		}
	}
	locked := filepath.Join(dir, "locked.csv")
	mustWrite(t, locked, "x")
	if err := os.Chmod(locked, 0o200); err != nil {
		t.Fatal(err)
	}
	defer func(open func(string) (*os.File, error)) { openToCheck = open }(openToCheck)
	openToCheck = func(p string) (*os.File, error) {
		if p == locked && os.Geteuid() == 0 { // root could read it: fail as anyone else does
			return nil, &fs.PathError{Op: "open", Path: p, Err: syscall.EACCES}
		}
		return os.Open(p)
	}
	err := Target{Path: locked, Force: true}.Check()
	if err == nil || !strings.Contains(err.Error(), "cannot be read to check that it is not a database (permission denied)") {
		t.Errorf("unreadable file: %v", err)
	}
	for _, s := range []string{"-shm", "-wal", "-journal"} { // new ones: a hot journal to SQLite
		p := filepath.Join(dir, "theirs.db"+s)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		err := Target{Path: p}.Check()
		if err == nil || !strings.Contains(err.Error(), "would be the "+s+" file of a SQLite database") {
			t.Errorf("new %s: %v", s, err)
		}
	}
	err = Target{Path: filepath.Join(dir, "nox") + "/../x.csv", Force: true}.Check()
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nox/../") {
		t.Errorf("through a missing directory: %v", err)
	}
}

// TestFileAsDirectory: a path through a regular file ("out.csv/x.csv") is
// refused naming the file that is not a directory; it said only "write
// out.csv/x.csv: not a directory", an I/O error.
func TestFileAsDirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "out.csv")
	if err := os.WriteFile(file, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{file + "/x.csv", file + "/sub/x.csv"} {
		err := Target{Path: path}.Write(writeString("x"))
		if want := "write " + path + ": " + file + " is a file, not a directory"; !errors.Is(err, ErrRefused) || err.Error() != want {
			t.Errorf("Write(%s) = %v, want it refused naming the file: %s", path, err, want)
		}
	}
	if got := readString(t, file); got != "keep" {
		t.Errorf("the file became %q", got)
	}
}
