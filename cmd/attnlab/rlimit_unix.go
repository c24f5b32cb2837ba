//go:build linux || darwin || freebsd || netbsd || dragonfly

package main

import "golang.org/x/sys/unix"

// memoryLimits returns the address-space (ulimit -v) and data-segment
// (ulimit -d) limits the process runs under, those that are set.
func memoryLimits() []memoryLimit {
	var ls []memoryLimit
	for _, l := range []memoryLimit{{0, "-v", "VmSize:", allowanceAS}, {0, "-d", "VmData:", allowanceData}} {
		res := unix.RLIMIT_AS
		if l.flag == "-d" {
			res = unix.RLIMIT_DATA
		}
		var r unix.Rlimit
		if unix.Getrlimit(res, &r) != nil || r.Cur == unix.RLIM_INFINITY || r.Cur > 1<<62 {
			continue
		}
		l.cur = uint64(r.Cur)
		ls = append(ls, l)
	}
	return ls
}
