package safein

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/attnlab/attnlab/internal/testenv"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(reg, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	haveFifo := testenv.Mkfifo(t, fifo)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(reg, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		limit      int64
		want       string
		is         error
	}{
		{"regular", reg, 100, "", nil},
		{"exactly the limit", reg, 6, "", nil},
		{"symlink to a regular file", link, 100, "", nil},
		{"over the limit", reg, 5, "is larger than 5 B (the limit)", ErrTooLarge},
		{"missing", filepath.Join(dir, "nope"), 100, "does not exist", fs.ErrNotExist},
		{"directory", dir, 100, "is a directory, not a regular file", ErrNotRegular},
		{"fifo", fifo, 100, "is a named pipe (FIFO), not a regular file", ErrNotRegular},
		{"device", "/dev/zero", 1 << 20, "is a character device, not a regular file", ErrNotRegular},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.path == fifo && !haveFifo {
				t.Skip("no FIFOs on this platform")
			}
			done := make(chan struct{})
			var b []byte
			var err error
			go func() { b, err = ReadFile(tc.path, tc.limit); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("ReadFile(%s) blocks", tc.path)
			}
			if tc.want == "" {
				if err != nil || string(b) != "hello\n" {
					t.Fatalf("ReadFile = %q, %v", b, err)
				}
				return
			}
			if err == nil || err.Error() != tc.want || !errors.Is(err, tc.is) {
				t.Fatalf("ReadFile error = %v, want %q (is %v)", err, tc.want, tc.is)
			}
		})
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{5: "5 B", 4 << 20: "4 MiB", 1 << 30: "1 GiB", 1500: "1500 B", 3 << 10: "3 KiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
	if !strings.Contains(tooLarge(1<<30).Error(), "1 GiB") {
		t.Error(tooLarge(1 << 30))
	}
}

// TestReadFileMemory checks that ReadFile takes about the file's size in
// memory, not the doubling buffers of io.ReadAll (which reach two to three
// times a large file's size: a gigabyte data file needed three).
func TestReadFileMemory(t *testing.T) {
	const size = 8 << 20
	path := filepath.Join(t.TempDir(), "big.txt")
	if err := os.WriteFile(path, []byte(strings.Repeat("a", size)), 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b, err := ReadFile(path, 1<<30)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != size {
		t.Fatalf("ReadFile read %d bytes, want %d", len(b), size)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > size+size/8 {
		t.Fatalf("ReadFile of %d bytes allocated %d bytes, want about the file's size", size, got)
	}
}

// TestReadAllGrown checks that readAll reads on past its size hint: a file
// that grew after Stat is read whole (ReadFile then compares it with the
// limit).
func TestReadAllGrown(t *testing.T) {
	for _, hint := range []int64{0, 5, 19, 20, 21, 100} {
		got, err := readAll(context.Background(), strings.NewReader("0123456789abcdefghij"), hint)
		if err != nil || string(got) != "0123456789abcdefghij" {
			t.Fatalf("readAll(20 bytes, hint %d) = %q, %v; want all 20 bytes", hint, got, err)
		}
	}
}

// countingCtx is a context whose Err turns context.Canceled at its
// after-th call (never when after is 0), and counts the calls: an
// interrupt in the middle of a read, at a point that does not depend on
// the machine's speed.
type countingCtx struct {
	context.Context
	after, calls int
}

func (c *countingCtx) Err() error {
	c.calls++
	if c.after > 0 && c.calls >= c.after {
		return context.Canceled
	}
	return nil
}

// TestReadFileContext: a read of a large file asks its context at least
// every ReadChunk bytes, and stops, returning an error that wraps
// context.Canceled, at whichever of those looks finds it done; a context
// never done reads the whole file.
func TestReadFileContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.txt")
	want := []byte(strings.Repeat("0123456789abcde\n", 5*ReadChunk/16+3)) // a bit over 5 chunks
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	all := &countingCtx{Context: context.Background()}
	got, err := ReadFileContext(all, path, int64(len(want)))
	if err != nil || string(got) != string(want) {
		t.Fatalf("ReadFileContext, never cancelled: %d bytes, %v; want %d", len(got), err, len(want))
	}
	if min := len(want) / ReadChunk; all.calls < min {
		t.Fatalf("ReadFileContext asked its context %d times for %d bytes, want at least %d (every %d bytes)", all.calls, len(want), min, ReadChunk)
	}
	for after := 1; after <= all.calls; after++ {
		ctx := &countingCtx{Context: context.Background(), after: after}
		got, err := ReadFileContext(ctx, path, int64(len(want)))
		if !errors.Is(err, context.Canceled) || got != nil {
			t.Errorf("ReadFileContext cancelled at the context's call %d of %d: %d bytes, %v; want nothing and context.Canceled", after, all.calls, len(got), err)
		}
		if ctx.calls != after {
			t.Errorf("ReadFileContext cancelled at the context's call %d: asked it %d times, want it to stop there", after, ctx.calls)
		}
	}
}
