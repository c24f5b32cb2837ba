//go:build amd64 && !purego

package tensor

import "golang.org/x/sys/cpu"

//go:generate go run vmath_asmgen.go

// The slice kernels' implementations, best first; vmathUse is the one in
// use (tests switch it to run every one).
const (
	vmathGo vmathImpl = iota
	vmathAVX2
	vmathAVX512
)

var vmathUse = vmathGo

func init() {
	switch {
	case cpu.X86.HasAVX512F:
		vmathUse = vmathAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		vmathUse = vmathAVX2
	}
}

// vmathAvailable lists the implementations this CPU runs.
func vmathAvailable() []vmathImpl {
	l := []vmathImpl{vmathGo}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		l = append(l, vmathAVX2)
	}
	if cpu.X86.HasAVX512F {
		l = append(l, vmathAVX512)
	}
	return l
}

func (v vmathImpl) String() string { return [...]string{"go", "avx2", "avx512"}[v] }

// The dispatchers take slices already checked by the exported functions
// (len(x) > 0, outputs at least as long).

func vexp(dst, x []float32) {
	switch vmathUse {
	case vmathAVX512:
		vexp512(&dst[0], &x[0], len(x))
	case vmathAVX2:
		vexp256(&dst[0], &x[0], len(x))
	default:
		vexpGo(dst, x)
	}
}

func vtanh(dst, x []float32) {
	switch vmathUse {
	case vmathAVX512:
		vtanh512(&dst[0], &x[0], len(x))
	case vmathAVX2:
		vtanh256(&dst[0], &x[0], len(x))
	default:
		vtanhGo(dst, x)
	}
}

func vsigmoid(dst, x []float32) {
	switch vmathUse {
	case vmathAVX512:
		vsigmoid512(&dst[0], &x[0], len(x))
	case vmathAVX2:
		vsigmoid256(&dst[0], &x[0], len(x))
	default:
		vsigmoidGo(dst, x)
	}
}

func vgelu(y, t, x []float32) {
	var tp *float32
	if t != nil {
		tp = &t[0]
	}
	switch vmathUse {
	case vmathAVX512:
		vgelu512(&y[0], tp, &x[0], len(x))
	case vmathAVX2:
		vgelu256(&y[0], tp, &x[0], len(x))
	default:
		vgeluGo(y, t, x)
	}
}

func vgeluGrad(gx, gy, x, t []float32) {
	switch vmathUse {
	case vmathAVX512:
		vgeluGrad512(&gx[0], &gy[0], &x[0], &t[0], len(x))
	case vmathAVX2:
		vgeluGrad256(&gx[0], &gy[0], &x[0], &t[0], len(x))
	default:
		vgeluGradGo(gx, gy, x, t)
	}
}

func vgeluGradSet(gx, gy, x, t []float32) {
	switch vmathUse {
	case vmathAVX512:
		vgeluGradSet512(&gx[0], &gy[0], &x[0], &t[0], len(x))
	case vmathAVX2:
		vgeluGradSet256(&gx[0], &gy[0], &x[0], &t[0], len(x))
	default:
		vgeluGradSetGo(gx, gy, x, t)
	}
}

func vexpShift(dst, x []float32, shift float32) float64 {
	switch vmathUse {
	case vmathAVX512:
		return vexpShift512(&dst[0], &x[0], len(x), shift)
	case vmathAVX2:
		return vexpShift256(&dst[0], &x[0], len(x), shift)
	}
	return vexpShiftGo(dst, x, shift)
}

func vmax(x []float32) float32 {
	switch vmathUse {
	case vmathAVX512:
		return vmax512(&x[0], len(x))
	case vmathAVX2:
		return vmax256(&x[0], len(x))
	}
	return vmaxGo(x)
}

func vscale(x []float32, s float32) {
	switch vmathUse {
	case vmathAVX512:
		vscale512(&x[0], len(x), s)
	case vmathAVX2:
		vscale256(&x[0], len(x), s)
	default:
		vscaleGo(x, s)
	}
}

func vaddTanhDot(q, k, v []float32) float32 {
	switch vmathUse {
	case vmathAVX512:
		return vaddTanhDot512(&q[0], &k[0], &v[0], len(q))
	case vmathAVX2:
		return vaddTanhDot256(&q[0], &k[0], &v[0], len(q))
	}
	return vaddTanhDotGo(q, k, v)
}

func vaddTanhDotGrad(q, k, v []float32, g float32, dq, dk, dv []float32) {
	var dkp *float32
	if dk != nil {
		dkp = &dk[0]
	}
	switch vmathUse {
	case vmathAVX512:
		vaddTanhDotGrad512(&q[0], &k[0], &v[0], len(q), g, &dq[0], dkp, &dv[0])
	case vmathAVX2:
		vaddTanhDotGrad256(&q[0], &k[0], &v[0], len(q), g, &dq[0], dkp, &dv[0])
	default:
		vaddTanhDotGradGo(q, k, v, g, dq, dk, dv)
	}
}

func vlstmCell(row, x, c, th, h, out []float32) {
	switch vmathUse {
	case vmathAVX512:
		vlstmCell512(&row[0], &x[0], &c[0], &th[0], &h[0], &out[0], len(c))
	case vmathAVX2:
		vlstmCell256(&row[0], &x[0], &c[0], &th[0], &h[0], &out[0], len(c))
	default:
		vlstmCellGo(row, x, c, th, h, out)
	}
}

func vlstmCellGrad(row, drow, th, cp, gout, dh, dc []float32) {
	switch vmathUse {
	case vmathAVX512:
		vlstmCellGrad512(&row[0], &drow[0], &th[0], &cp[0], &gout[0], &dh[0], &dc[0], len(th))
	case vmathAVX2:
		vlstmCellGrad256(&row[0], &drow[0], &th[0], &cp[0], &gout[0], &dh[0], &dc[0], len(th))
	default:
		vlstmCellGradGo(row, drow, th, cp, gout, dh, dc)
	}
}
