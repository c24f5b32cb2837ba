package attention

import (
	"fmt"

	"github.com/attnlab/attnlab/tensor"
)

// maskView reads a keep-mask broadcast to [B,Tq,Tk] without materialising
// it: element (b,i,j) is data[b*sb + i*si + j*sj] (a stride is 0 along a
// broadcast dimension). The zero value (nil data) keeps everything.
type maskView struct {
	t          *tensor.Tensor // the mask seen as 3-D [mb,mq,mk], or nil
	data       []float32
	sb, si, sj int
}

// newMaskView checks that mask (nil, or rank ≤ 3) broadcasts to [B,Tq,Tk]
// and returns a view of it; it panics otherwise (a programmer error).
func newMaskView(variant string, mask *tensor.Tensor, b, tq, tk int) maskView {
	if mask == nil {
		return maskView{}
	}
	s := mask.Shape()
	if len(s) > 3 {
		panic(fmt.Sprintf("attention %s: mask %v does not broadcast to [%d %d %d]", variant, s, b, tq, tk))
	}
	dims := [3]int{1, 1, 1}
	copy(dims[3-len(s):], s)
	want := [3]int{b, tq, tk}
	for i := range dims {
		if dims[i] != 1 && dims[i] != want[i] {
			panic(fmt.Sprintf("attention %s: mask %v does not broadcast to [%d %d %d]", variant, s, b, tq, tk))
		}
	}
	t := mask
	if len(s) != 3 {
		t = tensor.Reshape(mask.Detach(), dims[0], dims[1], dims[2])
	}
	v := maskView{t: t, data: mask.Data}
	if dims[2] != 1 {
		v.sj = 1
	}
	if dims[1] != 1 {
		v.si = dims[2]
	}
	if dims[0] != 1 {
		v.sb = dims[1] * dims[2]
	}
	return v
}

// keep reports whether query (b,i) may attend to key j.
func (m maskView) keep(b, i, j int) bool {
	return m.data == nil || m.data[b*m.sb+i*m.si+j*m.sj] != 0
}

// row returns the mask row of query (b,i) and its stride along the keys;
// nil when there is no mask.
func (m maskView) row(b, i int) ([]float32, int) {
	if m.data == nil {
		return nil, 0
	}
	return m.data[b*m.sb+i*m.si:], m.sj
}

// heads returns the mask as [mb,1,mq,mk], to broadcast over scores
// [B,H,Tq,Tk]; nil without a mask.
func (m maskView) heads() *tensor.Tensor {
	if m.t == nil {
		return nil
	}
	s := m.t.Shape()
	return tensor.Reshape(m.t.Detach(), s[0], 1, s[1], s[2])
}

// deadRows returns a [B,Tq,1] tensor holding 0 for query rows whose every
// key is masked and 1 elsewhere, or nil when no row is fully masked.
func (m maskView) deadRows(b, tq, tk int) *tensor.Tensor {
	if m.data == nil {
		return nil
	}
	var keep *tensor.Tensor
	for bb := 0; bb < b; bb++ {
		for i := 0; i < tq; i++ {
			if i > 0 && m.si == 0 { // the same row for every query
				if keep != nil {
					keep.Data[bb*tq+i] = keep.Data[bb*tq]
				}
				continue
			}
			row, sj := m.row(bb, i)
			alive := false
			for j := 0; j < tk; j++ {
				if row[j*sj] != 0 {
					alive = true
					break
				}
			}
			if !alive {
				if keep == nil {
					keep = tensor.Full(1, b, tq, 1)
				}
				keep.Data[bb*tq+i] = 0
			}
		}
	}
	return keep
}

// checkInputs panics unless q [B,Tq,dq], k [B,Tk,dk] and v [B,Tk,dv] fit
// together and the sizes of d.
func checkInputs(variant string, q, k, v *tensor.Tensor, d Dims) (b, tq, tk int) {
	if q.Dims() != 3 || k.Dims() != 3 || v.Dims() != 3 {
		panic(fmt.Sprintf("attention %s: need q, k, v of rank 3, got %v, %v, %v", variant, q.Shape(), k.Shape(), v.Shape()))
	}
	b, tq, tk = q.Dim(0), q.Dim(1), k.Dim(1)
	if k.Dim(0) != b || v.Dim(0) != b || v.Dim(1) != tk ||
		q.Dim(2) != d.Query || k.Dim(2) != d.Key || v.Dim(2) != d.Value {
		panic(fmt.Sprintf("attention %s: q %v, k %v, v %v do not fit sizes query %d, key %d, value %d",
			variant, q.Shape(), k.Shape(), v.Shape(), d.Query, d.Key, d.Value))
	}
	return b, tq, tk
}

// checkDims rejects non-positive sizes.
func checkDims(d Dims) error {
	if d.Query <= 0 || d.Key <= 0 || d.Value <= 0 {
		return fmt.Errorf("sizes must be positive, got query %d, key %d, value %d", d.Query, d.Key, d.Value)
	}
	return nil
}

// errorf formats a construction error (New adds the variant's name).
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
