package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/attnlab/attnlab/internal/term"
)

// pageWidth is the width that list, plan and show lay their text out in.
const pageWidth = 100

// Shorthands of package term, which report's tables share.
func width(s string) int              { return term.StringWidth(s) }
func pad(s string, n int) string      { return term.Pad(s, n, false) }
func padLeft(s string, n int) string  { return term.Pad(s, n, true) }
func truncate(s string, n int) string { return term.Truncate(s, n) }
func wrap(s string, n int) []string   { return term.Wrap(s, n) }

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
