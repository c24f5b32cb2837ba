package term

import (
	"strings"
	"unicode"
)

// Wrap breaks s into lines of at most n columns at spaces, runs of white
// space folding into one; a no-break space (U+00A0) joins the words on
// its sides, and is printed as it is. A word wider than n is broken after its '|'
// characters where it has some (a sacreBLEU signature,
// "BLEU|nrefs:1|case:mixed|…", fits that way), each piece as wide as fits;
// a piece still wider than n gets a line of its own. Wrap returns one
// empty line for an empty s.
func Wrap(s string, n int) []string {
	var lines []string
	var line strings.Builder
	w := 0 // width of line
	put := func(piece string, space bool) {
		pw := StringWidth(piece)
		sep := 0
		if space && w > 0 {
			sep = 1
		}
		if w > 0 && w+sep+pw > n {
			lines = append(lines, line.String())
			line.Reset()
			w, sep = 0, 0
		}
		if sep == 1 {
			line.WriteByte(' ')
		}
		line.WriteString(piece)
		w += sep + pw
	}
	for _, word := range strings.FieldsFunc(s, breaks) {
		if StringWidth(word) <= n || !strings.Contains(word, "|") {
			put(word, true)
			continue
		}
		for i, piece := range strings.SplitAfter(word, "|") {
			if piece != "" {
				put(piece, i == 0)
			}
		}
	}
	if w > 0 || len(lines) == 0 {
		lines = append(lines, line.String())
	}
	return lines
}

// breaks reports whether r is white space a line may break at: any but
// the no-break space.
func breaks(r rune) bool { return r != '\u00a0' && unicode.IsSpace(r) }
