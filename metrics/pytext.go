package metrics

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// sacreBLEU is Python: its tokenizers and n-gram extraction split on
// str.split()'s whitespace, strip with str.rstrip() and lowercase with
// str.lower(). The helpers here reproduce those three on Go strings (code
// points, as Python's str), so that every score matches sacreBLEU's.

// pyIsSpace reports whether r is whitespace for Python's str.isspace (and
// so for str.split() and str.rstrip()): Go's unicode.IsSpace plus the
// information separators U+001C–U+001F, which Python counts as whitespace
// (bidirectional class B or S) and Go does not.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// pySplit returns the words of s as Python's s.split() does: the maximal
// runs of non-whitespace characters.
func pySplit(s string) []string { return strings.FieldsFunc(s, pyIsSpace) }

// pyRstrip returns s without trailing whitespace, as Python's s.rstrip().
func pyRstrip(s string) string { return strings.TrimRightFunc(s, pyIsSpace) }

// pyJoinSplit returns " ".join(s.split()): the words of s, one space apart.
func pyJoinSplit(s string) string { return strings.Join(pySplit(s), " ") }

// pyLower returns s lowercased as Python's str.lower() does: each code
// point's full lowercase mapping — the simple one, except that U+0130 (İ)
// becomes "i̇" (i and U+0307) — and a capital sigma becomes the final form ς
// in the Final_Sigma context (after a cased letter, skipping
// case-ignorable ones, and not before one), σ elsewhere.
func pyLower(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if finalSigma(s, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma reports whether the capital sigma at byte i of s is in the
// Final_Sigma context of Unicode's SpecialCasing, as CPython tests it:
// preceded by a cased letter (case-ignorable characters skipped between)
// and not followed by one.
func finalSigma(s string, i int) bool {
	j := i
	before := false
	for j > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
		if !caseIgnorable(r) {
			before = isCased(r)
			break
		}
	}
	if !before {
		return false
	}
	for _, r := range s[i+len("Σ"):] {
		if !caseIgnorable(r) {
			return !isCased(r)
		}
	}
	return true
}

// isCased is Unicode's Cased property: Lu, Ll, Lt, Other_Lowercase and
// Other_Uppercase.
func isCased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// caseIgnorable is Unicode's Case_Ignorable property: Mn, Me, Cf, Lm and Sk,
// and the characters of Word_Break MidLetter, MidNumLet and Single_Quote.
func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0xb7, 0x387, 0x55f, 0x5f4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xfe13, 0xfe52, 0xfe55, 0xff07, 0xff0e, 0xff1a:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
