package web

import (
	"math"
	"slices"

	"github.com/attnlab/attnlab/internal/sorted"
)

// line is one curve to draw: steps in increasing order, and one or more
// channels of values at those steps (a run: its values; a group: its mean,
// the band's low and high edges, and the number of runs behind the mean).
// NaN marks a missing value.
type line struct {
	steps []int
	ch    [][]float64 // ch[k][i] is channel k at steps[i]; channel 0 is the line itself
}

// aligned is lines on one shared x axis, as uPlot draws them: x in
// increasing order, and for each line and channel a value per x (NaN:
// none there).
type aligned struct {
	x     []float64
	lines [][][]float64 // [line][channel][i]
	// width is the number of steps per bucket when the lines were
	// downsampled, 0 when x holds every step.
	width int
}

// align puts the lines on one x axis of at most maxPoints values (an even
// number, at least 2).
//
// When all the lines together have at most maxPoints distinct steps, x is
// those steps and every value is kept. Otherwise the step range is cut into
// maxPoints/2 buckets of equal width, and each bucket that holds any point
// gets two x values, its first step and its middle. Each line puts, of its
// points in the bucket, the one with the smallest and the one with the
// largest channel-0 value at those two x, in the order of their steps (a
// single point at the first), so that no peak or dip of any line is lost
// however long its history; its other channels (a band's edges) take their
// minimum over the bucket when they are low edges (channel 1) and their
// maximum when they are high edges (channel 2), at both x, so that the
// band still covers every point of it; channel 3 (a group's count of runs)
// takes its minimum, so that a bucket where any step lacks runs is shown
// as lacking them. Non-finite values are left out (a gap).
func align(lines []line, maxPoints int) aligned {
	maxPoints = max(2, maxPoints&^1)
	// Every step of any line: merged from the lines' sorted steps (most
	// often equal: one pass each), or sorted when one is out of order.
	var all []int
	merge := true
	for _, l := range lines {
		merge = merge && slices.IsSorted(l.steps)
	}
	for _, l := range lines {
		if merge {
			all = sorted.Union(all, l.steps)
		} else {
			all = append(all, l.steps...)
		}
	}
	if !merge {
		slices.Sort(all)
		all = slices.Compact(all)
	}
	out := aligned{lines: make([][][]float64, len(lines))}
	if len(all) <= maxPoints {
		out.x = make([]float64, len(all))
		index := make(map[int]int, len(all))
		for i, s := range all {
			out.x[i] = float64(s)
			index[s] = i
		}
		for li, l := range lines {
			chans := make([][]float64, len(l.ch))
			for k, vals := range l.ch {
				col := nanSlice(len(all))
				for i, s := range l.steps {
					if v := vals[i]; finite(v) {
						col[index[s]] = v
					}
				}
				chans[k] = col
			}
			out.lines[li] = chans
		}
		return out
	}

	lo, hi := all[0], all[len(all)-1]
	nb := maxPoints / 2
	width := (hi - lo + nb) / nb // ceil((hi-lo+1)/nb)
	if width < 2 {
		width = 2
	}
	out.width = width
	// Buckets that hold a step, in order; each gets slots 2b and 2b+1.
	slot := map[int]int{} // bucket → index of its first x
	for _, s := range all {
		b := (s - lo) / width
		if _, ok := slot[b]; !ok {
			slot[b] = len(out.x)
			first := lo + b*width
			out.x = append(out.x, float64(first), float64(first+width/2))
		}
	}
	n := len(out.x)
	for li, l := range lines {
		chans := make([][]float64, len(l.ch))
		for k := range chans {
			chans[k] = nanSlice(n)
		}
		i := 0
		for i < len(l.steps) {
			b := (l.steps[i] - lo) / width
			j := i
			for j < len(l.steps) && (l.steps[j]-lo)/width == b {
				j++
			}
			at := slot[b]
			// Channel 0: the extremes, in step order.
			imin, imax := -1, -1
			for p := i; p < j; p++ {
				v := l.ch[0][p]
				if !finite(v) {
					continue
				}
				if imin < 0 || v < l.ch[0][imin] {
					imin = p
				}
				if imax < 0 || v > l.ch[0][imax] {
					imax = p
				}
			}
			if imin >= 0 {
				first, second := min(imin, imax), max(imin, imax)
				chans[0][at] = l.ch[0][first]
				if second != first {
					chans[0][at+1] = l.ch[0][second]
				}
			}
			// Band edges: the envelope over the bucket.
			for k := 1; k < len(l.ch); k++ {
				agg := math.NaN()
				for p := i; p < j; p++ {
					v := l.ch[k][p]
					if !finite(v) {
						continue
					}
					if low := k == 1 || k == 3; math.IsNaN(agg) || (low && v < agg) || (!low && v > agg) {
						agg = v
					}
				}
				if !math.IsNaN(agg) {
					chans[k][at], chans[k][at+1] = agg, agg
				}
			}
			i = j
		}
		out.lines[li] = chans
	}
	return out
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
