package main

import "testing"

// TestFloatFlag: a float flag reads a 0 however written as 0, hex
// included (0x0p-5; the check it had before took the 5 of the exponent
// for a digit of the number), and refuses a number that reads as 0 though
// not 0 as written, in decimal or hex.
func TestFloatFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0x0p-5", 0, true},
		{"-0.0e-400", 0, true},
		{"0x1p-2", 0.25, true},
		{"1e-400", 0, false},
		{"0x1p-2000", 0, false},
		{"0xep-2000", 0, false},
	} {
		x := -1.0
		err := floatFlag{&x}.Set(tc.in)
		if (err == nil) != tc.ok || (tc.ok && x != tc.want) {
			t.Errorf("Set(%q): x = %v, error %v; want x = %v, ok %v", tc.in, x, err, tc.want, tc.ok)
		}
	}
}
