package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// cgroupMemoryLimit returns the memory limit of the cgroup this process
// runs in, as Slurm's --mem (with its cgroup plugin) or a container's limit
// sets it; false when none is set or it cannot be read.
func cgroupMemoryLimit() (int64, bool) {
	cgroups, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return 0, false
	}
	return cgroupLimit(string(cgroups), string(mounts), "")
}

// cgroupLimit finds the memory limit of the cgroup that cgroups (the text
// of /proc/self/cgroup) names, in the hierarchy that mountinfo (the text of
// /proc/self/mountinfo) mounts: cgroup v2's memory.max or v1's
// memory.limit_in_bytes, the smallest along the path from the process's
// cgroup up to the mount (a Slurm job's limit is on the job, its steps
// below it). root prefixes every path read (tests).
func cgroupLimit(cgroups, mountinfo, root string) (int64, bool) {
	var best int64
	found := false
	for _, line := range strings.Split(cgroups, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var fstype, file string
		switch {
		case parts[0] == "0" && parts[1] == "":
			fstype, file = "cgroup2", "memory.max"
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			fstype, file = "cgroup", "memory.limit_in_bytes"
		default:
			continue
		}
		mountRoot, mountPoint, ok := cgroupMount(mountinfo, fstype)
		if !ok {
			continue
		}
		rel := parts[2]
		if mountRoot != "/" {
			rel = strings.TrimPrefix(rel, mountRoot)
		}
		top := filepath.Join(root, mountPoint)
		for dir := filepath.Join(top, rel); strings.HasPrefix(dir, top); dir = filepath.Dir(dir) {
			if n, ok := readLimit(filepath.Join(dir, file)); ok && (!found || n < best) {
				best, found = n, true
			}
			if dir == top {
				break
			}
		}
	}
	return best, found
}

// cgroupMount returns the root and mount point of the first mount of
// fstype (cgroup2; or cgroup with the memory controller) in mountinfo.
func cgroupMount(mountinfo, fstype string) (root, point string, ok bool) {
	for _, line := range strings.Split(mountinfo, "\n") {
		fields := strings.Fields(line)
		sep := slices.Index(fields, "-")
		if sep < 5 || len(fields) < sep+4 || fields[sep+1] != fstype {
			continue
		}
		if fstype == "cgroup" && !slices.Contains(strings.Split(fields[len(fields)-1], ","), "memory") {
			continue
		}
		return fields[3], fields[4], true
	}
	return "", "", false
}

// readLimit reads a cgroup memory limit file: a byte count, or "max" (v2)
// or a value near 2^63 (v1) for none.
func readLimit(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0, false
	}
	return n, true
}
