package tasks

import (
	"encoding/json"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/attnlab/attnlab/seq"
)

func TestMakeBatchSeq2Seq(t *testing.T) {
	t.Parallel()
	ex := []Example{
		{Src: []int{4, 5, 6}, Tgt: []int{7}},
		{Src: []int{8}, Tgt: []int{9, 10, 11}},
	}
	b := MakeBatch(ListOf(ex), []int{1, 0}, false)
	want := seq.Batch{
		Size: 2,
		Src:  []int{8, 0, 0, 4, 5, 6}, SrcLen: []int{1, 3}, S: 3,
		In:     []int{seq.BOSID, 9, 10, 11, seq.BOSID, 7, 0, 0},
		Out:    []int{9, 10, 11, seq.EOSID, 7, seq.EOSID, 0, 0},
		TgtLen: []int{4, 2}, T: 4,
		Index: []int{1, 0}, Tokens: 6,
	}
	if !reflect.DeepEqual(b, want) {
		t.Fatalf("MakeBatch = %+v,\nwant %+v", b, want)
	}
}

func TestMakeBatchLM(t *testing.T) {
	t.Parallel()
	ex := []Example{{Tgt: []int{4, 5, 6, 7}}, {Tgt: []int{8, 9}}}
	b := MakeBatch(ListOf(ex), []int{0, 1}, true)
	want := seq.Batch{
		Size:   2,
		In:     []int{4, 5, 6, 8, 0, 0},
		Out:    []int{5, 6, 7, 9, 0, 0},
		TgtLen: []int{3, 1}, T: 3,
		Index: []int{0, 1}, Tokens: 4,
	}
	if !reflect.DeepEqual(b, want) {
		t.Fatalf("MakeBatch = %+v,\nwant %+v", b, want)
	}
}

// lengthExamples returns n examples with source lengths 1..maxLen cycling.
func lengthExamples(n, maxLen int) []Example {
	ex := make([]Example, n)
	for i := range ex {
		l := 1 + (i*7)%maxLen
		ex[i] = Example{Src: slices.Repeat([]int{4}, l), Tgt: slices.Repeat([]int{5}, l)}
	}
	return ex
}

// epoch collects the Index of every batch of one epoch.
func epoch(tb testing.TB, b *Batcher) [][]int {
	tb.Helper()
	var out [][]int
	for batch, ok := b.Next(); ok; batch, ok = b.Next() {
		out = append(out, batch.Index)
	}
	return out
}

func TestBatcherEpochs(t *testing.T) {
	t.Parallel()
	ex := lengthExamples(103, 40)
	b, err := NewBatcher(ListOf(ex), false, BatcherConfig{Size: 10, Pool: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.Len(), 11; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}
	var first [][]int
	for e := range 3 {
		if b.Epoch() != e {
			t.Fatalf("Epoch() = %d, want %d", b.Epoch(), e)
		}
		batches := epoch(t, b)
		if len(batches) != 11 {
			t.Fatalf("epoch %d has %d batches, want 11", e, len(batches))
		}
		var all []int
		small := 0
		for _, idx := range batches {
			all = append(all, idx...)
			if len(idx) < 10 {
				small++
			}
		}
		slices.Sort(all)
		for i, j := range all {
			if i != j {
				t.Fatalf("epoch %d does not hold every example once: %v", e, all)
			}
		}
		if small != 1 {
			t.Errorf("epoch %d has %d short batches, want 1", e, small)
		}
		if e == 0 {
			first = batches
		} else if reflect.DeepEqual(batches, first) {
			t.Errorf("epoch %d repeats epoch 0's batches", e)
		}
	}
	// The same seed gives the same batches.
	c, _ := NewBatcher(ListOf(ex), false, BatcherConfig{Size: 10, Pool: 4, Seed: 1})
	if got := epoch(t, c); !reflect.DeepEqual(got, first) {
		t.Fatalf("same seed, epoch 0 = %v, want %v", got, first)
	}
	d, _ := NewBatcher(ListOf(ex), false, BatcherConfig{Size: 10, Pool: 4, Seed: 2})
	if got := epoch(t, d); reflect.DeepEqual(got, first) {
		t.Fatalf("another seed gave the same epoch")
	}
}

func TestBatcherBucketingLimitsPadding(t *testing.T) {
	t.Parallel()
	ex := lengthExamples(2000, 60)
	padding := func(pool int) int {
		b, err := NewBatcher(ListOf(ex), false, BatcherConfig{Size: 20, Pool: pool, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		pad := 0
		for batch, ok := b.Next(); ok; batch, ok = b.Next() {
			pad += batch.Size * batch.S
			for _, l := range batch.SrcLen {
				pad -= l
			}
		}
		return pad
	}
	plain, bucketed := padding(1), padding(0)
	if bucketed*4 > plain {
		t.Fatalf("padding with bucketing = %d, without = %d: want at most a quarter", bucketed, plain)
	}
}

func TestBatcherRestore(t *testing.T) {
	t.Parallel()
	ex := lengthExamples(57, 30)
	cfg := BatcherConfig{Size: 8, Seed: 42}
	ref, _ := NewBatcher(ListOf(ex), false, cfg)
	var want [][]int
	for range 3 {
		want = append(want, epoch(t, ref)...)
		want = append(want, nil) // epoch boundary
	}
	// Interrupt after k calls of Next, save, restore into a new batcher.
	for _, k := range []int{0, 1, 5, 8, 9, 10, 17, 26} {
		a, _ := NewBatcher(ListOf(ex), false, cfg)
		var got [][]int
		for range k {
			batch, ok := a.Next()
			if ok {
				got = append(got, batch.Index)
			} else {
				got = append(got, nil)
			}
		}
		js, err := json.Marshal(a.State())
		if err != nil {
			t.Fatal(err)
		}
		var st BatcherState
		if err := json.Unmarshal(js, &st); err != nil {
			t.Fatal(err)
		}
		b, _ := NewBatcher(ListOf(ex), false, BatcherConfig{Size: 8, Seed: 999})
		if err := b.Restore(st); err != nil {
			t.Fatal(err)
		}
		for len(got) < len(want) {
			batch, ok := b.Next()
			if ok {
				got = append(got, batch.Index)
			} else {
				got = append(got, nil)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("restored after %d calls: batches differ from the uninterrupted run", k)
		}
	}
	b, _ := NewBatcher(ListOf(ex[:50]), false, cfg)
	if err := b.Restore(ref.State()); err == nil {
		t.Fatalf("Restore of a state for 57 examples into a batcher of 50: no error")
	}
	bad := ref.State()
	bad.RNG = []byte("junk")
	if err := ref.Restore(bad); err == nil {
		t.Fatalf("Restore of a corrupt RNG state: no error")
	}
}

func TestNewBatcherErrors(t *testing.T) {
	t.Parallel()
	ex := lengthExamples(3, 3)
	for _, tc := range []struct {
		name string
		ex   []Example
		cfg  BatcherConfig
		want string
	}{
		{"empty", nil, BatcherConfig{Size: 2}, "tasks: batcher over an empty split"},
		{"size 0", ex, BatcherConfig{}, "tasks: batch size must be at least 1, got 0"},
		{"pool", ex, BatcherConfig{Size: 1, Pool: -1}, "tasks: bucketing pool must be at least 0, got -1"},
	} {
		if _, err := NewBatcher(ListOf(tc.ex), false, tc.cfg); err == nil || err.Error() != tc.want {
			t.Errorf("%s: NewBatcher error = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestInOrder(t *testing.T) {
	t.Parallel()
	ex := lengthExamples(7, 5)
	var got [][]int
	for b := range InOrder(ListOf(ex), false, 3) {
		got = append(got, b.Index)
	}
	if want := [][]int{{0, 1, 2}, {3, 4, 5}, {6}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("InOrder = %v, want %v", got, want)
	}
	n := 0
	for range InOrder(ListOf(ex), false, 3) {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("break after the first batch ran %d iterations", n)
	}
}

// TestBatcherBytesCoversAllocations: BatcherBytes is what NewBatcher
// allocates (its first epoch's order and batches), within a few percent,
// for the windows of a text stream at context 1 (a window a token), with
// and without bucketing.
func TestBatcherBytesCoversAllocations(t *testing.T) {
	if raceBuild {
		t.Skip("allocations measured under -race include the race detector's; this test runs without -race (as CI does)")
	}
	ex := Windows(make([]int32, 200_001), 1)
	for _, pool := range []int{1, 0} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b, err := NewBatcher(ex, true, BatcherConfig{Size: 8, Pool: pool, Seed: 1})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		runtime.KeepAlive(b)
		// An int and a slice header a BatcherBytes counts are half as
		// large with 32-bit ints: so is what NewBatcher allocates.
		alloc, want := float64(after.TotalAlloc-before.TotalAlloc), float64(BatcherBytes(ex.Len(), 8))/wordScale
		if alloc < 0.95*want || alloc > 1.1*want {
			t.Errorf("pool %d: NewBatcher over %d windows allocated %.0f bytes, BatcherBytes says %.0f", pool, ex.Len(), alloc, want)
		}
	}
	if BatcherBytes(0, 8) != 0 || BatcherBytes(5, 0) != 0 {
		t.Error("BatcherBytes of no examples or no batch size is not 0")
	}
}
