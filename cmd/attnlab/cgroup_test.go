package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCgroupLimit: the memory limit of the process's cgroup is the
// smallest set on its path up to the hierarchy's mount, in cgroup v2 (a
// Slurm job's limit above its step) and v1 (a Kubernetes pod's limit above
// its container, the mount's root below the hierarchy's), and none when no
// file sets one.
func TestCgroupLimit(t *testing.T) {
	root := t.TempDir()
	write := func(path, text string) {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("v2/system.slice/slurmstepd.scope/job_5/memory.max", "4294967296\n")
	write("v2/system.slice/slurmstepd.scope/job_5/step_0/memory.max", "max\n")
	write("v2/system.slice/slurmstepd.scope/job_5/step_0/user/task_0/memory.max", "max\n")
	write("v2/system.slice/free/memory.max", "max\n")
	write("v1/memory.limit_in_bytes", "9223372036854771712\n")
	write("v1/pod1/memory.limit_in_bytes", "2147483648\n")
	write("v1/pod1/c1/memory.limit_in_bytes", "9223372036854771712\n")
	v2 := "30 23 0:27 / /v2 rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
	v1 := "31 23 0:28 / /cpu rw - cgroup cgroup rw,cpu\n" +
		"35 23 0:32 /kubepods /v1 rw,relatime - cgroup cgroup rw,memory\n"
	for _, tc := range []struct {
		name, cgroups, mounts string
		want                  int64
		ok                    bool
	}{
		{"v2 slurm job", "0::/system.slice/slurmstepd.scope/job_5/step_0/user/task_0\n", v2, 4 << 30, true},
		{"v2 no limit", "0::/system.slice/free\n", v2, 0, false},
		{"v1 pod", "4:memory:/kubepods/pod1/c1\n1:cpu:/\n", v1, 2 << 30, true},
		{"v1 unlimited", "4:memory:/kubepods\n", v1, 0, false},
		{"no mount", "0::/system.slice/free\n", v1, 0, false},
		{"garbage", "nonsense", "nonsense - x", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := cgroupLimit(tc.cgroups, tc.mounts, root)
			if got != tc.want || ok != tc.ok {
				t.Errorf("cgroupLimit = %d, %v; want %d, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
