//go:build !unix

package safeout

// Windows has no umask: TestWriteNewFile writes once, and a new file that
// may be written shows as 0666 there (Go maps only the read-only bit).
var testUmasks = []int{0}

const newFilePerm = 0o666

func setUmask(int) (old int) { return 0 }
