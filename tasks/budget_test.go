package tasks

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/registry"
)

// wordScale is how many times larger the sizes that the memory estimates
// count are than the platform's: they are those of 64-bit words (8-byte
// ints and token ids, 16-byte string and 24-byte slice headers), so 1 with
// 64-bit ints and 2 with 32-bit ones (386, arm), where what they count
// takes half. An estimate's upper bound against what is allocated is
// widened by it (386 overstates by up to 2.1× in TestBudgetCoversAllocations
// and 3.1× in TestGeneratedBytes, amd64 by 1.1× and 1.8×); the lower
// bounds, which make an estimate safe, are not.
const wordScale = 64 / strconv.IntSize

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
// (1.5 × wordScale) all the bytes the build allocated, transients
// included: the estimate follows the real cost for every shape of data.
// (Not parallel: it reads the process's allocation counters.)
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
		if got < live || got < 0.75*alloc || got > 1.5*wordScale*alloc {
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

// TestGeneratedBytes: what a generated task's DataSize charges to a run's
// memory estimate (GeneratedBytes) covers what building its dataset
// allocates, transients included, and overstates it at most 3 × wordScale
// times (the sizes are bounds: a length range's longest, a template's
// widest date), for every generated task with long and short sequences.
// (Not parallel: it reads the process's allocation counters.)
func TestGeneratedBytes(t *testing.T) {
	if raceBuild {
		t.Skip("allocations measured under -race include the race detector's; this test runs without -race (as CI does)")
	}
	cases := []struct {
		name, task string
		params     map[string]any
	}{
		{"reverse long", "reverse", map[string]any{"symbols": 10, "min_len": 150, "max_len": 200, "train_size": 5000, "valid_size": 100, "test_size": 100}},
		{"copy short", "copy", map[string]any{"symbols": 10, "min_len": 5, "max_len": 10, "train_size": 50000, "valid_size": 1000, "test_size": 1000}},
		{"reverse words, longer test", "reverse", map[string]any{"symbols": 1000, "min_len": 5, "max_len": 10, "test_min_len": 40, "test_max_len": 50, "train_size": 50000, "valid_size": 1000, "test_size": 1000}},
		{"sort", "sort", map[string]any{"symbols": 20, "min_len": 20, "max_len": 30, "train_size": 20000, "valid_size": 500, "test_size": 500}},
		{"addition", "addition", map[string]any{"digits": 10, "min_digits": 1, "train_size": 50000, "valid_size": 1000, "test_size": 1000}},
		{"listops", "listops", map[string]any{"train_size": 10000, "valid_size": 100, "test_size": 100}},
		{"dates", "dates", map[string]any{"train_size": 50000, "valid_size": 1000, "test_size": 1000}},
	}
	for _, tc := range cases {
		info, err := Registry.Info(tc.task)
		if err != nil {
			t.Fatal(err)
		}
		p, err := info.Decode(tc.params, registry.DecodeOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		sized, ok := p.(Sized)
		if !ok {
			t.Fatalf("%s: %T does not implement Sized", tc.name, p)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d, err := Build(tc.task, tc.params, Options{})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		runtime.KeepAlive(d)
		alloc := float64(after.TotalAlloc - before.TotalAlloc)
		got := float64(GeneratedBytes(sized))
		t.Logf("%-28s allocated %6.1f MB, estimated %6.1f MB (%.2f×)", tc.name, alloc/1e6, got/1e6, got/alloc)
		if got < alloc || got > 3*wordScale*alloc {
			t.Errorf("%s: estimated %.0f bytes; building the dataset allocated %.0f", tc.name, got, alloc)
		}
	}
}

// TestBadLinesCharged: the lines readLines finds bad (invalid UTF-8, NUL
// bytes, too long) are kept one map entry each until they are reported,
// and that map is charged to the memory budget: a file of nothing but bad
// lines is refused by the limit, not built past it. (Not parallel: it
// reads the process's allocation counters.)
func TestBadLinesCharged(t *testing.T) {
	if raceBuild {
		t.Skip("allocations measured under -race include the race detector's; this test runs without -race (as CI does)")
	}
	dir := writeFiles(t, map[string]string{"f": strings.Repeat("\xff\n", 200_000)})
	params := map[string]any{"path": "f"}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Build("pairs", params, Options{BaseDir: dir})
	runtime.ReadMemStats(&after)
	var de *DataError
	if !errors.As(err, &de) {
		t.Fatalf("no limit: %v, want the file's bad lines", err)
	}
	alloc := int64(after.TotalAlloc - before.TotalAlloc)
	limit := MemoryLimit{Bytes: alloc / 2, Name: "--max-memory X"}
	_, err = Build("pairs", params, Options{BaseDir: dir, Memory: limit})
	if want := "pairs: f: building its dataset takes more than --max-memory X"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("limit of half the %d bytes allocated: %v, want %q…", alloc, err, want)
	}
}
