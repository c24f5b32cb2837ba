package experiments

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// ConfigError is one problem with an experiment: the file it comes from
// (the experiment file, a base named by extends, or "--set"), the line of
// the offending key when the YAML has one (0 otherwise), the dotted key path
// (list items as key[i]) and a message.
type ConfigError struct {
	File string
	Line int
	Key  string
	Msg  string
	// Lint says the problem is a setting that new experiments refuse but
	// runs stored with it keep (registry.Linter, and eval.context beyond a
	// measured test split): a caller may load again with
	// LoadOptions.NoLint when every run of the plan is already stored.
	Lint bool

	rank  int    // position of File in the load order, for sorting
	want  string // for a value of the wrong type, the type wanted ("string"); "" for other problems
	order int    // position in a list of problems of one key (badEach), from 1; 0 for others
}

// OnlyLint reports whether es holds problems and every one is a
// ConfigError.Lint.
func OnlyLint(err error) bool {
	var es Errors
	if !errors.As(err, &es) || len(es) == 0 {
		return false
	}
	for _, e := range es {
		if !e.Lint {
			return false
		}
	}
	return true
}

// Error formats the problem as one line: "file:line: key: message", leaving
// out the parts that are unknown.
func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		key := e.Key
		if len(key) > maxEcho { // a key from the file or --set
			key = abbreviate(key)
		}
		b.WriteString(key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return oneLine(b.String())
}

// oneLine escapes control characters (a key or value may hold a newline),
// so that every error stays on one line.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Errors is every problem found in an experiment, sorted by file (the
// experiment file first, then its bases, then --set) and line. Its Error
// joins the one-line messages with newlines. Load returns an Errors value
// (never empty) for any problem a user can cause; use errors.As to get it, or
// the *ConfigError of the first problem.
type Errors []*ConfigError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// As lets errors.As find the first *ConfigError of an Errors value.
func (es Errors) As(target any) bool {
	if p, ok := target.(**ConfigError); ok && len(es) > 0 {
		*p = es[0]
		return true
	}
	return false
}

// sorted returns es without duplicates, in the documented order.
func (es Errors) sorted() Errors {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b *ConfigError) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Key, b.Key), cmp.Compare(a.order, b.order), cmp.Compare(a.Msg, b.Msg))
	})
	return slices.CompactFunc(out, func(a, b *ConfigError) bool {
		return a.File == b.File && a.Line == b.Line && a.Key == b.Key && a.Msg == b.Msg
	})
}
