package floatlit

import (
	"errors"
	"math"
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		err  error
	}{
		{"1", 1, nil},
		{"1_000", 1000, nil},
		{".0", 0, nil},
		{"-0.0", 0, nil},
		{"+0.e-400", 0, nil},
		{"0_0e-999", 0, nil},
		{"0e-400", 0, nil},
		{"-0.000E-999", 0, nil},
		{"5e-324", 5e-324, nil},
		{"0x1p-2", 0.25, nil},
		{"0x0p-5", 0, nil},
		{"-0x0.000p-5000", 0, nil},
		{"0X0P+9", 0, nil},
		{"0x1p-1074", 5e-324, nil},
		{"1e-400", 0, ErrUnderflow},
		{"-2.5E-999", 0, ErrUnderflow},
		{".1e-330", 0, ErrUnderflow},
		{"0x1p-2000", 0, ErrUnderflow},
		{"0xep-2000", 0, ErrUnderflow},
		{"-0X.8P-1075", 0, ErrUnderflow},
		{"0x_1p-2000", 0, ErrUnderflow},
		{"1e400", math.Inf(1), strconv.ErrRange},
		{"0x1p2000", math.Inf(1), strconv.ErrRange},
		{"x", 0, strconv.ErrSyntax},
		{"0x1e-400", 0, strconv.ErrSyntax}, // a hex float needs its p exponent
	} {
		got, err := Parse(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("Parse(%q) = %v, %v; want %v, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
