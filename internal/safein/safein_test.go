package safein

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(reg, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
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
		got, err := readAll(strings.NewReader("0123456789abcdefghij"), hint)
		if err != nil || string(got) != "0123456789abcdefghij" {
			t.Fatalf("readAll(20 bytes, hint %d) = %q, %v; want all 20 bytes", hint, got, err)
		}
	}
}
