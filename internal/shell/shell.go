// Package shell writes words for a POSIX shell: the command lines that
// attnlab's messages and pages suggest must work as pasted.
package shell

import "strings"

// Quote quotes s for a POSIX shell when it needs it: s itself when it is
// made only of letters, digits and -_./:@%+=, (none of which a shell
// treats specially there), else s in single quotes.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
