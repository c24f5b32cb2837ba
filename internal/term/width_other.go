//go:build !unix

package term

import "os"

// terminalWidth returns 0: the terminal's width is not known here.
func terminalWidth(*os.File) int { return 0 }
