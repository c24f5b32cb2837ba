package tasks

import (
	"reflect"
	"testing"
)

// TestWindowsAsSpecified: the Windows of a stream of n tokens at a
// context are refWindows' (the definition), At by At, with Lens giving
// each one's length and Head(k) the first k of them; a List gives back
// what it holds.
func TestWindowsAsSpecified(t *testing.T) {
	t.Parallel()
	for n := range 12 {
		ids, ints := make([]int32, n), make([]int, n)
		for i := range n {
			ids[i], ints[i] = int32(100000+i), 100000+i
		}
		for context := 1; context <= 5; context++ {
			w, want := Windows(ids, context), refWindows(ints, context)
			if got := w.All(); !reflect.DeepEqual(got, want) {
				t.Fatalf("%d tokens, context %d: windows %v, want %v", n, context, got, want)
			}
			for i := range w.Len() {
				if src, tgt := w.Lens(i); src != 0 || tgt != len(want[i].Tgt) {
					t.Errorf("%d tokens, context %d: Lens(%d) = %d, %d; want 0, %d", n, context, i, src, tgt, len(want[i].Tgt))
				}
			}
			for k := range w.Len() + 2 {
				if got := w.Head(k).All(); !reflect.DeepEqual(got, want[:min(k, len(want))]) {
					t.Errorf("%d tokens, context %d: Head(%d) = %v, want %v", n, context, k, got, want[:min(k, len(want))])
				}
			}
		}
	}
	list := []Example{{Src: []int{4}, Tgt: []int{5, 6}, Ref: "x"}, {Tgt: []int{7}}}
	l := ListOf(list)
	if l.Len() != 2 || !reflect.DeepEqual(l.At(0), list[0]) || !reflect.DeepEqual(l.Head(1).All(), list[:1]) {
		t.Errorf("ListOf: %d examples, At(0) %v, Head(1) %v", l.Len(), l.At(0), l.Head(1).All())
	}
	if src, tgt := l.Lens(0); src != 1 || tgt != 2 {
		t.Errorf("ListOf: Lens(0) = %d, %d; want 1, 2", src, tgt)
	}
	if (Examples{}).Len() != 0 {
		t.Error("the zero Examples is not empty")
	}
}
