//go:build !linux

package tensor

import "testing"

func cpuLoop(b *testing.B, f func()) float64 {
	for b.Loop() {
		f()
	}
	return b.Elapsed().Seconds() / float64(max(b.N, 1))
}
