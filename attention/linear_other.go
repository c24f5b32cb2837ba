//go:build !amd64 || purego

package attention

// linearAVX512 and linearAVX2 are false off amd64: the Go loops run.
var linearAVX512, linearAVX2 = false, false

func eluSelect(y, d, x []float32) int                                   { return 0 }
func eluSelectSum(y, z, x []float32) int                                { return 0 }
func eluGradSIMD(dst, g, add, fx []float32) int                         { return 0 }
func qGradSIMD(g, o, fq, dz, df, z, dq, gq []float32, inv float32) bool { return false }
func dsRowSIMD(s, p []float32, d float32) int                           { return 0 }
func softmaxBwdSIMD(ds, g, p []float32) bool                            { return false }
func softmaxFwdSIMD(x []float32) bool                                   { return false }
