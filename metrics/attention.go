package metrics

import (
	"fmt"
	"math"
)

// Entropy returns the Shannon entropy, in nats, of one row of attention
// weights, normalised to sum 1: −Σ p log p over the positive weights. Zero
// weights (masked or padded keys) contribute nothing. ok is false, and h
// NaN, for a row without positive weight (every key masked) or with a NaN
// or negative weight.
func Entropy(row []float32) (h float64, ok bool) {
	sum := 0.0
	for _, w := range row {
		if !(w >= 0) {
			return math.NaN(), false
		}
		sum += float64(w)
	}
	if sum == 0 || math.IsInf(sum, 0) {
		return math.NaN(), false
	}
	for _, w := range row {
		if w > 0 {
			p := float64(w) / sum
			h -= p * math.Log(p)
		}
	}
	return h, true
}

// Focus summarises one row of attention weights: all the attention
// metrics need of it, so a decoder can keep a Focus per output step
// instead of a row as long as the source.
type Focus struct {
	Entropy float64 // the row's [Entropy]; NaN when it has none
	Peak    int     // position of its largest weight if positive (the first of equal ones); −1 when no weight is positive
}

// FocusOf returns the Focus of a row of attention weights.
func FocusOf(row []float32) Focus {
	h, _ := Entropy(row)
	best, arg := float32(0), -1
	for j, w := range row {
		if w > best {
			best, arg = w, j
		}
	}
	return Focus{Entropy: h, Peak: arg}
}

// Foci returns the Focus of each row.
func Foci(rows [][]float32) []Focus {
	f := make([]Focus, len(rows))
	for i, r := range rows {
		f[i] = FocusOf(r)
	}
	return f
}

// MeanEntropy returns the mean entropy of the rows that have one, and how
// many rows that is (fully masked rows are skipped). With n = 0 the mean is
// NaN. To combine batches, weight each mean by its n.
func MeanEntropy(rows []Focus) (mean float64, n int) {
	sum := 0.0
	for _, r := range rows {
		if !math.IsNaN(r.Entropy) {
			sum += r.Entropy
			n++
		}
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return sum / float64(n), n
}

// Rows returns the rows of attention weights w, laid out [b, tq, tk]
// row-major (for multi-head weights [B, H, Tq, Tk], pass b = B·H and repeat
// each length H times), that belong to real positions: for batch item i the
// query steps t < qLen[i], each row cut to its first kLen[i] keys. The rows
// alias w. It panics if the sizes disagree.
func Rows(w []float32, b, tq, tk int, qLen, kLen []int) [][]float32 {
	if len(w) != b*tq*tk || len(qLen) != b || len(kLen) != b {
		panic(fmt.Sprintf("metrics: Rows of %d weights as [%d, %d, %d] with %d query and %d key lengths", len(w), b, tq, tk, len(qLen), len(kLen)))
	}
	var rows [][]float32
	for i := range b {
		if qLen[i] > tq || kLen[i] > tk || qLen[i] < 0 || kLen[i] < 0 {
			panic(fmt.Sprintf("metrics: Rows: item %d has lengths %d, %d beyond [%d, %d]", i, qLen[i], kLen[i], tq, tk))
		}
		for t := range qLen[i] {
			off := (i*tq + t) * tk
			rows = append(rows, w[off:off+kLen[i]])
		}
	}
	return rows
}

// IdealPositions returns, for target steps 0..steps-1 over a source of
// srcLen tokens, the source position each step should attend to under the
// named alignment: "copy": t; "reverse": srcLen−1−t; −1 for steps beyond the
// source (such as the EOS step) and for any other alignment name.
func IdealPositions(alignment string, steps, srcLen int) []int {
	ideal := make([]int, steps)
	for t := range ideal {
		ideal[t] = -1
		if t >= srcLen {
			continue
		}
		switch alignment {
		case "copy":
			ideal[t] = t
		case "reverse":
			ideal[t] = srcLen - 1 - t
		}
	}
	return ideal
}

// AlignmentHits counts, over the rows (one per target step) whose ideal
// position is ≥ 0, how many have their largest weight at that position
// (Focus.Peak), and how many were counted. A row without a positive weight
// counts as a miss. Alignment accuracy is hits/n, summed over a split. It
// panics if there are fewer ideal positions than rows.
func AlignmentHits(rows []Focus, ideal []int) (hits, n int) {
	if len(ideal) < len(rows) {
		panic(fmt.Sprintf("metrics: AlignmentHits with %d rows and %d ideal positions", len(rows), len(ideal)))
	}
	for t, r := range rows {
		if ideal[t] < 0 {
			continue
		}
		n++
		if r.Peak == ideal[t] {
			hits++
		}
	}
	return hits, n
}
