// Package crash writes the report of an internal error — a bug in attnlab,
// not a problem of the user's input — to a log file, so that the terminal
// and the run database get one line naming the file instead of a Go stack
// trace.
//
// Reports go to $ATTNLAB_CRASH_DIR when it is set, else to the directory
// "attnlab" under the user's cache directory ($XDG_CACHE_HOME or
// ~/.cache on Linux), else to the system's temporary directory; each report
// is a new file crash-YYYYMMDD-HHMMSS-PID-N.log.
//
// Go's fatal errors (out of memory, a stack overflow, concurrent map
// writes) end the process at once and cannot be caught: Go prints them to
// stderr and exits with status 2. attnlab avoids them by validating sizes
// before allocating (see package experiments).
package crash

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/attnlab/attnlab/store"
)

// Dir returns the directory reports are written to (it may not exist yet).
func Dir() string {
	if d := os.Getenv("ATTNLAB_CRASH_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "attnlab")
	}
	return os.TempDir()
}

var seq atomic.Int64

// Write writes a report of value (a panic value or an error) and stack to
// a new file and returns its path. Header lines say what was running:
// the time, attnlab's version, Go's version and the command line. When no
// directory can take the file, Write tries the system's temporary
// directory, and returns the error of the last try.
func Write(version string, value any, stack []byte) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "attnlab internal error\n\ntime:    %s\nversion: %s\ngo:      %s %s/%s\npid:     %d\ncommand: %q\n\npanic: %v\n\n%s",
		time.Now().Format(time.RFC3339), version, runtime.Version(), runtime.GOOS, runtime.GOARCH,
		os.Getpid(), redactArgs(os.Args), value, stack)
	name := fmt.Sprintf("crash-%s-%d-%d.log", time.Now().Format("20060102-150405"), os.Getpid(), seq.Add(1))
	var err error
	for _, dir := range []string{Dir(), os.TempDir()} {
		if err = os.MkdirAll(dir, 0o700); err != nil {
			continue
		}
		path := filepath.Join(dir, name)
		f, ferr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if ferr != nil {
			err = ferr
			continue
		}
		_, werr := f.WriteString(b.String())
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			err = werr
			continue
		}
		return path, nil
	}
	return "", err
}

// redactArgs masks the passwords of PostgreSQL URLs in the command line
// (--db postgres://user:PASSWORD@host/db): a report is a file people send
// around.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		// As the command line's output is scrubbed (a URL anywhere in the
		// argument, or a libpq "password=" setting), with store.Scrub's
		// rules, which leave short passwords' look-alikes alone.
		secrets := store.Secrets(a)
		if j := strings.Index(strings.ToLower(a), "postgres"); j >= 0 {
			secrets = append(secrets, store.Secrets(a[j:])...)
		}
		out[i] = store.Scrub(a, secrets)
	}
	return out
}
