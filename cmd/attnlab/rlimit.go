package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

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
// (the Go runtime's soft memory limit), and run says, before training,
// when a run is estimated to need more than that room. It does not refuse
// such a run: the room is measured, not known, and a cgroup limit
// (--max-memory's default follows it) is the sound way to bound a process.

// threadAllowance is the address space set aside beyond what the process
// uses when it starts: thread stacks (8 MiB each by default) and glibc's
// two arenas as the process's threads appear.
const threadAllowance = 256 << 20

// addressRoom is what an address-space or data-segment limit leaves for
// the heap (0: no such limit), and addressLimit names the limit.
var (
	addressRoom  int64
	addressLimit string
)

// boundAddressSpace sets addressRoom and addressLimit from the process's
// limits and, under one, makes the room the Go runtime's soft memory
// limit. main calls it first; glibc's arenas were capped as the program
// loaded (rlimit_cgo.go).
func boundAddressSpace() {
	for _, l := range []struct {
		res    int
		flag   string
		status string // the /proc/self/status line that counts against it
	}{{unix.RLIMIT_AS, "-v", "VmSize:"}, {unix.RLIMIT_DATA, "-d", "VmData:"}} {
		var r unix.Rlimit
		if unix.Getrlimit(l.res, &r) != nil || r.Cur == unix.RLIM_INFINITY || r.Cur > 1<<62 {
			continue
		}
		used, ok := procStatusBytes(l.status)
		if !ok {
			continue
		}
		room := max(int64(r.Cur)-used-threadAllowance, 1<<20)
		if addressRoom == 0 || room < addressRoom {
			addressRoom = room
			addressLimit = fmt.Sprintf("ulimit %s %d (%s)", l.flag, r.Cur>>10, experiments.FormatBytes(int64(r.Cur)))
		}
	}
	if addressRoom > 0 {
		debug.SetMemoryLimit(min(debug.SetMemoryLimit(-1), addressRoom))
	}
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

// addressNote is a note for a plan whose largest run is estimated at est
// under an address-space limit that leaves less room: "" otherwise.
func addressNote(est experiments.MemoryEstimate) string {
	if addressRoom <= 0 || est.Bytes <= addressRoom {
		return ""
	}
	return fmt.Sprintf("attnlab: note: %s leaves about %s for this process's data, and the largest run is estimated at %s: it may end in Go's fatal \"out of memory\" (a Go program reserves far more address space than it uses; raise the limit, or bound memory with a cgroup)",
		addressLimit, experiments.FormatBytes(addressRoom), experiments.FormatBytes(est.Bytes))
}
