//go:build unix

package store

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// pidAlive reports whether a process with this id is running on this
// machine. Only ESRCH counts as dead for kill(pid, 0) — EPERM means it
// exists under another user — except that a zombie (a process that has
// exited but that its parent has not reaped yet, such as a `run` killed with
// SIGKILL a moment ago) is dead: it holds no run any more. Zombies are
// recognised where /proc is mounted (Linux).
//
// A pid tells a process apart only while it lives: once the owner has died
// and been reaped, the system may give its pid to another process, which
// then looks alive. Such a run is not taken over at once; the heartbeat
// rule (Claim's staleAfter) takes it over when its heartbeat goes stale,
// as for an owner on another host.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return false
	}
	switch state, err := procState(pid); {
	case err == nil:
		return state != 'Z' && state != 'X' && state != 'x'
	case errors.Is(err, fs.ErrNotExist) && procMounted():
		return false // it exited between the two checks
	}
	return true
}

// procState returns the state letter of process pid from /proc/PID/stat
// ("R", "S", "D", "T", "Z", "X", ...).
func procState(pid int) (byte, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so the
	// state follows the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0, errors.New("malformed /proc stat")
	}
	return data[i+2], nil
}

// procMounted reports whether /proc describes this process.
func procMounted() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// initPIDNamespace is the inode of the kernel's initial pid namespace
// (PROC_PID_INIT_INO), the one processes outside containers share.
const initPIDNamespace = "pid:[4026531836]"

// pidNamespace names this process's pid namespace when it is not the
// initial one ("pidns:4026532281"), else "". Two processes on one host
// with different pid namespaces (containers on the host's network, which
// share its host name) cannot see each other's pids: a pid that does not
// exist here may be a live worker there.
func pidNamespace() string {
	link, err := os.Readlink("/proc/self/ns/pid")
	if err != nil || link == initPIDNamespace {
		return ""
	}
	if ino, ok := strings.CutPrefix(link, "pid:["); ok {
		return "pidns:" + strings.TrimSuffix(ino, "]")
	}
	return ""
}
