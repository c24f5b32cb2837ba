// Package floatlit reads a float literal as strconv.ParseFloat does, but
// refuses one that is not 0 as written yet reads as 0 (1e-400, 0x1p-2000),
// which ParseFloat returns as 0 without an error. The command line's flags,
// the web's forms, the store's --where and the config loader's lint share
// it, so every edge of attnlab says the same of such a number.
package floatlit

import (
	"errors"
	"strconv"
	"strings"
)

// ErrUnderflow is the error of Parse for a number that is not 0 as written
// but too small for a float64: it would read as 0.
var ErrUnderflow = errors.New("too small for a float64: it would read as 0")

// Parse returns the float64 of s, a decimal or hexadecimal float literal
// in Go's syntax (strconv.ParseFloat's, underscores, inf and nan
// included). Its errors are strconv.ParseFloat's (a *strconv.NumError with
// strconv.ErrSyntax, or strconv.ErrRange for a number too large for a
// float64, ±Inf) and ErrUnderflow for a number written with a nonzero
// digit that reads as 0. A 0 however written (0e-400, -0.0, 0x0p-5, 0_0)
// is 0. Parse is safe for concurrent use.
func Parse(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != 0 || !nonzeroMantissa(s) {
		return f, err
	}
	return 0, ErrUnderflow
}

// nonzeroMantissa reports whether the well-formed literal s has a digit
// other than 0 before its exponent: 1e-400 and 0x1p-2000 do, 0e-400 and
// 0x0p-5 do not.
func nonzeroMantissa(s string) bool {
	s = strings.ToLower(strings.TrimLeft(s, "+-"))
	if hex, ok := strings.CutPrefix(s, "0x"); ok {
		mant, _, _ := strings.Cut(hex, "p")
		return strings.ContainsAny(mant, "123456789abcdef")
	}
	mant, _, _ := strings.Cut(s, "e")
	return strings.ContainsAny(mant, "123456789")
}
