package main

import (
	"regexp"
	"runtime/debug"
	"testing"
)

// TestBuildVersion: a run records the commit go build stamped, marked
// dirty when the tree had changes, or else a hash of the executable.
func TestBuildVersion(t *testing.T) {
	stamp := func(kv ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{}
		for i := 0; i < len(kv); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return info
	}
	exe := func() string { return "feedfacecafe" }
	noExe := func() string { return "" }
	for _, tc := range []struct {
		info *debug.BuildInfo
		hash func() string
		want string
	}{
		{stamp("vcs", "git", "vcs.revision", "5fecbe32baec15b5a2a116d07726aaaf74b7508c", "vcs.modified", "false"), exe, "1.0+5fecbe32baec"},
		{stamp("vcs.revision", "5fecbe32baec15b5a2a116d07726aaaf74b7508c", "vcs.modified", "true"), exe, "1.0+5fecbe32baec.dirty"},
		{stamp("vcs.revision", "abc"), exe, "1.0+abc"},
		{stamp("-buildvcs", "false"), exe, "1.0+exe.feedfacecafe"},
		{nil, exe, "1.0+exe.feedfacecafe"},
		{nil, noExe, "1.0"},
	} {
		if got := buildVersion("1.0", tc.info, tc.hash); got != tc.want {
			t.Errorf("buildVersion(%v) = %q, want %q", tc.info, got, tc.want)
		}
	}
	// This test binary is not stamped: its own hash.
	if h := executableHash(); !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(h) {
		t.Errorf("executableHash() = %q", h)
	}
}
