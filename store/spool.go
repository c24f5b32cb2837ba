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
type spool struct {
	f    *os.File
	w    *bufio.Writer
	n    int64  // rows added
	key  string // the key of the last row added
	buf  []byte
	path string
}

const (
	spoolKey = 1 << iota // the row's key follows
	spoolNaN             // the value is NULL (NaN): no value bits follow
)

// newSpool creates an empty spool in the default directory for temporary
// files. The caller closes it, which removes the file.
func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "attnlab-copy-*.metrics")
	if err != nil {
		return nil, err
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 64<<10), path: f.Name(), buf: make([]byte, 0, 64)}, nil
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
		return fmt.Errorf("write %s: %w", sp.path, err)
	}
	sp.n++
	return nil
}

// done flushes what add buffered to the file.
func (sp *spool) done() error {
	if err := sp.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", sp.path, err)
	}
	return nil
}

// close closes and removes the file.
func (sp *spool) close() {
	sp.f.Close()
	os.Remove(sp.path)
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
			m, fail = readSpooled(r, &key, b[:])
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

// readSpooled decodes one row; *key is the key of the row before, and b
// a buffer of 8 bytes.
func readSpooled(r *bufio.Reader, key *string, b []byte) (metricRowRaw, error) {
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
		if n > 1<<20 {
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
