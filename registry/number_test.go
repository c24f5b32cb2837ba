package registry

import "testing"

func TestNumber(t *testing.T) {
	m := map[string]any{"i": 3, "i64": int64(4), "f": 2.5, "s": "7", "b": true}
	for key, want := range map[string]float64{"i": 3, "i64": 4, "f": 2.5, "s": 0, "b": 0, "absent": 0} {
		if got := Number(m, key); got != want {
			t.Errorf("Number(%q) = %v, want %v", key, got, want)
		}
	}
}
