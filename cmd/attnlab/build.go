package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime/debug"
	"sync"
)

// runVersion is what a run records as the attnlab that trained it
// (attnlab_version): version and the build, so that compare can tell the
// results of different code apart. The build is the commit go build
// stamped ("+0123456789ab", ".dirty" when the tree had changes) or, when
// there is no stamp (go run, -buildvcs=false), the first 12 hex digits of
// the SHA-256 of this executable ("+exe.0123456789ab"): two builds of the
// same code may differ there (other paths, flags, toolchains), never two
// different codes.
var runVersion = sync.OnceValue(func() string {
	info, _ := debug.ReadBuildInfo()
	return buildVersion(version, info, executableHash)
})

// buildVersion is runVersion's rule, given the build information (nil
// when there is none) and a way to hash the executable.
func buildVersion(base string, info *debug.BuildInfo, exeHash func() string) string {
	var rev string
	dirty := false
	if info != nil {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if rev != "" {
		rev = rev[:min(12, len(rev))]
		if dirty {
			rev += ".dirty"
		}
		return base + "+" + rev
	}
	if h := exeHash(); h != "" {
		return base + "+exe." + h
	}
	return base
}

// executableHash returns the first 12 hex digits of the SHA-256 of this
// executable, "" when it cannot be read.
func executableHash() string {
	path, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
