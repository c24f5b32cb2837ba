package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/experiments"
)

// A Go program under a limit on its address space (ulimit -v, RLIMIT_AS)
// or its data segment (ulimit -d, RLIMIT_DATA) ends with the runtime's
// fatal "out of memory" and a stack trace when the heap cannot grow, long
// before its memory in use reaches the limit: the runtime reserves over a
// gigabyte of address space it never touches, glibc reserves 64 MiB per
// thread that allocates (SQLite's), and freed heap pages keep their
// addresses. attnlab cannot catch that error. Under such a limit it
// therefore makes the most of the room: glibc gets at most two arenas,
// the collector works harder as the heap nears what the limit leaves
// (the Go runtime's soft memory limit, when the room is large enough for
// that to help), run trains at once only as many runs as the room holds
// (headroom times each estimate), and it says, before training, when the
// largest run still to train may need more than that room. It refuses
// (addressCheck, exit 2, whatever --quiet says) only a run to train (not
// one stored done: run then prints its table) whose estimate is above all
// the limit leaves, and only notes one that may need
// more than the room: the room is measured, not known, and a cgroup limit
// (--max-memory's default follows it) is the sound way to bound a process.

// The room a limit leaves is the limit less what the process uses when it
// starts (VmSize for -v, VmData for -d) less an allowance for what comes
// without the heap: more thread stacks (8 MiB each by default) and glibc's
// arenas, reserved address space for -v, only their writable pages for -d.
// (Measured: testdata/tiny.yaml's run, heap included, grows the address
// space by 31 MiB from main's start to its peak.)
const (
	allowanceAS   = 96 << 20
	allowanceData = 64 << 20
)

// minSoftLimit is the least room made the Go runtime's soft memory limit:
// below it the collector would run nearly all the time for little gain
// (measured: a small run under ulimit -d 450000, a room of 67 MiB, ran 759
// collections instead of 11 and took 2.7 times as long).
const minSoftLimit = 256 << 20

// addressLimit names the address-space or data-segment limit the process
// runs under ("": none), and addressRoom is what it leaves for the heap
// (at most 0: nothing beyond the allowance).
// addressFree is what the limit leaves beyond what the process used
// when it started, without the allowance: no run whose live memory is
// larger can train under it.
var (
	addressLimit string
	addressRoom  int64
	addressFree  int64
)

// boundAddressSpace sets addressLimit and addressRoom from the process's
// limits and, under one that leaves at least minSoftLimit, makes the room
// the Go runtime's soft memory limit. main calls it first; glibc's arenas
// were capped as the program loaded (rlimit_cgo.go, Linux). The limits
// are read on the systems listed in rlimit_unix.go and count only where
// /proc/self/status has the Vm lines they are compared with (Linux);
// elsewhere (Windows, OpenBSD, Solaris) none are read.
func boundAddressSpace() {
	for _, l := range memoryLimits() {
		used, ok := procStatusBytes(l.status)
		if !ok {
			continue
		}
		room := int64(l.cur) - used - l.allowance
		if addressLimit == "" || room < addressRoom {
			addressRoom, addressFree = room, int64(l.cur)-used
			addressLimit = fmt.Sprintf("ulimit %s %d (%s)", l.flag, l.cur>>10, experiments.FormatBytes(int64(l.cur)))
		}
	}
	if addressLimit != "" && addressRoom >= minSoftLimit {
		debug.SetMemoryLimit(min(debug.SetMemoryLimit(-1), addressRoom))
	}
}

// memoryLimit is a limit the process runs under (rlimit_unix.go).
type memoryLimit struct {
	cur       uint64 // bytes
	flag      string // ulimit's flag
	status    string // the /proc/self/status line that counts against it
	allowance int64
}

// procStatusBytes reads a "Vm…:  N kB" line of /proc/self/status.
func procStatusBytes(key string) (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return n << 10, true
				}
			}
		}
	}
	return 0, false
}

// headroom is how many times its estimate a run is taken to map under a
// limit: the estimate models live memory, and Go's heap grows to about
// twice that between collections, in mappings larger than what it uses
// (measured under ulimit -d: a run estimated at 105 MiB died where the
// room was 117 and 215 MiB, and trained where it was 329 MiB).
const headroom = 3

// addressNote is a note for a plan whose largest run is estimated at est
// under an address-space or data-segment limit that leaves less than
// headroom times as much room: "" otherwise.
func addressNote(est experiments.MemoryEstimate) string {
	if addressLimit == "" || est.Bytes <= addressRoom/headroom {
		return ""
	}
	room := "leaves about " + experiments.FormatBytes(addressRoom) + " for this process's data"
	if addressRoom <= 0 {
		room = "leaves little or no room beyond what a Go program reserves when it starts"
	}
	return fmt.Sprintf("attnlab: note: %s %s, and the largest run is estimated at %s, its heap mapping up to about %d times that: it may end in Go's fatal \"out of memory\" (a Go program reserves far more address space than it uses; raise the limit, or bound memory with a cgroup)",
		addressLimit, room, experiments.FormatBytes(est.Bytes), headroom)
}

// addressCheck refuses a plan whose largest run still to train, estimated
// at est, is larger than all an address-space or data-segment limit
// leaves (beyond what the process used when it started, its allowance not
// deducted): it would end in Go's fatal "out of memory", which attnlab
// cannot catch, once training began. The estimate is taken as it is, with
// no margin: a reviewer measured runs that trained with 1.24 times their
// estimate free and others that died with 2.16 times, so any margin that
// refused the second refused the first, and a false refusal is worse than
// the note (addressNote), which covers the band between. One line naming
// the experiment file, exit 2; nil otherwise.
func addressCheck(file string, est experiments.MemoryEstimate) error {
	if addressLimit == "" || est.Bytes <= 0 || est.Bytes <= addressFree {
		return nil
	}
	key := "model"
	if 2*est.Data > est.Bytes {
		key = "task"
	}
	return experiments.Errors{{File: file, Key: key, Msg: fmt.Sprintf("the largest run is estimated at %s, above the %s that %s leaves beyond what this process used when it started: it would end in Go's fatal \"out of memory\"; raise the limit, or use a smaller model or dataset",
		experiments.FormatBytes(est.Bytes), experiments.FormatBytes(max(addressFree, 0)), addressLimit)}}
}

// addressCap is what an address-space or data-segment limit leaves for
// the live memory of the runs that train at once: the room over headroom,
// at least 1 byte, which allows one run (0: no such limit).
func addressCap() int64 {
	if addressLimit == "" {
		return 0
	}
	return max(addressRoom/headroom, 1) // no room: one run at a time
}
