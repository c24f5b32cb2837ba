package tasks

import "fmt"

// MemoryLimit bounds the memory a file task may take to build its dataset,
// so that a file too large for the machine is refused with one line instead
// of ending in the allocator (see budget).
type MemoryLimit struct {
	Bytes int64  // 0: no limit
	Name  string // how the error names it: "--max-memory 8 GiB"
}

// budget counts the bytes a file task allocates while it builds its
// dataset: the file's bytes and text (one for the text task), per line and per pair the slices and
// maps that hold them, 8 bytes per token id of a pair and an Example per
// pair, 4 bytes per token of a text stream (its windows are built a batch
// at a time),
// and each distinct token of a vocabulary. The counts are the sizes of
// what is allocated (Go's slice and map overheads included, measured by
// TestBudgetCoversAllocations), so the total is what the build allocates
// in all, which Dataset.Bytes reports and plan adds to a run's memory
// estimate: an upper bound of its peak, since the file's bytes, the lines
// and the unsplit pairs are garbage before the examples are allocated (a
// 46 MB TSV of 1.5 million short pairs: 777 MiB charged, 774 MiB of RSS
// with GOGC=off, 462 MiB with the default GOGC). Past the limit, take reports false and the task stops with
// err.
type budget struct {
	limit MemoryLimit
	used  int64
}

// Sizes of what the file tasks allocate, in bytes.
const (
	exampleBytes = 64 // an Example: two slice headers and a string
	idBytes      = 8  // a token id of an Example
	// streamIDBytes is a token id of a language-modelling stream
	// (Windows): an int32.
	streamIDBytes = 4
	intBytes      = 8  // an int of a Batcher's order of its examples
	sliceBytes    = 24 // a slice header: a Batcher's batch
	lineBytes     = 16 // a line's string header
	pairBytes     = 48 // a textPair: three strings
	badLineBytes  = 64 // an entry of readLines' map of bad lines, with the map's growth
	// distinctBytes is what one distinct token or source costs in maps
	// and slices beyond its own bytes (a map entry, with the map's growth,
	// and a slice element).
	distinctBytes = 128
)

// take adds n bytes and reports whether the total is within the limit.
func (b *budget) take(n int) bool {
	if b == nil {
		return true
	}
	b.used += int64(n)
	return !b.over()
}

// over reports whether the limit has been passed.
func (b *budget) over() bool {
	return b != nil && b.limit.Bytes > 0 && b.used > b.limit.Bytes
}

// err is the error of a task whose data passed the limit.
func (b *budget) err(task, path string) error {
	return &OverMemoryError{Task: task, Path: path, Limit: b.limit}
}

// OverMemoryError is the error of a file task whose dataset would take
// more than its MemoryLimit: a machine with more memory may build it (a
// worker hands its run back to the queue for one).
type OverMemoryError struct {
	Task, Path string // the task and its file, as the config names it
	Limit      MemoryLimit
}

func (e *OverMemoryError) Error() string {
	return fmt.Sprintf("%s: %s: building its dataset takes more than %s, the memory one run may use", e.Task, e.Path, e.Limit.Name)
}
