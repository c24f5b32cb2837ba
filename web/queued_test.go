package web

import (
	"context"
	"fmt"
	"html"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/runs"
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

// TestQueuedRunsBehindABusyWorker: queued runs of an experiment none of
// whose runs trains, while a worker is alive and busy with another
// experiment, are not said to wait for a worker to be started: the pages
// name the busy worker and its experiment, and still give the command
// that trains them at once. A worker that is gone (here: this host, a pid
// that has exited) is not busy: then they say that no worker runs.
func TestQueuedRunsBehindABusyWorker(t *testing.T) {
	st := openStore(t, t.TempDir()+"/runs.db")
	waits := submitQueued(t, st, "waits", 2)
	other := submitQueued(t, st, "other", 2)
	p := exec.Command("true")
	if err := p.Run(); err != nil {
		t.Skip("cannot start a process to take a dead pid from: ", err)
	}
	dead := store.CurrentOwner("test")
	dead.PID = p.Process.Pid
	if res, err := st.Claim(context.Background(), other[0].ID, dead, 0); err != nil || !res.Claimed {
		t.Fatalf("claim: %v %s", err, res.Reason)
	}
	s := newServer(t, st, Options{})
	worker, _ := st.SharedWorkerCommand("waits")
	worker = strings.ReplaceAll(worker, "'", "&#39;")
	pages := []string{"/", "/x/waits", "/r/" + strconv.FormatInt(waits[1].ID, 10)}
	for _, u := range pages {
		body := get(t, s, u).body
		mustContain(t, u+" while the only worker is gone", body, "no worker is training any run of this database")
		if strings.Contains(body, "busy") {
			t.Errorf("%s names a busy worker that is gone:\n%s", u, shortBody(body))
		}
	}

	claim(t, st, other[1].ID) // fixOwner: worker-1:4242, heartbeat now
	busy := "the worker worker-1:4242 is busy with experiment other"
	wants := [][]string{
		{"queued; a worker is busy elsewhere", busy},
		{"2 runs are queued: none of this experiment's runs is training; " + busy, "<code>" + worker + "</code> trains them at once"},
		{"queued: none of its experiment's runs is training; " + busy, "<code>" + worker + "</code> trains it at once"},
	}
	for i, u := range pages {
		body := get(t, s, u).body
		mustContain(t, u, body, wants[i]...)
		if strings.Contains(body, "waiting for a worker") || strings.Contains(body, "no worker is training") {
			t.Errorf("%s says no worker runs while worker-1:4242 trains experiment other:\n%s", u, shortBody(body))
		}
	}
}

// TestBusyElsewhere: the sentence names each worker once, with its
// experiments, and leaves out the page's own experiment.
func TestBusyElsewhere(t *testing.T) {
	run := func(x, host string, pid int) store.Run {
		return store.Run{Experiment: x, Status: store.StatusRunning, Host: host, PID: pid}
	}
	id := func(s string) string { return s }
	for _, tc := range []struct {
		runs []store.Run
		want string
	}{
		{nil, ""},
		{[]store.Run{run("self", "h", 1)}, ""},
		{[]store.Run{run("a", "h", 1), run("a", "h", 1)}, "the worker h:1 is busy with experiment a"},
		{[]store.Run{run("a", "h", 1), run("b", "h", 1), run("self", "g", 2)}, "the worker h:1 is busy with experiments a and b"},
		{[]store.Run{run("a", "h", 1), run("b", "g", 2), run("c", "g", 2)}, "2 workers are busy with other experiments: h:1 with a, g:2 with b and c"},
		{[]store.Run{run("a", "h", 1), run("a", "h", 2), run("a", "h", 3), run("a", "h", 4)}, "4 workers are busy with other experiments: h:1 with a, h:2 with a, h:3 with a, 1 more"},
	} {
		if got := busyElsewhere(tc.runs, "self", id); got != tc.want {
			t.Errorf("busyElsewhere(%v) = %q, want %q", tc.runs, got, tc.want)
		}
	}
}

// TestBigExperimentPageBounded: an experiment of 1,200 runs (2 sweep
// points × 600 seeds) makes a page of bounded size: its runs list shows
// at most maxRunRows runs — its running and failed ones among them, however
// late — and links to the whole list; a comparison row links at most
// maxRowRuns runs and its values' hover at most as many. 10,000 runs made
// a page of 5 MB.
func TestBigExperimentPageBounded(t *testing.T) {
	st := openStore(t, t.TempDir()+"/runs.db")
	ctx := context.Background()
	var specs []store.RunSpec
	for p := range 2 {
		for seed := range 600 {
			specs = append(specs, store.RunSpec{Hash: fmt.Sprintf("p%d-%04d", p, seed), Seed: int64(seed + 1),
				Config: fmt.Sprintf(`{"seed":%d,"model":{"attention":{"name":"a%d"}}}`, seed+1, p), Point: fmt.Sprintf(`{"model.attention.name":"a%d"}`, p)})
		}
	}
	_, list, err := st.Submit(ctx, store.ExperimentSpec{Name: "big", YAML: "name: big\n"}, specs)
	if err != nil {
		t.Fatal(err)
	}
	failed, running := list[len(list)-2].ID, list[len(list)-1].ID
	for i, r := range list {
		claim(t, st, r.ID)
		if r.ID == running {
			continue
		}
		if err := st.PutSummaries(ctx, r.ID, map[string]float64{"test/exact_match": float64(i%7) / 7, "test/loss": 1}); err != nil {
			t.Fatal(err)
		}
		status, msg := store.StatusDone, ""
		if r.ID == failed {
			status, msg = store.StatusFailed, "loss is NaN"
		}
		if err := st.Finish(ctx, r.ID, fixOwner, status, msg); err != nil {
			t.Fatal(err)
		}
	}
	s := newServer(t, st, Options{})
	page := get(t, s, "/x/big")
	if page.status != 200 {
		t.Fatalf("GET /x/big: %d\n%s", page.status, shortBody(page.body))
	}
	const bound = 250 << 10
	t.Logf("/x/big of %d runs: %d bytes", len(list), len(page.body))
	if len(page.body) > bound {
		t.Errorf("the page of an experiment of %d runs is %d bytes, more than %d", len(list), len(page.body), bound)
	}
	// Two rows: each links maxRowRuns runs, and each of its two metrics'
	// hover names as many.
	if n := strings.Count(page.body, `<a class="s-done" href="/r/`); n != 2*maxRowRuns {
		t.Errorf("the comparison links %d runs, want %d", n, 2*maxRowRuns)
	}
	if n := strings.Count(page.body, ", seed "); n != 2*2*maxRowRuns {
		t.Errorf("the comparison's hovers name %d runs, want %d", n, 2*2*maxRowRuns)
	}
	if n := strings.Count(page.body, "<tr data-run="); n != maxRunRows {
		t.Errorf("the runs list has %d rows, want %d", n, maxRunRows)
	}
	mustContain(t, "/x/big", page.body, fmt.Sprintf(`<tr data-run="%d">`, running), fmt.Sprintf(`<tr data-run="%d">`, failed),
		"1200 runs, 500 listed", `<a href="/x/big?runs=all#runs">List all 1200</a>`, `<a class="more" href="/x/big?runs=all#runs" title="list every run of the experiment">+580 more</a>`, "… 580 more runs")
	all := get(t, s, "/x/big?runs=all").body
	if n := strings.Count(all, "<tr data-run="); n != len(list) {
		t.Errorf("/x/big?runs=all lists %d runs, want %d", n, len(list))
	}
	if strings.Contains(all, "List all") {
		t.Errorf("/x/big?runs=all still offers to list all")
	}
}

// TestListedRanks: a bounded runs list keeps the running, failed and
// interrupted runs before a long queue (they used to rank with queued
// ones, by id, and a queue of more than the bound hid them), and shows
// what it keeps in id order.
func TestListedRanks(t *testing.T) {
	var runs []store.Run
	for id := int64(1); id <= 10; id++ {
		runs = append(runs, store.Run{ID: id, Status: store.StatusQueued})
	}
	runs = append(runs, store.Run{ID: 11, Status: store.StatusDone}, store.Run{ID: 12, Status: store.StatusInterrupted},
		store.Run{ID: 13, Status: store.StatusFailed}, store.Run{ID: 14, Status: store.StatusRunning})
	var got []int64
	for _, r := range listed(runs, 4) {
		got = append(got, r.ID)
	}
	if want := []int64{1, 12, 13, 14}; !slices.Equal(got, want) {
		t.Errorf("listed(10 queued, done, interrupted, failed, running; 4) = %v, want %v", got, want)
	}
}

// TestTooBigRunsSayWhy: a run that a worker handed back as too big for its
// --max-memory (runs.TooBigError) waits for a worker with more memory, not
// for any worker: its page and its experiment's page say so (they said
// "start one" as for any queued run, and the worker it suggested would
// have handed it back again had it no more memory).
func TestTooBigRunsSayWhy(t *testing.T) {
	st := openStore(t, t.TempDir()+"/runs.db")
	ctx := context.Background()
	list := submitQueued(t, st, "big", 3)
	claim(t, st, list[0].ID)
	if _, err := st.FinishRun(ctx, list[0].ID, fixOwner, store.Ending{Status: store.StatusInterrupted, Untrained: true,
		Error: runs.TooBigPrefix + "estimated training memory 3 GiB exceeds this worker's --max-memory 1 GiB"}); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, st, Options{})
	mustContain(t, "too-big run's page", get(t, s, "/r/"+strconv.FormatInt(list[0].ID, 10)).body,
		"waiting for a worker with more memory", "exceeds this worker&#39;s --max-memory 1 GiB")
	if body := get(t, s, "/r/"+strconv.FormatInt(list[1].ID, 10)).body; strings.Contains(body, "more memory") {
		t.Errorf("a queued run's page speaks of memory:\n%s", shortBody(body))
	}
	mustContain(t, "experiment page", get(t, s, "/x/big").body, "3 runs wait for a worker",
		"One of them was handed back by a worker without the memory for it: only a worker with a larger --max-memory takes it")
	// When every waiting run is too big, the page does not say "start
	// one" as for any worker.
	for _, r := range list[1:] {
		claim(t, st, r.ID)
		if _, err := st.FinishRun(ctx, r.ID, fixOwner, store.Ending{Status: store.StatusInterrupted, Untrained: true,
			Error: runs.TooBigPrefix + "estimated training memory 3 GiB exceeds this worker's --max-memory 1 GiB"}); err != nil {
			t.Fatal(err)
		}
	}
	body := get(t, s, "/x/big").body
	mustContain(t, "experiment page, every run too big", body, "3 runs wait for a worker with more memory: the workers that claimed them had too little")
	if strings.Contains(body, "Start one") {
		t.Errorf("every waiting run is too big, and the page says start any worker:\n%s", shortBody(body))
	}
}

// TestWaitingNoteFollowsBusyWorkers: the note of a page whose runs wait
// names the workers busy with other experiments; its live version changes
// when they do, so the note is refreshed (it changed only with the page's
// own runs, and went on naming a worker that had finished long ago). A
// page's version is the one its live API answers, and the curves page,
// which says nothing of workers, keeps its own.
func TestWaitingNoteFollowsBusyWorkers(t *testing.T) {
	st := openStore(t, t.TempDir()+"/runs.db")
	ctx := context.Background()
	waits := submitQueued(t, st, "waits", 2)
	other := submitQueued(t, st, "other", 2)
	s := newServer(t, st, Options{})
	pageV := func(u string) string {
		t.Helper()
		m := regexp.MustCompile(`data-live="([^"]*)" data-live-v="([^"]*)"`).FindStringSubmatch(get(t, s, u).body)
		if m == nil {
			t.Fatalf("%s has no live version", u)
		}
		return html.UnescapeString(m[1]) + " " + m[2]
	}
	runPage := "/r/" + strconv.FormatInt(waits[0].ID, 10)
	xq, rq := "others=1&x=waits", "others=1&run="+strconv.FormatInt(waits[0].ID, 10)
	check := func(when string) (x, r string) {
		t.Helper()
		x, r = live(t, s, xq).V, live(t, s, rq).V
		if got := pageV("/x/waits"); got != "/api/live?"+xq+" "+x {
			t.Errorf("%s: experiment page %q, its live API %q", when, got, x)
		}
		if got := pageV(runPage); got != "/api/live?"+rq+" "+r {
			t.Errorf("%s: run page %q, its live API %q", when, got, r)
		}
		if got, want := pageV("/x/waits/curves"), "/api/live?x=waits "+live(t, s, "x=waits").V; got != want {
			t.Errorf("%s: curves page %q, its live API %q", when, got, want)
		}
		return x, r
	}
	x0, r0 := check("nothing trains")
	// A worker starts on the other experiment: the waiting pages' notes
	// now name it.
	worker := store.Owner{Host: "elsewhere", PID: os.Getpid()}
	if res, err := st.Claim(ctx, other[0].ID, worker, 0); err != nil || !res.Claimed {
		t.Fatalf("claim: %+v %v", res, err)
	}
	x1, r1 := check("a worker busy elsewhere")
	if x1 == x0 || r1 == r0 {
		t.Errorf("the live versions of waiting pages did not change when a worker started elsewhere: %s %s, %s %s", x0, x1, r0, r1)
	}
	mustContain(t, "run page", get(t, s, runPage).body, "elsewhere:")
	// A second run of the same worker changes nothing that the note says.
	if res, err := st.Claim(ctx, other[1].ID, worker, 0); err != nil || !res.Claimed {
		t.Fatalf("claim: %+v %v", res, err)
	}
	if x2, r2 := check("the same worker, two runs"); x2 != x1 || r2 != r1 {
		t.Errorf("a second run of the same busy worker changed the waiting pages' versions")
	}
}

// TestLiveSeesAnotherWorkerTakeOver: a run handed back untrained (its
// attempt given back) and claimed by another worker is back at its status
// and attempt; the live version still changes, so the page names the new
// worker (it showed the first one's host and start until a step was
// logged).
func TestLiveSeesAnotherWorkerTakeOver(t *testing.T) {
	st := openStore(t, t.TempDir()+"/runs.db")
	ctx := context.Background()
	list := submitQueued(t, st, "x", 1)
	s := newServer(t, st, Options{})
	q := "others=1&run=" + strconv.FormatInt(list[0].ID, 10)
	small, big := store.Owner{Host: "small", PID: os.Getpid()}, store.Owner{Host: "big", PID: os.Getpid()}
	if res, err := st.Claim(ctx, list[0].ID, small, 0); err != nil || !res.Claimed {
		t.Fatalf("claim: %+v %v", res, err)
	}
	before := live(t, s, q).V
	if _, err := st.FinishRun(ctx, list[0].ID, small, store.Ending{Status: store.StatusInterrupted, Untrained: true, Error: runs.TooBigPrefix + "x"}); err != nil {
		t.Fatal(err)
	}
	if res, err := st.Claim(ctx, list[0].ID, big, 0); err != nil || !res.Claimed || res.Run.Attempt != 1 {
		t.Fatalf("claim: %+v %v", res, err)
	}
	if after := live(t, s, q).V; after == before {
		t.Errorf("the live version of a run taken by another worker at the same attempt did not change (%s)", after)
	}
}
