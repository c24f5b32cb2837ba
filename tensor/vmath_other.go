//go:build !amd64 || purego

package tensor

// Without the amd64 assembly the slice kernels are the pure-Go loops.

const vmathGo vmathImpl = 0

var vmathUse = vmathGo

func vmathAvailable() []vmathImpl { return []vmathImpl{vmathGo} }

func (v vmathImpl) String() string { return "go" }

func vexp(dst, x []float32)                         { vexpGo(dst, x) }
func vtanh(dst, x []float32)                        { vtanhGo(dst, x) }
func vsigmoid(dst, x []float32)                     { vsigmoidGo(dst, x) }
func vgelu(y, t, x []float32)                       { vgeluGo(y, t, x) }
func vgeluGrad(gx, gy, x, t []float32)              { vgeluGradGo(gx, gy, x, t) }
func vgeluGradSet(gx, gy, x, t []float32)           { vgeluGradSetGo(gx, gy, x, t) }
func vexpShift(dst, x []float32, s float32) float64 { return vexpShiftGo(dst, x, s) }
func vmax(x []float32) float32                      { return vmaxGo(x) }
func vscale(x []float32, s float32)                 { vscaleGo(x, s) }
func vaddTanhDot(q, k, v []float32) float32         { return vaddTanhDotGo(q, k, v) }

func vaddTanhDotGrad(q, k, v []float32, g float32, dq, dk, dv []float32) {
	vaddTanhDotGradGo(q, k, v, g, dq, dk, dv)
}

func vlstmCell(row, x, c, th, h, out []float32) { vlstmCellGo(row, x, c, th, h, out) }

func vlstmCellGrad(row, drow, th, cp, gout, dh, dc []float32) {
	vlstmCellGradGo(row, drow, th, cp, gout, dh, dc)
}
