package tasks

import "fmt"

// Examples are the examples of one split, by index: either a list of
// examples held as they are ([ListOf]), or the windows of a
// language-modelling stream of token ids ([Windows]), each built when
// asked for. The zero value holds no example. An Examples is not modified
// after its dataset is built, so it may be shared by concurrent readers.
type Examples struct {
	list []Example
	// A stream's windows: ids, 4 bytes a token, and the context (0 for a
	// list).
	ids     []int32
	context int
}

// ListOf returns the Examples of ex, which it keeps (not a copy).
func ListOf(ex []Example) Examples { return Examples{list: ex} }

// Windows returns the language-modelling examples of a stream of token
// ids: windows of context+1 tokens with stride context, so consecutive
// windows share one token, every token but the first is predicted exactly
// once whatever the context, and the last window may be shorter (at least
// 2 tokens). The stream is kept as it is (4 bytes a token) and each window
// becomes an Example with a []int of its own only when At asks for it (a
// batch at a time), instead of 8 bytes a token and an Example a window.
// It panics if context < 1.
func Windows(ids []int32, context int) Examples {
	if context < 1 {
		panic(fmt.Sprintf("tasks.Windows: context %d", context))
	}
	return Examples{ids: ids, context: context}
}

// Len returns the number of examples: for windows, 0 for fewer than 2
// tokens.
func (e Examples) Len() int {
	if e.context == 0 {
		return len(e.list)
	}
	return windowCount(len(e.ids), e.context)
}

// At returns example i; it panics if i is out of range. A window's Tgt is
// a new []int; a listed example is returned as held, so a caller that only
// needs the lengths calls Lens instead.
func (e Examples) At(i int) Example {
	if e.context == 0 {
		return e.list[i]
	}
	start, end := e.span(i)
	tgt := make([]int, end-start)
	for j, id := range e.ids[start:end] {
		tgt[j] = int(id)
	}
	return Example{Tgt: tgt}
}

// Lens returns the source and target lengths of example i, in tokens,
// without building it; it panics if i is out of range.
func (e Examples) Lens(i int) (src, tgt int) {
	if e.context == 0 {
		return len(e.list[i].Src), len(e.list[i].Tgt)
	}
	start, end := e.span(i)
	return 0, end - start
}

// Head returns the first n examples (all of them if there are fewer).
func (e Examples) Head(n int) Examples {
	n = max(min(n, e.Len()), 0)
	if e.context == 0 {
		return Examples{list: e.list[:n:n]}
	}
	if n == 0 {
		return Examples{}
	}
	_, end := e.span(n - 1)
	return Examples{ids: e.ids[:end:end], context: e.context}
}

// All returns every example, built: for tests and small splits.
func (e Examples) All() []Example {
	out := make([]Example, e.Len())
	for i := range out {
		out[i] = e.At(i)
	}
	return out
}

// span returns where window i starts and ends in ids; it panics if i is
// out of range.
func (e Examples) span(i int) (start, end int) {
	if i < 0 || i >= e.Len() {
		panic(fmt.Sprintf("tasks: window %d of %d", i, e.Len()))
	}
	start = i * e.context
	return start, min(start+e.context+1, len(e.ids))
}
