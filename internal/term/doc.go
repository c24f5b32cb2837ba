// Package term lays text out for the terminal: the width to fit (Width) and
// plain column tables that stay within it (Table). The command line and
// report's comparison tables share it, so every table of attnlab fits the
// same way.
//
// A Table that is wider than the width it is given first drops the
// columns marked droppable (highest Drop first), then truncates the
// columns marked to Shrink (down to their Min, with "…"), and finally
// splits the remaining columns into blocks printed one under the other,
// each repeating the Key columns (the row labels) on its left. Display
// width is counted in runes: attnlab's text has no wide or combining
// characters.
package term
