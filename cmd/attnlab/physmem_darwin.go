package main

import "golang.org/x/sys/unix"

// physicalMemory returns the machine's memory in bytes (0: unknown).
func physicalMemory() float64 {
	n, err := unix.SysctlUint64("hw.memsize")
	if err != nil {
		return 0
	}
	return float64(n)
}
