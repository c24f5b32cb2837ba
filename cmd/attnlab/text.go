package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// pageWidth is the width that list, plan and show lay their text out in.
const pageWidth = 100

// width returns the display width of s (one column per rune: attnlab's
// text has no wide or combining characters).
func width(s string) int { return utf8.RuneCountInString(s) }

// pad returns s padded with spaces to n columns.
func pad(s string, n int) string {
	if w := width(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

// padLeft returns s right-aligned in n columns.
func padLeft(s string, n int) string {
	if w := width(s); w < n {
		return strings.Repeat(" ", n-w) + s
	}
	return s
}

// truncate shortens s to at most n columns, ending it with "…" when cut.
func truncate(s string, n int) string {
	if width(s) <= n || n < 1 {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// wrap breaks s into lines of at most n columns at spaces (a longer word
// gets a line of its own).
func wrap(s string, n int) []string {
	var lines []string
	var line strings.Builder
	for _, w := range strings.Fields(s) {
		if line.Len() > 0 && width(line.String())+1+width(w) > n {
			lines = append(lines, line.String())
			line.Reset()
		}
		if line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(w)
	}
	if line.Len() > 0 || len(lines) == 0 {
		lines = append(lines, line.String())
	}
	return lines
}

// writeHanging writes s wrapped to pageWidth: the first line after prefix,
// the others indented to prefix's width.
func writeHanging(w io.Writer, prefix, s string) {
	indent := strings.Repeat(" ", width(prefix))
	for i, l := range wrap(s, max(pageWidth-width(prefix), 20)) {
		if i == 0 {
			fmt.Fprintln(w, strings.TrimRight(prefix+l, " "))
		} else {
			fmt.Fprintln(w, indent+l)
		}
	}
}

// newTable returns a tabwriter for plain column output: columns separated
// by two spaces, cells separated by tabs.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}
