package registry

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Range is the interval a number must lie in, as a `range:"..."` struct
// tag writes it: "[" or "(" (closed or open), the lower bound, a comma, the
// upper bound, then "]" or ")"; an empty bound is unbounded. "[1,]" is 1 or
// more, "[0,1)" a probability below 1, "(0,]" anything positive. A
// parameter struct field or an experiment setting with such a tag is
// checked when it is decoded, and `attnlab list` shows the range.
type Range struct {
	Lo, Hi         float64 // -Inf and +Inf when unbounded
	LoOpen, HiOpen bool
}

// ParseRange parses a range tag.
func ParseRange(tag string) (Range, error) {
	s := strings.ReplaceAll(tag, " ", "")
	if len(s) < 3 || !strings.ContainsRune("[(", rune(s[0])) || !strings.ContainsRune("])", rune(s[len(s)-1])) {
		return Range{}, fmt.Errorf("range %q: want [lo,hi] with [ or ( and ] or )", tag)
	}
	lo, hi, ok := strings.Cut(s[1:len(s)-1], ",")
	if !ok {
		return Range{}, fmt.Errorf("range %q: want a comma between the bounds", tag)
	}
	r := Range{Lo: math.Inf(-1), Hi: math.Inf(1), LoOpen: s[0] == '(', HiOpen: s[len(s)-1] == ')'}
	var err error
	if lo != "" {
		if r.Lo, err = strconv.ParseFloat(lo, 64); err != nil {
			return Range{}, fmt.Errorf("range %q: lower bound: %v", tag, err)
		}
	}
	if hi != "" {
		if r.Hi, err = strconv.ParseFloat(hi, 64); err != nil {
			return Range{}, fmt.Errorf("range %q: upper bound: %v", tag, err)
		}
	}
	if !(r.Lo <= r.Hi) {
		return Range{}, fmt.Errorf("range %q: the lower bound is above the upper", tag)
	}
	return r, nil
}

// Contains reports whether v lies in r (NaN never does).
func (r Range) Contains(v float64) bool {
	if v < r.Lo || v == r.Lo && r.LoOpen || v > r.Hi || v == r.Hi && r.HiOpen {
		return false
	}
	return !math.IsNaN(v)
}

// String writes r for people: "≥ 1", "> 0", "≤ 4", "[0, 1)", "any".
func (r Range) String() string {
	lo, hi := !math.IsInf(r.Lo, -1), !math.IsInf(r.Hi, 1)
	switch {
	case lo && hi:
		b, e := "[", "]"
		if r.LoOpen {
			b = "("
		}
		if r.HiOpen {
			e = ")"
		}
		return b + num(r.Lo) + ", " + num(r.Hi) + e
	case lo && r.LoOpen:
		return "> " + num(r.Lo)
	case lo:
		return "≥ " + num(r.Lo)
	case hi && r.HiOpen:
		return "< " + num(r.Hi)
	case hi:
		return "≤ " + num(r.Hi)
	}
	return "any"
}

// Explain says why v is out of r, in the words of the project's errors:
// "must be at least 1, got 0", "must not be negative, got -1", "must be
// positive, got 0", "must be in [0, 1), got 1.5".
func (r Range) Explain(v any) string {
	got := fmt.Sprint(v)
	if f, ok := v.(float64); ok {
		got = strconv.FormatFloat(f, 'g', -1, 64)
	}
	if math.IsInf(r.Hi, 1) {
		switch {
		case r.Lo == 0 && !r.LoOpen:
			return "must not be negative, got " + got
		case r.Lo == 0:
			return "must be positive, got " + got
		case !r.LoOpen:
			return "must be at least " + num(r.Lo) + ", got " + got
		}
		return "must be above " + num(r.Lo) + ", got " + got
	}
	return "must be in " + r.String() + ", got " + got
}

// num writes a bound: integers in full (1000000, not 1e+06), others in
// their shortest form.
func num(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}
