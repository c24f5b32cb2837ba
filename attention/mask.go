package attention

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/tensor"
)

// negInf is the score of a pair that may not be attended: its exponential
// is exactly 0.
var negInf = float32(math.Inf(-1))

// maskView reads a keep-mask broadcast to [B,Tq,Tk] without materialising
// it: element (b,i,j) is data[b*sb + i*si + j*sj] (a stride is 0 along a
// broadcast dimension); nil data keeps everything. It also applies the
// rules of the site, by position: query i of batch row b is at position
// p = i + off[b] (off nil: 0; a decoder step over a key/value cache that
// starts at position 0), key j at position j. The causal rule keeps j ≤ p;
// a band (sliding-window attention) keeps p − left ≤ j ≤ p + right.
type maskView struct {
	t           *tensor.Tensor // the mask seen as 3-D [mb,mq,mk], or nil
	data        []float32
	sb, si, sj  int
	tk          int
	causal      bool
	band        bool
	left, right int
	off         []int // [B] query positions of query 0; nil: 0
	// prefix[r] (a mask constant along the queries, contiguous along the
	// keys: a key-padding mask) is how many leading keys row r of the mask
	// keeps when it drops every key after them, or −1 when the row is not
	// of that form; nil for other masks. maskRow uses it to mask a row
	// without reading the mask element by element.
	prefix []int
	// finite: the caller knows every key and value row of the call to be
	// finite (a prepared form checks its keys and values once, where a
	// decoder would scan the dropped rows at every step): cleanRows has
	// nothing to find and scans nothing.
	finite bool
}

// newMaskView checks that mask (nil, or rank ≤ 3) broadcasts to [B,Tq,Tk]
// and returns a view of it; it panics otherwise (a programmer error).
func newMaskView(variant string, mask *tensor.Tensor, b, tq, tk int) maskView {
	if mask == nil {
		return maskView{tk: tk}
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
	v := maskView{t: t, data: mask.Data, tk: tk}
	if dims[2] != 1 {
		v.sj = 1
	}
	if dims[1] != 1 {
		v.si = dims[2]
	}
	if dims[0] != 1 {
		v.sb = dims[1] * dims[2]
	}
	if v.si == 0 && v.sj == 1 {
		v.prefix = make([]int, dims[0])
		for r := range v.prefix {
			v.prefix[r] = keptPrefix(v.data[r*v.sb : r*v.sb+tk])
		}
	}
	return v
}

// keptPrefix returns n when row keeps exactly its first n keys (nonzero)
// and drops the rest (zero), or −1 otherwise.
func keptPrefix(row []float32) int {
	n := 0
	for n < len(row) && row[n] != 0 {
		n++
	}
	for _, x := range row[n:] {
		if x != 0 {
			return -1
		}
	}
	return n
}

// pos returns the position of query (b,i).
func (m *maskView) pos(b, i int) int {
	if m.off == nil {
		return i
	}
	return i + m.off[b]
}

// hi returns the end (exclusive) of the keys query (b,i) may see under the
// causal rule and the band: Tk when neither applies.
func (m *maskView) hi(b, i int) int {
	h := m.tk
	if m.causal {
		h = min(h, m.pos(b, i)+1)
	}
	if m.band {
		h = min(h, m.pos(b, i)+m.right+1)
	}
	return max(0, h)
}

// lo returns the first key query (b,i) may see under the band: 0 without
// one.
func (m *maskView) lo(b, i int) int {
	if !m.band {
		return 0
	}
	return min(m.tk, max(0, m.pos(b, i)-m.left))
}

// keep reports whether query (b,i) may attend to key j.
func (m *maskView) keep(b, i, j int) bool {
	if j >= m.hi(b, i) || j < m.lo(b, i) {
		return false
	}
	return m.data == nil || m.data[b*m.sb+i*m.si+j*m.sj] != 0
}

// row returns the mask row of query (b,i) and its stride along the keys;
// nil when there is no mask tensor (the causal rule is hi's).
func (m *maskView) row(b, i int) ([]float32, int) {
	if m.data == nil {
		return nil, 0
	}
	return m.data[b*m.sb+i*m.si:], m.sj
}

// rowKeepsAll reports whether the same keys are kept for every query of a
// batch row (no causal rule or band, a mask constant along the queries).
func (m *maskView) rowKeepsAll() bool { return !m.causal && !m.band && m.si == 0 }

// live reports whether any pair of queries i0…i1−1 and keys j0…j1−1 of
// batch row b is kept.
func (m *maskView) live(b, i0, i1, j0, j1 int) bool {
	if m.si == 0 {
		// One mask row for every query: the keys seen lie between the
		// first query's lo and the last query's hi (both grow with i).
		lo, hi := max(j0, m.lo(b, i0)), min(j1, m.hi(b, i1-1))
		if m.data == nil {
			return hi > lo
		}
		row, sj := m.row(b, i0)
		for j := lo; j < hi; j++ {
			if row[j*sj] != 0 {
				return true
			}
		}
		return false
	}
	for i := i0; i < i1; i++ {
		row, sj := m.row(b, i)
		for j := max(j0, m.lo(b, i)); j < min(j1, m.hi(b, i)); j++ {
			if row[j*sj] != 0 {
				return true
			}
		}
	}
	return false
}

// maskRow sets the scores of a row of keys j0…j0+len(x)−1 that query (b,i)
// may not see to −Inf, whose exponential is exactly 0.
func (m *maskView) maskRow(x []float32, b, i, j0 int) {
	lo, hi := m.lo(b, i)-j0, m.hi(b, i)-j0
	for j := range x[:max(0, min(len(x), lo))] {
		x[j] = negInf
	}
	for j := max(0, hi); j < len(x); j++ {
		x[j] = negInf
	}
	if m.data == nil {
		return
	}
	if m.prefix != nil {
		if n := m.prefix[min(b, len(m.prefix)-1)]; n >= 0 {
			// A key-padding row: the keys from n on are dropped.
			for j := max(0, lo, n-j0); j < min(len(x), hi); j++ {
				x[j] = negInf
			}
			return
		}
	}
	row, sj := m.row(b, i)
	for j := max(0, lo); j < min(len(x), hi); j++ {
		if row[(j0+j)*sj] == 0 {
			x[j] = negInf
		}
	}
}

// cleanRows returns the rows x (n rows ld apart, d columns) of the keys or
// values of batch row b, whose queries are 0…nq−1, for a product that
// gives them weight 0 where the mask drops them (dq = dS·K, C = P·V,
// dP = dC·Vᵀ), and their row stride: x itself, or, when a row dropped for
// every query holds a NaN or an infinity, a copy with the dropped rows
// zeroed. The weight is 0 there, but 0·NaN is NaN: a dropped key or value
// would carry its NaN into rows that never read it. Only the dropped rows
// are scanned, so finite inputs cost no copy and no pass: the keys a key
// mask (one constant along the queries) drops, and those outside the
// keys the causal rule and the band leave the queries (before lo of
// query 0, from hi of query nq−1 on). A mask that varies by query is not
// read here: which keys it drops for every query is known only from all
// of it (see doc.go).
func (m *maskView) cleanRows(x []float32, ld, d, n, b, nq int) ([]float32, int) {
	return m.cleanRowsIn(x, ld, d, n, b, nq, 0, n)
}

// cleanRowsIn is cleanRows for a product that reads only rows from…to−1
// (the flash tile loop: the tiles that meet the keys the band and the
// causal rule leave): the rows outside them are not scanned, so that a
// decoding step over a long cache with a band does not scan the keys
// before the band.
func (m *maskView) cleanRowsIn(x []float32, ld, d, n, b, nq, from, to int) ([]float32, int) {
	if m.finite || nq <= 0 || n <= 0 {
		return x, ld
	}
	lo, hi := min(n, m.lo(b, 0)), min(n, m.hi(b, nq-1))
	var row []float32
	sj := 0
	if m.data != nil && m.si == 0 {
		row, sj = m.row(b, 0)
	}
	dropped := func(j int) bool { return j < lo || j >= hi || row != nil && row[j*sj] == 0 }
	if lo == 0 && hi == n && row == nil {
		return x, ld // nothing dropped for every query
	}
	var c []float32
	for j := max(0, from); j < min(n, to); j++ {
		if !dropped(j) {
			if row == nil && j < hi {
				j = hi - 1 // only the rule's ends are dropped
			}
			continue
		}
		if !finiteRow(x[j*ld : j*ld+d]) {
			c = make([]float32, n*d)
			for r := 0; r < n; r++ {
				if !dropped(r) {
					copy(c[r*d:(r+1)*d], x[r*ld:r*ld+d])
				}
			}
			return c, d
		}
	}
	return x, ld
}

// cleanQueries returns the queries x (n rows ld apart, d columns) of
// batch row b for the product dk = scale·dSᵀ·Q, and their row stride: x
// itself, or, when a query with nothing to attend (!alive) holds a NaN or
// an infinity, a copy with those rows zeroed: dS is 0 on such a row, and
// 0·NaN would make every key's gradient NaN. Only the dead rows' queries
// are scanned; finding them reads the mask up to each row's first kept
// key (nothing without a mask, causal rule or band; one check per batch
// row for a key mask).
func (m *maskView) cleanQueries(x []float32, ld, d, n, b int) ([]float32, int) {
	if m.data == nil && !m.causal && !m.band {
		return x, ld
	}
	perRow := !m.rowKeepsAll()
	if !perRow && m.alive(b, 0) {
		return x, ld
	}
	for i := 0; i < n; i++ {
		if perRow && m.alive(b, i) || finiteRow(x[i*ld:i*ld+d]) {
			continue
		}
		c := make([]float32, n*d) // zeros: with one mask row, every row is dead
		for r := 0; perRow && r < n; r++ {
			if m.alive(b, r) {
				copy(c[r*d:(r+1)*d], x[r*ld:r*ld+d])
			}
		}
		return c, d
	}
	return x, ld
}

// finiteRow reports whether every element of x is finite.
func finiteRow(x []float32) bool {
	for _, v := range x {
		if v-v != 0 { // NaN or ±Inf
			return false
		}
	}
	return true
}

// alive reports whether query (b,i) may attend to any key.
func (m *maskView) alive(b, i int) bool { return m.live(b, i, i+1, 0, m.tk) }

// deadRows returns a [B,Tq,1] tensor holding 0 for query rows whose every
// key is masked and 1 elsewhere, or nil when no row is fully masked.
func (m *maskView) deadRows(b, tq int) *tensor.Tensor {
	if m.data == nil && !m.causal {
		return nil
	}
	var keep *tensor.Tensor
	for bb := 0; bb < b; bb++ {
		for i := 0; i < tq; i++ {
			if i > 0 && m.rowKeepsAll() { // the same row for every query
				if keep != nil {
					keep.Data[bb*tq+i] = keep.Data[bb*tq]
				}
				continue
			}
			if !m.alive(bb, i) {
				if keep == nil {
					keep = tensor.Full(1, b, tq, 1)
				}
				keep.Data[bb*tq+i] = 0
			}
		}
	}
	return keep
}

// checkInputs panics unless q [B,Tq,H·dq], k [B,Tk,H·dk] and v [B,Tk,H·dv]
// fit together and the sizes of d.
func checkInputs(variant string, q, k, v *tensor.Tensor, d Dims) (b, tq, tk int) {
	if q.Dims() != 3 || k.Dims() != 3 || v.Dims() != 3 {
		panic(fmt.Sprintf("attention %s: need q, k, v of rank 3, got %v, %v, %v", variant, q.Shape(), k.Shape(), v.Shape()))
	}
	b, tq, tk = q.Dim(0), q.Dim(1), k.Dim(1)
	h := d.heads()
	if k.Dim(0) != b || v.Dim(0) != b || v.Dim(1) != tk ||
		q.Dim(2) != h*d.Query || k.Dim(2) != h*d.Key || v.Dim(2) != h*d.Value {
		panic(fmt.Sprintf("attention %s: q %v, k %v, v %v do not fit sizes query %d, key %d, value %d (%d heads)",
			variant, q.Shape(), k.Shape(), v.Shape(), d.Query, d.Key, d.Value, h))
	}
	return b, tq, tk
}

// checkDims rejects non-positive sizes.
func checkDims(d Dims) error {
	if d.Query <= 0 || d.Key <= 0 || d.Value <= 0 || d.Heads < 0 {
		return fmt.Errorf("sizes must be positive, got query %d, key %d, value %d, heads %d", d.Query, d.Key, d.Value, d.Heads)
	}
	return nil
}

// errorf formats a construction error (New adds the variant's name).
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
