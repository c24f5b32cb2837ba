package sorted

import (
	"slices"
	"testing"
)

func TestUnion(t *testing.T) {
	for _, tc := range []struct{ a, b, want []int }{
		{nil, nil, nil},
		{[]int{1, 2, 3}, nil, []int{1, 2, 3}},
		{nil, []int{2, 2, 5}, []int{2, 5}},
		{[]int{10, 20, 30}, []int{20, 30}, []int{10, 20, 30}},
		{[]int{10, 20, 30}, []int{20, 20, 30}, []int{10, 20, 30}},
		{[]int{10, 30}, []int{20, 40}, []int{10, 20, 30, 40}},
		{[]int{10, 10, 30}, []int{5}, []int{5, 10, 30}},
		{[]int{10, 20}, []int{10, 20, 30}, []int{10, 20, 30}},
	} {
		got := Union(tc.a, tc.b)
		if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("Union(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	a := []int{1, 2, 3}
	if got := Union(a, []int{2, 3, 3}); &got[0] != &a[0] {
		t.Error("Union allocated although b adds nothing")
	}
}
