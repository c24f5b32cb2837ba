package metrics

import (
	"encoding/json"
	"os"
	"testing"
)

// permutationFixture is testdata/permutation.json, written by
// testdata/make_permutation.py with scipy 1.10's exact permutation_test.
type permutationFixture struct {
	SignFlip, Separated []struct {
		A, B []float64
		P    float64
	}
}

func loadPermutation(t *testing.T) permutationFixture {
	t.Helper()
	raw, err := os.ReadFile("testdata/permutation.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		SignFlip  json.RawMessage `json:"sign_flip"`
		Separated json.RawMessage `json:"separated"`
	}
	var out permutationFixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(f.SignFlip, &out.SignFlip); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(f.Separated, &out.Separated); err != nil {
		t.Fatal(err)
	}
	if len(out.SignFlip) < 10 || len(out.Separated) < 14 {
		t.Fatalf("fixture has %d sign-flip and %d separated cases", len(out.SignFlip), len(out.Separated))
	}
	return out
}

// TestSignFlipP checks the exact sign-flip p against scipy's exact paired
// permutation test on differences of one sign, each direction.
func TestSignFlipP(t *testing.T) {
	t.Parallel()
	for _, tc := range loadPermutation(t).SignFlip {
		pos, neg := true, true
		for i := range tc.A {
			pos, neg = pos && tc.A[i] > tc.B[i], neg && tc.A[i] < tc.B[i]
		}
		if !pos && !neg {
			t.Fatalf("fixture %v − %v: differences of both signs", tc.A, tc.B)
		}
		if got := SignFlipP(len(tc.A)); !closeRel(got, tc.P, 1e-12) {
			t.Errorf("SignFlipP(%d) = %.17g, scipy %.17g", len(tc.A), got, tc.P)
		}
	}
	if got := SignFlipP(1); got != 1 {
		t.Errorf("SignFlipP(1) = %v, want 1", got)
	}
	if got := SignFlipP(1100); got != 0 {
		t.Errorf("SignFlipP(1100) = %v, want 0 (2¹⁻¹¹⁰⁰ underflows)", got)
	}
}

// TestSeparatedP checks the exact two-sample p against scipy's exact
// permutation test on constant samples, each order, and its limits.
func TestSeparatedP(t *testing.T) {
	t.Parallel()
	for _, tc := range loadPermutation(t).Separated {
		if got := SeparatedP(len(tc.A), len(tc.B)); !closeRel(got, tc.P, 1e-12) {
			t.Errorf("SeparatedP(%d, %d) = %.17g, scipy %.17g", len(tc.A), len(tc.B), got, tc.P)
		}
	}
	for _, tc := range []struct {
		n, m int
		p    float64
	}{
		{1, 1, 1},      // 2/C(2, 1) = 1
		{1, 2, 2. / 3}, // 2/C(3, 1)
		{2, 1, 2. / 3},
		{20, 20, 2 / 137846528820.0}, // C(40, 20)
		{2000, 2000, 0},              // underflows, does not overflow to NaN
	} {
		if got := SeparatedP(tc.n, tc.m); !closeRel(got, tc.p, 1e-12) && !(tc.p == 0 && got == 0) {
			t.Errorf("SeparatedP(%d, %d) = %.17g, want %.17g", tc.n, tc.m, got, tc.p)
		}
	}
}

func TestExactPPanics(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func(){
		"sign flip, n = 0":   func() { SignFlipP(0) },
		"separated, n = 0":   func() { SeparatedP(0, 3) },
		"separated, m = 0":   func() { SeparatedP(3, 0) },
		"sign flip negative": func() { SignFlipP(-2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
