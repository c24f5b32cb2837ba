package seq

import (
	"slices"
	"testing"
)

func TestBatchSlice(t *testing.T) {
	b := &Batch{Size: 3, S: 2, T: 3,
		Src: []int{4, 5, 6, 0, 7, 8}, SrcLen: []int{2, 1, 2},
		In: []int{1, 4, 0, 1, 5, 6, 1, 0, 0}, Out: []int{4, 2, 0, 5, 6, 2, 2, 0, 0}, TgtLen: []int{2, 3, 1},
		Index: []int{10, 11, 12}, Tokens: 6}
	s := b.Slice(1, 3)
	want := Batch{Size: 2, S: 2, T: 3, Src: []int{6, 0, 7, 8}, SrcLen: []int{1, 2},
		In: []int{1, 5, 6, 1, 0, 0}, Out: []int{5, 6, 2, 2, 0, 0}, TgtLen: []int{3, 1}, Index: []int{11, 12}, Tokens: 4}
	if s.Size != want.Size || s.S != want.S || s.T != want.T || s.Tokens != want.Tokens ||
		!slices.Equal(s.Src, want.Src) || !slices.Equal(s.SrcLen, want.SrcLen) || !slices.Equal(s.In, want.In) ||
		!slices.Equal(s.Out, want.Out) || !slices.Equal(s.TgtLen, want.TgtLen) || !slices.Equal(s.Index, want.Index) {
		t.Fatalf("Slice(1, 3) = %+v, want %+v", s, want)
	}
	lm := &Batch{Size: 2, T: 2, In: []int{1, 4, 1, 5}, Out: []int{4, 2, 5, 2}, TgtLen: []int{2, 2}, Tokens: 4}
	if s := lm.Slice(0, 1); s.Src != nil || s.SrcLen != nil || s.Index != nil || s.Tokens != 2 || !slices.Equal(s.In, []int{1, 4}) {
		t.Fatalf("LM Slice(0, 1) = %+v", s)
	}
	if s := b.Slice(2, 2); s.Size != 0 || len(s.In) != 0 || s.Tokens != 0 {
		t.Fatalf("empty Slice = %+v", s)
	}
}
