// Package term lays text out for the terminal: the width to fit (Width) and
// plain column tables that stay within it (Table). The command line and
// report's comparison tables share it, so every table of attnlab fits the
// same way.
//
// A Table that is wider than the width it is given gives up room in the
// order its columns say: each column may be cut (Cut, down to Min, lines
// ending with "…") or dropped (Drop) at a priority, highest first; what
// still does not fit is split into blocks printed one under the other,
// each repeating the Key columns (the row labels) on its left. Display
// width is counted in runes: attnlab's text has no wide or combining
// characters.
package term
