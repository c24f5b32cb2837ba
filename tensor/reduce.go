package tensor

// axisSplit returns (outer, size, inner) for a reduction over axis.
func axisSplit(op string, shape []int, axis int) (int, int, int, int) {
	if axis < 0 {
		axis += len(shape)
	}
	if axis < 0 || axis >= len(shape) {
		panic(errorf("tensor.%s: axis out of range for shape %v", op, shape))
	}
	outer := shapeSize(shape[:axis])
	inner := shapeSize(shape[axis+1:])
	return axis, outer, shape[axis], inner
}

func reducedShape(shape []int, axis int, keepdim bool) []int {
	out := make([]int, 0, len(shape))
	for i, d := range shape {
		if i == axis {
			if keepdim {
				out = append(out, 1)
			}
			continue
		}
		out = append(out, d)
	}
	return out
}

// Sum returns the sum over axis (negative counts from the end), keeping that
// axis with size 1 when keepdim is true.
func Sum(x *Tensor, axis int, keepdim bool) *Tensor {
	return sumScaled("Sum", x, axis, keepdim, false)
}

// Mean returns the mean over axis.
func Mean(x *Tensor, axis int, keepdim bool) *Tensor {
	return sumScaled("Mean", x, axis, keepdim, true)
}

func sumScaled(op string, x *Tensor, axis int, keepdim, mean bool) *Tensor {
	axis, outer, size, inner := axisSplit(op, x.shape, axis)
	out := result(op, reducedShape(x.shape, axis, keepdim), x)
	scale := float32(1)
	if mean && size > 0 {
		scale = 1 / float32(size)
	}
	for o := 0; o < outer; o++ {
		dst := out.Data[o*inner : (o+1)*inner]
		for s := 0; s < size; s++ {
			src := x.Data[(o*size+s)*inner:][:inner]
			for i, v := range src {
				dst[i] += v
			}
		}
		if scale != 1 {
			for i := range dst {
				dst[i] *= scale
			}
		}
	}
	if out.requiresGrad {
		out.backward = func() {
			gx := x.grad()
			for o := 0; o < outer; o++ {
				g := out.Grad[o*inner : (o+1)*inner]
				for s := 0; s < size; s++ {
					dst := gx[(o*size+s)*inner:][:inner]
					for i, v := range g {
						dst[i] += v * scale
					}
				}
			}
		}
	}
	return out
}

// SumAll returns the sum of all elements as a scalar (shape []). The sum is
// accumulated in float64.
func SumAll(x *Tensor) *Tensor { return sumAll("SumAll", x, false) }

// MeanAll returns the mean of all elements as a scalar.
func MeanAll(x *Tensor) *Tensor { return sumAll("MeanAll", x, true) }

func sumAll(op string, x *Tensor, mean bool) *Tensor {
	out := result(op, []int{}, x)
	var s float64
	for _, v := range x.Data {
		s += float64(v)
	}
	scale := float32(1)
	if mean && len(x.Data) > 0 {
		scale = 1 / float32(len(x.Data))
	}
	out.Data[0] = float32(s) * scale
	if out.requiresGrad {
		out.backward = func() {
			gx := x.grad()
			g := out.Grad[0] * scale
			for i := range gx {
				gx[i] += g
			}
		}
	}
	return out
}

// Max returns the maximum over axis. The gradient flows to the first
// position holding the maximum.
func Max(x *Tensor, axis int, keepdim bool) *Tensor {
	axis, outer, size, inner := axisSplit("Max", x.shape, axis)
	if size == 0 {
		panic(errorf("tensor.Max: empty axis in shape %v", x.shape))
	}
	out := resultFull("Max", reducedShape(x.shape, axis, keepdim), x)
	arg := make([]int32, outer*inner)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			best, bi := x.Data[o*size*inner+i], 0
			for s := 1; s < size; s++ {
				if v := x.Data[(o*size+s)*inner+i]; v > best {
					best, bi = v, s
				}
			}
			out.Data[o*inner+i] = best
			arg[o*inner+i] = int32(bi)
		}
	}
	if out.requiresGrad {
		out.backward = func() {
			gx := x.grad()
			for o := 0; o < outer; o++ {
				for i := 0; i < inner; i++ {
					gx[(o*size+int(arg[o*inner+i]))*inner+i] += out.Grad[o*inner+i]
				}
			}
		}
	}
	return out
}
