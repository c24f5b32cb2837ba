package web

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/attnlab/attnlab/store"
)

// submitQueued submits experiment name with n queued runs and returns them.
func submitQueued(tb testing.TB, st *store.Store, name string, n int) []store.Run {
	tb.Helper()
	specs := make([]store.RunSpec, n)
	for i := range specs {
		specs[i] = store.RunSpec{Hash: fmt.Sprintf("%s%08d", name, i), Seed: int64(i + 1),
			Config: fmt.Sprintf(`{"seed":%d,"model":{"attention":{"name":"dot"}},"train":{"steps":100}}`, i+1), Point: `{"model.attention.name":"dot"}`}
	}
	_, list, err := st.Submit(context.Background(), store.ExperimentSpec{Name: name, YAML: "name: " + name + "\n"}, specs)
	if err != nil {
		tb.Fatal(err)
	}
	return list
}

// TestQueuedRunPageReadsNoSiblings: a queued run's page (and its state
// fragment, which a live page fetches again whenever its run changes)
// asks only whether some run trains — the running runs — not every run of
// its experiment: its cost does not grow with the experiment. 2,000
// queued runs beside it cost less than one allocation each (reading them
// cost about 30 each).
func TestQueuedRunPageReadsNoSiblings(t *testing.T) {
	st := openStore(t, t.TempDir()+"/runs.db")
	small := submitQueued(t, st, "small", 20)
	big := submitQueued(t, st, "big", 2000)
	s := newServer(t, st, Options{})
	allocs := func(id int64) float64 {
		u := "/r/" + strconv.FormatInt(id, 10) + "?fragment=state"
		get(t, s, u) // warm the caches
		return testing.AllocsPerRun(5, func() { get(t, s, u) })
	}
	a20, a2000 := allocs(small[7].ID), allocs(big[7].ID)
	t.Logf("allocations of a queued run's state fragment: %.0f beside 20 runs, %.0f beside 2,000", a20, a2000)
	if a2000 > a20+2000 {
		t.Errorf("a queued run's page allocates %.0f times beside 2,000 queued runs, %.0f beside 20: it reads its experiment's runs", a2000, a20)
	}
}

// BenchmarkQueuedRunPage2000 is a queued run's page in an experiment of
// 2,000 queued runs, as a live page refetches it.
func BenchmarkQueuedRunPage2000(b *testing.B) {
	st := openStore(b, b.TempDir()+"/runs.db")
	list := submitQueued(b, st, "big", 2000)
	s := newServer(b, st, Options{})
	u := "/r/" + strconv.FormatInt(list[7].ID, 10)
	b.ReportAllocs()
	for b.Loop() {
		get(b, s, u)
	}
}
