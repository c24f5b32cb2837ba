package main

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLimitRoom: the room ulimit -v leaves is the limit less what the
// process has mapped and addressSpaceSlack; ulimit -d's is the limit less
// its data; the lower one is named; none without either limit, and a
// limit already reached still gives a small room (0 would be no limit).
func TestLimitRoom(t *testing.T) {
	const inf = unix.RLIM_INFINITY
	const gib = 1 << 30
	for _, tc := range []struct {
		name         string
		as, data     uint64
		size, dataSz int64
		room         int64
		what         string
		ok           bool
	}{
		{"none", inf, inf, 2 * gib, gib, 0, "", false},
		{"ulimit -v", 4 * gib, inf, gib + gib/2, gib / 4, 4*gib - gib - gib/2 - addressSpaceSlack, "ulimit -v", true},
		{"ulimit -d", inf, 3 * gib, 2 * gib, gib / 4, 3*gib - gib/4, "ulimit -d", true},
		{"both, -d lower", 8 * gib, 2 * gib, gib, gib / 2, 2*gib - gib/2, "ulimit -d", true},
		{"both, -v lower", 3 * gib, 8 * gib, gib, gib / 2, 3*gib - gib - addressSpaceSlack, "ulimit -v", true},
		{"reached", 2 * gib, inf, 2 * gib, gib, minRoom, "ulimit -v", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			room, what, ok := limitRoom(tc.as, tc.data, tc.size, tc.dataSz)
			if room != tc.room || what != tc.what || ok != tc.ok {
				t.Errorf("limitRoom = %d, %q, %v; want %d, %q, %v", room, what, ok, tc.room, tc.what, tc.ok)
			}
		})
	}
	if size, data := mappedMemory(); size <= 0 || data <= 0 || data > size {
		t.Errorf("mappedMemory() = %d, %d; want this process's VmSize and VmData", size, data)
	}
}

// TestPlanWithinUlimit: without --max-memory, a run that does not fit in
// the room a ulimit leaves is refused at plan, naming the ulimit (it ended
// in the Go runtime's "fatal error: out of memory" and a stack trace).
func TestPlanWithinUlimit(t *testing.T) {
	old := processMemoryLimit
	t.Cleanup(func() { processMemoryLimit = old })
	processMemoryLimit = func() (int64, string, bool) { return 8 << 20, "ulimit -v", true }
	exp := writeIn(t, t.TempDir(), "e.yaml", "name: e\n"+
		"task: {name: reverse, train_size: 50, valid_size: 5, test_size: 5}\n"+
		"model: {name: seq2seq-rnn, embed: 32, hidden: 512, encoder: {name: lstm, hidden: 512}}\n"+
		"train: {steps: 1, batch_size: 4}\n")
	r := attnlab(t, "plan", exp)
	if want := exp + ": model: run 1: estimated training memory "; r.code != exitUsage || !strings.HasPrefix(r.stderr, want) ||
		!strings.Contains(r.stderr, " exceeds --max-memory 6.40 MiB (80% of the memory ulimit -v leaves this process, 8.00 MiB): ") {
		t.Fatalf("plan under ulimit -v: %v\nwant exit %d and one line naming the ulimit", r, exitUsage)
	}
	wantOK(t, attnlab(t, "plan", exp, "--max-memory", "8GiB"))
}
