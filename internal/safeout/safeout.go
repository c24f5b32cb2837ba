package safeout

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrRefused is wrapped by every error with which Check or Write refuses a
// destination (a kept file, a file that is not regular, an existing file
// without Force): a mistake in the command line, not an I/O failure.
var ErrRefused = errors.New("refused output")

// ErrExists is wrapped, beside ErrRefused, by the refusal of an existing
// regular file without Force, the one refusal that --force lifts: a
// command may check the rest first (Check) and leave this one to Write,
// after the mistakes in its other arguments were said.
var ErrExists = errors.New("output file exists")

// Keep names a file that an output must never replace.
type Keep struct {
	Path string // compared by device and inode; a missing file protects nothing
	What string // what it is, for the error: "the run database"
}

// Target is one output file and the user's intent for it.
type Target struct {
	// Path is the file to write; "-" (or /dev/stdout, /dev/fd/1,
	// /proc/self/fd/1) writes to Stdout.
	Path string
	// Force allows replacing an existing regular file (never a kept one).
	Force bool
	// Keep lists files that must not be replaced whatever Force says.
	Keep []Keep
	// Stdout receives the output when Path is "-" or "/dev/stdout".
	Stdout io.Writer
}

// IsStdout reports whether t writes to standard output.
func (t Target) IsStdout() bool {
	switch t.Path {
	case "-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1":
		return true
	}
	return false
}

// refusal is an error of a refused destination: "write PATH: reason".
type refusal struct {
	path, reason string
	exists       bool // an existing file without Force: also ErrExists
}

func (e *refusal) Error() string { return "write " + e.path + ": " + e.reason }
func (e *refusal) Unwrap() []error {
	if e.exists {
		return []error{ErrRefused, ErrExists}
	}
	return []error{ErrRefused}
}

func refuse(path, format string, args ...any) error {
	return &refusal{path: path, reason: fmt.Sprintf(format, args...)}
}

// dest is what Check found at a target's path.
type dest struct {
	path string      // the file to replace or create (a symlink's target)
	fi   fs.FileInfo // nil: a new file
}

// Check reports whether t can be written, without writing anything, so a
// command can refuse a bad destination before doing its work. Write checks
// again.
func (t Target) Check() error {
	_, err := t.resolve()
	return err
}

func (t Target) resolve() (dest, error) {
	if t.Path == "" {
		return dest{}, refuse(`""`, "empty output path")
	}
	if t.IsStdout() { // a pipe or terminal, not a file to replace
		return dest{}, nil
	}
	path := t.Path
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A new "X-journal" beside database X is a hot journal to SQLite:
		// the next open would fail or roll it back (and a new -wal or
		// -shm would be deleted).
		if what := sideFile(path); what != "" {
			return dest{}, refuse(t.Path, "would be %s: never written", what)
		}
		return dest{path: path}, t.checkDir(path)
	case errors.Is(err, syscall.ENOTDIR): // a file where its directory should be
		return dest{}, t.checkDir(path)
	case err != nil:
		return dest{}, fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		link, _ := os.Readlink(path)
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return dest{}, refuse(path, "is a symlink to %q, which does not resolve to a file (%v)", link, unwrapPath(err))
		}
		if fi, err = os.Stat(target); err != nil {
			return dest{}, fmt.Errorf("write %s: %w", path, unwrapPath(err))
		}
		if !fi.Mode().IsRegular() {
			return dest{}, refuse(path, "is a symlink to %s, %s, not a regular file", target, kind(fi.Mode()))
		}
		path = target
	}
	if !fi.Mode().IsRegular() {
		return dest{}, refuse(t.Path, "is %s, not a regular file", kind(fi.Mode()))
	}
	for _, k := range t.Keep {
		if kfi, err := os.Stat(k.Path); err == nil && os.SameFile(fi, kfi) {
			what := k.What
			if what == "" {
				what = k.Path
			}
			if k.Path != t.Path {
				what += " (" + k.Path + ")"
			}
			return dest{}, refuse(t.Path, "is %s: never overwritten", what)
		}
	}
	what, err := sqliteFile(path)
	if err != nil {
		return dest{}, refuse(t.Path, "cannot be read to check that it is not a database (%v): never overwritten", unwrapPath(err))
	}
	if what != "" {
		return dest{}, refuse(t.Path, "is %s: never overwritten, --force or not", what)
	}
	if !t.Force {
		return dest{}, &refusal{path: t.Path, reason: "file exists (--force replaces it)", exists: true}
	}
	return dest{path: path, fi: fi}, nil
}

// sqliteFile names what the regular file at path is when it is a SQLite
// database or one of its side files ("an attnlab run database (SQLite)"),
// and returns "" otherwise: by its first bytes, or by its name: "-shm"
// (which has no header), "-wal" or "-journal" (empty between
// transactions) beside a database. No output of attnlab is a SQLite file, so replacing one is
// always a mistake: another run database given as -o, say. A file that
// cannot be read cannot be checked: its error is returned.
func sqliteFile(path string) (string, error) {
	f, err := openToCheck(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var h [100]byte // a database header is 100 bytes
	n, err := io.ReadFull(f, h[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return "", err
	}
	if what := sqliteHeader(h[:n]); what != "" {
		return what, nil
	}
	return sideFile(path), nil
}

// sideFile names the SQLite side file that path is by its name (X-shm,
// X-wal, X-journal beside a database X), or returns "".
func sideFile(path string) string {
	for _, side := range []string{"-shm", "-wal", "-journal"} {
		if base, ok := strings.CutSuffix(path, side); ok {
			if what, err := sqliteFile(base); err == nil && strings.Contains(what, "database") {
				return "the " + side + " file of " + what + " " + base
			}
		}
	}
	return ""
}

// openToCheck opens a file to read its header (a test makes it fail, as
// a file of mode 0200 does for anyone but root).
var openToCheck = os.Open

// sqliteHeader names the SQLite file whose first bytes are b, or "".
func sqliteHeader(b []byte) string {
	switch {
	case len(b) >= 72 && string(b[:16]) == "SQLite format 3\x00" && binary.BigEndian.Uint32(b[68:72]) == attnlabApplicationID:
		return "an attnlab run database (SQLite)"
	case len(b) >= 16 && string(b[:16]) == "SQLite format 3\x00":
		return "a SQLite database"
	case len(b) >= 4 && (binary.BigEndian.Uint32(b) == 0x377f0682 || binary.BigEndian.Uint32(b) == 0x377f0683):
		return "a SQLite write-ahead log"
	case len(b) >= 8 && string(b[:8]) == "\xd9\xd5\x05\xf9\x20\xa1\x63\xd7":
		return "a SQLite rollback journal"
	}
	return ""
}

// attnlabApplicationID is PRAGMA application_id of an attnlab store (the
// ASCII bytes "atnl"; store's applicationID, which this package does not
// import).
const attnlabApplicationID = 0x61746e6c

// checkDir checks that a new file's directory exists.
func (t Target) checkDir(path string) error {
	// The directory as written, not cleaned: "nox/../x.csv" needs nox.
	dir := "."
	if i := strings.LastIndex(path, "/"); i >= 0 {
		dir = path[:i+1]
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("write %s: directory %s: %w", path, dir, syscall.ENOENT)
	case errors.Is(err, syscall.ENOTDIR):
		// A file where a directory should be (stat of "file.csv/" or
		// "file.csv/sub/" fails so): the file named, not a bare "not a
		// directory" nor a path that does not exist.
		for d := strings.TrimRight(dir, "/"); d != "" && d != "."; d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil {
				if !fi.IsDir() {
					return refuse(path, "%s is a file, not a directory", d)
				}
				break
			}
		}
		return refuse(path, "%s is not a directory", dir)
	case err != nil:
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	case !fi.IsDir():
		return refuse(path, "%s is not a directory", dir)
	}
	return nil
}

// kind names a file mode for an error: "a directory", "a FIFO".
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	}
	return "a special file"
}

// unwrapPath drops the *fs.PathError layer, whose path the caller's
// message already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Write checks t (see Check) and writes what write produces to it through
// a temporary file in the same directory, or to Stdout when Path is "-".
// An error from write is returned as it is, and the destination is then
// left untouched.
func (t Target) Write(write func(w io.Writer) error) (err error) {
	d, err := t.resolve()
	if err != nil {
		return err
	}
	if t.IsStdout() {
		out := t.Stdout
		if out == nil {
			out = os.Stdout
		}
		bw := bufio.NewWriter(out)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	perm := fs.FileMode(0o644) // minus the umask, as for any new file
	if d.fi != nil {
		perm = d.fi.Mode().Perm()
	}
	f, err := createTemp(d.path, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", t.Path, unwrapPath(err))
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", t.Path, unwrapPath(err))
	}
	if d.fi != nil {
		// The umask applied at creation; a replaced file keeps its bits.
		if err = f.Chmod(perm); err != nil {
			return fmt.Errorf("write %s: %w", t.Path, unwrapPath(err))
		}
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", t.Path, unwrapPath(err))
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", t.Path, unwrapPath(err))
	}
	if err = t.commit(tmp, d); err != nil {
		return err
	}
	syncDir(filepath.Dir(d.path))
	return nil
}

// commit puts the written temporary file in place. A new file is
// hard-linked, which fails if the name appeared meanwhile; a replaced file
// is renamed over the destination after checking that it is still the file
// Check saw.
func (t Target) commit(tmp string, d dest) error {
	if d.fi == nil {
		err := os.Link(tmp, d.path)
		if err == nil {
			os.Remove(tmp)
			return nil
		}
		if errors.Is(err, fs.ErrExist) {
			return &refusal{path: t.Path, reason: "file exists (created while writing; --force replaces it)", exists: true}
		}
		// A file system without hard links: check again, then rename.
		if _, lerr := os.Lstat(d.path); !errors.Is(lerr, fs.ErrNotExist) {
			return &refusal{path: t.Path, reason: "file exists (created while writing; --force replaces it)", exists: true}
		}
	} else if fi, err := os.Lstat(d.path); err != nil || !os.SameFile(fi, d.fi) {
		return refuse(t.Path, "changed while writing; not replaced")
	}
	if err := os.Rename(tmp, d.path); err != nil {
		return fmt.Errorf("write %s: %w", t.Path, unwrapPath(err))
	}
	return nil
}

// createTemp creates a new hidden file next to path with perm (minus the
// umask).
func createTemp(path string, perm fs.FileMode) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		name := filepath.Join(dir, "."+base+".tmp"+strconv.FormatUint(rand.Uint64()%1e9, 10))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("no unused temporary name in %s", dir)
}

// syncDir makes a rename in dir durable; file systems that cannot sync a
// directory are not an error.
func syncDir(dir string) {
	if dir == "" {
		dir = "."
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
