//go:build linux || darwin || freebsd || netbsd || dragonfly

package main

import "golang.org/x/sys/unix"

// memoryLimits returns the address-space (ulimit -v) and data-segment
// (ulimit -d) limits the process runs under, those that are set.
func memoryLimits() []memoryLimit {
	var ls []memoryLimit
	for _, e := range []struct {
		res int
		l   memoryLimit
	}{{unix.RLIMIT_AS, memoryLimit{0, "-v", "VmSize:", allowanceAS}}, {unix.RLIMIT_DATA, memoryLimit{0, "-d", "VmData:", allowanceData}}} {
		var r unix.Rlimit
		if unix.Getrlimit(e.res, &r) != nil || r.Cur == unix.RLIM_INFINITY || r.Cur > 1<<62 {
			continue
		}
		e.l.cur = uint64(r.Cur)
		ls = append(ls, e.l)
	}
	return ls
}
