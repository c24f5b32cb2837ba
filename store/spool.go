package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// spool holds a run's metric rows in a temporary file, for Copy: it reads
// them from the source into the file, then — the source read having fully
// succeeded — writes them from the file into the target's transaction, so
// that its memory does not grow with the run's history (a run that logs
// every step has millions of rows) and no read of the source happens
// inside a transaction of the target (whose retries would take a failure
// of the source for one of the target). A transaction that is retried
// reads the file again from its start.
//
// Each row is encoded as a flags byte (spoolKey: the key follows, as a
// uvarint length and its bytes, when it differs from the row before's;
// spoolNaN: the value is NULL, so it is left out), the step as a varint,
// the value's and the wall time's float64 bits (little endian). Rows come
// in (key, step) order, so a key is written once per metric.
//
// The run's artifacts are spooled too, into a second file (blobs), one
// after the other, so that the target's transaction holds one artifact's
// bytes in memory at a time, not all of the run's.
//
// Both files are removed from their directory as soon as they are created
// (on Unix; elsewhere when the spool is closed) and used through their
// open handles, so that a sync that is killed leaves none behind.
type spool struct {
	f        *os.File
	w        *bufio.Writer
	n        int64  // rows added
	size     int64  // bytes added
	key      string // the key of the last row added
	buf      []byte
	path     string
	unlinked bool

	blobs         *os.File // the artifacts' bytes; nil until the first
	blobsPath     string
	blobsUnlinked bool
	blobsSize     int64

	// local, if not nil, runs each write to the files (Copy's
	// stallClock.local, which does not count the time it takes against
	// the source).
	local func(write func() error) error

	// dropped, if not nil, is called after an artifact of n bytes is read
	// into the spool and after it is written into the target (drop).
	dropped func(n int64)
}

// drop tells the spool's owner that the drivers' copies of an artifact of
// n bytes are garbage (Copy collects them, if big: freeAfter).
func (sp *spool) drop(n int64) {
	if sp.dropped != nil {
		sp.dropped(n)
	}
}

// localWriter is the metric rows' file as the spool's buffer writes to
// it: through sp.local.
type localWriter struct {
	sp *spool
	w  io.Writer // sp.f
}

func (l localWriter) Write(p []byte) (n int, err error) {
	err = l.sp.write(func() error {
		n, err = l.w.Write(p)
		return err
	})
	return n, err
}

// write runs write, a write to the spool's files, through sp.local.
func (sp *spool) write(write func() error) error {
	if sp.local == nil {
		return write()
	}
	return sp.local(write)
}

const (
	spoolKey = 1 << iota // the row's key follows
	spoolNaN             // the value is NULL (NaN): no value bits follow
)

// newSpool creates an empty spool in the default directory for temporary
// files ($TMPDIR on Unix). The caller closes it, which removes the files
// if they are still there.
func newSpool() (*spool, error) {
	f, unlinked, err := tempFile("attnlab-copy-*.metrics")
	if err != nil {
		return nil, err
	}
	sp := &spool{f: f, path: f.Name(), unlinked: unlinked, buf: make([]byte, 0, 64)}
	sp.w = bufio.NewWriterSize(localWriter{sp, f}, 64<<10)
	return sp, nil
}

// tempFile creates a temporary file and removes its name at once where
// the system lets an open file lose its name (Unix), reporting whether it
// did.
func tempFile(pattern string) (*os.File, bool, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return nil, false, fmt.Errorf("%w (temporary files go to $TMPDIR)", err)
	}
	return f, os.Remove(f.Name()) == nil, nil
}

// blobEnd returns where the next bytes added to the blobs file go,
// creating the file if need be.
func (sp *spool) blobEnd() (int64, error) {
	if sp.blobs == nil {
		f, unlinked, err := tempFile("attnlab-copy-*.artifacts")
		if err != nil {
			return 0, err
		}
		sp.blobs, sp.blobsPath, sp.blobsUnlinked = f, f.Name(), unlinked
	}
	return sp.blobsSize, nil
}

// addBlob appends bytes to the blobs file (created, and written, through
// sp.local) and returns where they start.
func (sp *spool) addBlob(data []byte) (off int64, err error) {
	err = sp.write(func() error {
		if off, err = sp.blobEnd(); err != nil {
			return err
		}
		if _, err := sp.blobs.Write(data); err != nil {
			return fmt.Errorf("%w (temporary files go to $TMPDIR)", err) // an *os.PathError: it names the file
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	sp.blobsSize += int64(len(data))
	return off, nil
}

// blobBuf is the buffer that artifacts are read back into from a spool
// (blob): one for a whole Copy, grown to its largest artifact, so that a
// copy of many runs allocates it once, not once a run (each a garbage
// artifact's size).
type blobBuf struct {
	b     []byte
	grown func(n int64) // if not nil, called with the size of each allocation (tests)
}

// blob reads back n bytes of the blobs file from off, into buf (grown as
// needed and reused: the caller holds one artifact at a time).
func (sp *spool) blob(off, n int64, buf *blobBuf) ([]byte, error) {
	if n == 0 {
		return []byte{}, nil
	}
	if sp.blobs == nil || off+n > sp.blobsSize {
		return nil, fmt.Errorf("bytes %d to %d of %d: the spool is damaged", off, off+n, sp.blobsSize)
	}
	if int64(cap(buf.b)) < n {
		buf.b = nil // the old buffer is garbage before the new one is allocated
		buf.b = make([]byte, n)
		if buf.grown != nil {
			buf.grown(n)
		}
	}
	b := buf.b[:n]
	if _, err := sp.blobs.ReadAt(b, off); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// add appends a row.
func (sp *spool) add(m metricRowRaw) error {
	b := sp.buf[:1]
	b[0] = 0
	if sp.n == 0 || m.key != sp.key {
		b[0] |= spoolKey
		b = binary.AppendUvarint(b, uint64(len(m.key)))
		b = append(b, m.key...)
		sp.key = m.key
	}
	b = binary.AppendVarint(b, m.step)
	if m.value.Valid {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.value.Float64))
	} else {
		b[0] |= spoolNaN
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.wall))
	sp.buf = b[:0]
	if _, err := sp.w.Write(b); err != nil {
		return sp.writeErr(err)
	}
	sp.n++
	sp.size += int64(len(b))
	return nil
}

// writeErr names the file in a failure to write it, unless the error
// (an *os.PathError) does already.
func (sp *spool) writeErr(err error) error {
	if pe := (*os.PathError)(nil); errors.As(err, &pe) {
		return fmt.Errorf("%w (temporary files go to $TMPDIR)", err)
	}
	return fmt.Errorf("write %s: %w (temporary files go to $TMPDIR)", sp.path, err)
}

// done flushes what add buffered to the file.
func (sp *spool) done() error {
	if err := sp.w.Flush(); err != nil {
		return sp.writeErr(err)
	}
	return nil
}

// close closes the files and removes them if their names are still there.
func (sp *spool) close() {
	sp.f.Close()
	if !sp.unlinked {
		os.Remove(sp.path)
	}
	if sp.blobs != nil {
		sp.blobs.Close()
		if !sp.blobsUnlinked {
			os.Remove(sp.blobsPath)
		}
	}
}

// rows returns a function that reads the rows back from the start of the
// file, one a call: ok is false after the last, and err, which wraps a
// *localError (never taken for the database's failure), when the file
// cannot be read or holds fewer rows than were added.
func (sp *spool) rows() func() (m metricRowRaw, ok bool, err error) {
	var (
		r    *bufio.Reader
		read int64
		key  string
		fail error
	)
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		fail = err
	} else {
		r = bufio.NewReaderSize(sp.f, 64<<10)
	}
	var b [8]byte
	return func() (metricRowRaw, bool, error) {
		var m metricRowRaw
		if fail == nil && read == sp.n {
			return m, false, nil
		}
		if fail == nil {
			m, fail = readSpooled(r, &key, b[:], sp.size)
		}
		if fail != nil {
			if errors.Is(fail, io.EOF) {
				fail = io.ErrUnexpectedEOF
			}
			return m, false, &localError{fmt.Errorf("read spooled metric rows %s: row %d of %d: %w", sp.path, read+1, sp.n, fail)}
		}
		read++
		return m, true, nil
	}
}

// readSpooled decodes one row; *key is the key of the row before, b a
// buffer of 8 bytes, and size the file's size (no key is longer: a longer
// length is damage, not a key to allocate).
func readSpooled(r *bufio.Reader, key *string, b []byte, size int64) (metricRowRaw, error) {
	var m metricRowRaw
	flags, err := r.ReadByte()
	if err != nil {
		return m, err
	}
	if flags&spoolKey != 0 {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return m, err
		}
		if n > uint64(size) {
			return m, fmt.Errorf("key of %d bytes: the file is damaged", n)
		}
		k := make([]byte, n)
		if _, err := io.ReadFull(r, k); err != nil {
			return m, err
		}
		*key = string(k)
	}
	m.key = *key
	if m.step, err = binary.ReadVarint(r); err != nil {
		return m, err
	}
	if flags&spoolNaN == 0 {
		if _, err := io.ReadFull(r, b); err != nil {
			return m, err
		}
		m.value.Float64, m.value.Valid = math.Float64frombits(binary.LittleEndian.Uint64(b)), true
	}
	if _, err := io.ReadFull(r, b); err != nil {
		return m, err
	}
	m.wall = math.Float64frombits(binary.LittleEndian.Uint64(b))
	return m, nil
}
