package term

import (
	"os"
	"strconv"
	"strings"
)

// Width limits.
const (
	// DefaultWidth is the width used when the output is not a terminal and
	// COLUMNS is not set (a pipe, a file, a test).
	DefaultWidth = 100
	// MinWidth is the narrowest width tables are laid out for; a smaller
	// request is raised to it.
	MinWidth = 40
)

// Width returns the width to lay out text for on f: override when it is
// positive, else $COLUMNS when it holds a positive number, else the width
// of the terminal f is (when f is a terminal), else DefaultWidth. The result
// is at least MinWidth. f may be nil.
func Width(f *os.File, override int) int {
	w := override
	if w <= 0 {
		if n, err := strconv.Atoi(strings.TrimSpace(os.Getenv("COLUMNS"))); err == nil && n > 0 {
			w = n
		}
	}
	if w <= 0 && f != nil {
		w = terminalWidth(f)
	}
	if w <= 0 {
		w = DefaultWidth
	}
	return max(w, MinWidth)
}
