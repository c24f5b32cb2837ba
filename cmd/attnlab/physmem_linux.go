package main

import "golang.org/x/sys/unix"

// physicalMemory returns the machine's memory in bytes (0: unknown).
func physicalMemory() float64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	return float64(si.Totalram) * float64(si.Unit)
}
