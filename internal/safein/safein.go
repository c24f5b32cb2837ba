// Package safein reads the files a user names — experiment files, the
// bases they extend, the data files of tasks — without surprises: only
// regular files, never blocking on a FIFO or a device, and never more than a
// size limit, so that `plan /dev/zero` or a FIFO as a data path is one clear
// error instead of a hang or an unbounded allocation. ReadFileContext
// also stops a long read once its context is done (Ctrl-C).
package safein

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// ErrNotRegular is wrapped by the error of ReadFile for a path that is not
// a regular file; ErrTooLarge for a file over the limit.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file too large")
)

// ReadFile returns the contents of the regular file at path, at most limit
// bytes. The file is opened without blocking (O_NONBLOCK), so a FIFO with
// no writer is refused at once rather than waited for. The error says what
// is wrong without repeating the path: "does not exist", "is a named pipe,
// not a regular file", "is larger than 4 MiB (the limit)"; errors.Is
// finds fs.ErrNotExist, ErrNotRegular and ErrTooLarge in it. The contents
// are read into one buffer of the file's size: reading a file takes about
// its size in memory.
func ReadFile(path string, limit int64) ([]byte, error) {
	return ReadFileContext(context.Background(), path, limit)
}

// ReadChunk is how many bytes ReadFileContext reads between two looks at
// its context (4 MiB: about a millisecond from the page cache, tens from
// a disk).
const ReadChunk = 4 << 20

// ReadFileContext is ReadFile that stops once ctx is done: it reads the
// file ReadChunk bytes at a time and asks ctx before each read, so that a
// file of a gigabyte on a slow disk does not hold up Ctrl-C. The error of
// a stopped read wraps ctx.Err() (errors.Is finds context.Canceled in it).
func ReadFileContext(ctx context.Context, path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, describe(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, describe(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, &Error{Msg: "is " + kind(fi.Mode()) + ", not a regular file", Err: ErrNotRegular}
	}
	if fi.Size() > limit {
		return nil, tooLarge(limit)
	}
	b, err := readAll(ctx, io.LimitReader(f, limit+1), fi.Size())
	if err != nil {
		return nil, describe(err)
	}
	if int64(len(b)) > limit { // the file grew while we read it
		return nil, tooLarge(limit)
	}
	return b, nil
}

// readAll reads r to its end into one buffer of size+1 bytes (the file's
// size as Stat gave it, and one more to see that it has not grown), so
// that a file of a gigabyte takes a gigabyte, not the two or three that
// io.ReadAll's doubling buffers reach on the way. A file that grew after
// Stat is read on as io.ReadAll would. It reads at most ReadChunk bytes
// at a time, and returns ctx.Err() before a read once ctx is done.
func readAll(ctx context.Context, r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, size+1)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(b[len(b):min(cap(b), len(b)+ReadChunk)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grew since Stat: let append pick a larger buffer
		}
	}
}

func tooLarge(limit int64) error {
	return &Error{Msg: "is larger than " + Size(limit) + " (the limit)", Err: ErrTooLarge}
}

// Error is what ReadFile returns: Msg says what is wrong with the file
// without naming it; Err is fs.ErrNotExist, ErrNotRegular, ErrTooLarge or
// the system's error.
type Error struct {
	Msg string
	Err error
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// describe turns an error of the os package into its message without the
// path: "does not exist", "permission denied", "is a directory".
func describe(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Error{Msg: "does not exist", Err: fs.ErrNotExist}
	case errors.Is(err, syscall.EISDIR):
		return &Error{Msg: "is a directory, not a regular file", Err: ErrNotRegular}
	}
	return &Error{Msg: err.Error(), Err: err}
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// Size writes a byte count for people: 512 B, 4 MiB, 1 GiB.
func Size(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && n%1024 == 0 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return strconv.FormatInt(n, 10) + " " + units[i]
}
