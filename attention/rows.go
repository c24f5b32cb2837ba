package attention

import "github.com/attnlab/attnlab/layers"

// rowLayout says where the queries and keys of each batch row are among
// the rows of the operands of dotAttentionRows: batch row bb's queries are
// rows qoff[bb] … qoff[bb]+qn[bb]−1 of q (query i at row qoff[bb]+i), its
// keys and values rows koff[bb] … koff[bb]+kn[bb]−1 of k and v. tq and tk
// are the batch's padded lengths, the positions of the mask.
type rowLayout struct {
	b, tq, tk          int
	qoff, qn, koff, kn []int
	padded             bool // every batch row has tq queries and tk keys, in order
}

// paddedLayout is the layout of a padded batch [B,Tq,·], [B,Tk,·].
func paddedLayout(b, tq, tk int) *rowLayout {
	l := &rowLayout{b: b, tq: tq, tk: tk, padded: true,
		qoff: make([]int, b), qn: make([]int, b), koff: make([]int, b), kn: make([]int, b)}
	for bb := range b {
		l.qoff[bb], l.qn[bb], l.koff[bb], l.kn[bb] = bb*tq, tq, bb*tk, tk
	}
	return l
}

// realRowsLayout returns the layout of the real rows of the queries' and
// the keys' batches (qrows, krows; nil: the whole padded batch) when each
// batch row's real rows are its first positions, in order — the rows of a
// right-padded batch (layers.PaddedRows) — and the mask drops every key
// past a batch row's real ones, so that they need not be there at all
// (m.prefix: a key-padding mask; with krows nil every key is real). It
// returns false otherwise, and when a batch row has queries but no keys or
// keys but no queries.
func realRowsLayout(qrows, krows *layers.Rows, b, tq, tk int, m *maskView) (*rowLayout, bool) {
	l := paddedLayout(b, tq, tk)
	l.padded = false
	if !runs(qrows, l.qoff, l.qn) || !runs(krows, l.koff, l.kn) {
		return nil, false
	}
	for bb := range b {
		if (l.qn[bb] > 0) != (l.kn[bb] > 0) {
			// Queries with no keys, or keys no query reads: an empty
			// sequence on one side only, rare, left to the padded path.
			return nil, false
		}
		if l.kn[bb] == tk {
			continue
		}
		if m.data == nil || m.prefix == nil {
			return nil, false
		}
		if n := m.prefix[min(bb, len(m.prefix)-1)]; n < 0 || n > l.kn[bb] {
			return nil, false
		}
	}
	return l, true
}

// runs sets off[bb] and n[bb] to the first row and the number of real rows
// of batch row bb, and reports whether they are its first n[bb] positions
// in order, one batch row after the other; rows nil leaves the padded
// layout.
func runs(rows *layers.Rows, off, n []int) bool {
	if rows == nil {
		return true
	}
	if rows.B != len(off) || len(rows.Slot) != rows.B*rows.T {
		return false
	}
	next := 0
	for bb := range rows.B {
		off[bb], n[bb] = next, 0
		for t := range rows.T {
			s := rows.Slot[bb*rows.T+t]
			switch {
			case s == next && n[bb] == t:
				n[bb]++
				next++
			case s != -1:
				return false
			}
		}
	}
	return next == len(rows.Real)
}

// capBlocks returns the query blocks of each batch row (allRowBlocks) cut
// to its queries and keys: a block starting past its queries is dropped,
// one ending past them ends there, and none reaches past its keys.
func (l *rowLayout) capBlocks(all [][]rowBlock) [][]rowBlock {
	if l.padded {
		return all
	}
	out := make([][]rowBlock, len(all))
	for bb, blocks := range all {
		for _, rb := range blocks {
			if rb.i0 >= l.qn[bb] {
				break
			}
			out[bb] = append(out[bb], rowBlock{rb.i0, min(rb.i1, l.qn[bb]), min(rb.kh, l.kn[bb])})
		}
	}
	return out
}
