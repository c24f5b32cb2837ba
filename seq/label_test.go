package seq

import "testing"

func TestSymbol(t *testing.T) {
	tests := []struct {
		token, sign string
		ok          bool
	}{
		{" ", "␣", true},
		{"\n", "↵", true},
		{"\t", "⇥", true},
		{"", `""`, true},
		{"a", "", false},
		{"  ", "", false},
		{"a\nb", "", false},
	}
	for _, tc := range tests {
		sign, ok := Symbol(tc.token)
		if sign != tc.sign || ok != tc.ok {
			t.Errorf("Symbol(%q) = %q, %v, want %q, %v", tc.token, sign, ok, tc.sign, tc.ok)
		}
	}
}
