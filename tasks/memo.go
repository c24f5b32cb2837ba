package tasks

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// The memo lets one process read and tokenize a data file once where
// `attnlab run` used to do it three times: loading an experiment reads
// each file for its fingerprint (FingerprintFile) and builds the task's
// dataset to check it (CheckData), and then each run builds it again
// (Build). FingerprintFile keeps the bytes it read for the CheckData that
// follows, and CheckData — given the fingerprints and the seed of the
// first run — keeps the dataset it built for the Build of that run, with
// the same fingerprints and seed (or, for a task it measures without
// building its dataset, leaves the bytes for that Build: a text corpus's
// ids, 4 bytes a token, are then built once, by the run that needs them).
// Each entry is taken by its one reader
// (a second Build reads the file again, and two runs never share a
// dataset), and the memo holds a few entries at most, the oldest dropped
// first, so that nothing stays in memory for a file no run reads.

// memoEntries bounds each of the memo's two lists.
const memoEntries = 8

type memoEntry[T any] struct {
	key string
	val T
}

// memoList is a short list of entries taken by key, oldest dropped first.
type memoList[T any] struct {
	mu      sync.Mutex
	entries []memoEntry[T]
}

func (m *memoList[T]) put(key string, v T) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, e := range m.entries {
		if e.key == key {
			m.entries = append(m.entries[:i], m.entries[i+1:]...)
			break
		}
	}
	if len(m.entries) == memoEntries {
		m.entries = m.entries[1:]
	}
	m.entries = append(m.entries, memoEntry[T]{key, v})
}

// get returns the entry of key and leaves it in the list.
func (m *memoList[T]) get(key string) (T, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.entries {
		if e.key == key {
			return e.val, true
		}
	}
	var zero T
	return zero, false
}

func (m *memoList[T]) take(key string) (T, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, e := range m.entries {
		if e.key == key {
			m.entries = append(m.entries[:i], m.entries[i+1:]...)
			return e.val, true
		}
	}
	var zero T
	return zero, false
}

var (
	// memoBytes holds files FingerprintFile read, by full path and
	// fingerprint.
	memoBytes memoList[[]byte]
	// memoData holds datasets CheckData built, by datasetKey.
	memoData memoList[*Dataset]
	// fileReads counts the data files read from disk (for tests).
	fileReads atomic.Int64
)

// bytesKey is the memo key of a file's contents.
func bytesKey(full string, fp Fingerprint) string {
	return fmt.Sprintf("%s\x00%s\x00%d\x00%d", full, fp.SHA256, fp.Size, fp.Lines)
}

// datasetKey is the memo key of a file task's dataset: the task, its
// parameters, the seed, the base directory and the fingerprints of its
// files ("" when a key cannot be made: no memo then).
func datasetKey(name string, params map[string]any, opt Options) string {
	if len(opt.Data) == 0 {
		return ""
	}
	p, err := json.Marshal(params) // map keys sorted
	if err != nil {
		return ""
	}
	keys := make([]string, 0, len(opt.Data))
	for k := range opt.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := fmt.Sprintf("%s\x00%s\x00%d\x00%s", name, p, opt.Seed, opt.BaseDir)
	for _, k := range keys {
		f := opt.Data[k]
		s += fmt.Sprintf("\x00%s=%s/%d/%d", k, f.SHA256, f.Size, f.Lines)
	}
	return s
}
