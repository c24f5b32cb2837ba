package tasks

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// budgetCase is a task's data file and its parameters.
type budgetCase struct {
	name, task, content string
	params              map[string]any
}

// write writes the case's file into a new directory and returns it with
// the task's parameters, the file's path among them.
func (c budgetCase) write(t *testing.T) (dir string, params map[string]any) {
	t.Helper()
	params = map[string]any{"path": "f"}
	for k, v := range c.params {
		params[k] = v
	}
	return writeFiles(t, map[string]string{"f": c.content}), params
}

// budgetCases are file-task data of the shapes that cost the most memory
// per byte: one-character tokens, context 1, tiny distinct pairs, all
// distinct words, multi-byte characters, a file of empty lines.
func budgetCases() []budgetCase {
	const size = 1 << 20
	var distinct, typical strings.Builder
	for i := 0; distinct.Len() < size; i++ {
		fmt.Fprintf(&distinct, "%x\t%x\n", i, i)
	}
	for i := 0; typical.Len() < size; i++ {
		fmt.Fprintf(&typical, "the quick brown fox %d jumps over\tthe lazy dog %d again and again\n", i, i%1000)
	}
	chars := strings.Repeat("abcdefgh\n", size/9)
	return []budgetCase{
		{"text char", "text", chars, map[string]any{"context": 64}},
		{"text char context 1", "text", chars, map[string]any{"context": 1}},
		{"text char greek", "text", strings.Repeat("αβγδεζηθ\n", size/17), map[string]any{"context": 64}},
		{"text word a", "text", strings.Repeat("a ", size/2), map[string]any{"context": 64, "tokenizer": "word"}},
		{"text word distinct", "text", distinct.String(), map[string]any{"context": 64, "tokenizer": "word"}},
		{"pairs word", "pairs", typical.String(), nil},
		{"pairs char", "pairs", typical.String(), map[string]any{"src_tokenizer": "char", "tgt_tokenizer": "char"}},
		{"pairs distinct tiny", "pairs", distinct.String(), nil},
		{"pairs empty lines", "pairs", "a\tb\nc\td\ne\tf\n" + strings.Repeat("\n", size), map[string]any{"valid_fraction": 0, "test_fraction": 0}},
	}
}

// TestBudgetCoversAllocations: what a file task charges to its memory
// budget (Dataset.Bytes, which plan adds to a run's estimate) is never
// below what the dataset holds once built, and lies within 0.75–1.5 times
// all the bytes the build allocated, transients included: the estimate
// follows the real cost for every shape of data. (Not parallel: it reads
// the process's allocation counters.)
func TestBudgetCoversAllocations(t *testing.T) {
	if raceBuild {
		t.Skip("allocations measured under -race include the race detector's; this test runs without -race (as CI does)")
	}
	for _, tc := range budgetCases() {
		dir, params := tc.write(t)
		var before, after, held runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d, err := Build(tc.task, params, Options{BaseDir: dir})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		runtime.GC()
		runtime.ReadMemStats(&held)
		runtime.KeepAlive(d)
		alloc := float64(after.TotalAlloc - before.TotalAlloc)
		live := float64(int64(held.HeapAlloc) - int64(before.HeapAlloc))
		got := float64(d.Bytes)
		t.Logf("%-20s %8d bytes: allocated %5.1f B/byte, held %5.1f, budget %5.1f", tc.name, len(tc.content),
			alloc/float64(len(tc.content)), live/float64(len(tc.content)), got/float64(len(tc.content)))
		if got < live || got < 0.75*alloc || got > 1.5*alloc {
			t.Errorf("%s: budget %.0f bytes; the dataset holds %.0f and its build allocated %.0f", tc.name, got, live, alloc)
		}
	}
}

// TestMemoryLimit: past Options.Memory a file task stops with one line
// naming the task, the file and the limit; at the dataset's own size it
// builds.
func TestMemoryLimit(t *testing.T) {
	for _, tc := range budgetCases() {
		dir, params := tc.write(t)
		d, err := Build(tc.task, params, Options{BaseDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		limit := MemoryLimit{Bytes: d.Bytes, Name: "--max-memory X"}
		if _, err := Build(tc.task, params, Options{BaseDir: dir, Memory: limit}); err != nil {
			t.Errorf("%s: at its own size (%d bytes): %v", tc.name, d.Bytes, err)
		}
		limit.Bytes = d.Bytes - 1
		_, err = Build(tc.task, params, Options{BaseDir: dir, Memory: limit})
		want := tc.task + ": f: building its dataset takes more than --max-memory X"
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: one byte below its size: %v, want %q…", tc.name, err, want)
		}
	}
}
