package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestProcStatusBytes(t *testing.T) {
	n, ok := procStatusBytes("VmSize:")
	if !ok || n < 1<<20 {
		t.Errorf("VmSize: %d, %v; want a size above 1 MiB", n, ok)
	}
	if _, ok := procStatusBytes("NoSuchLine:"); ok {
		t.Error("a missing line was found")
	}
}

// TestRunUnderUlimit: under ulimit -v, run says before training when a
// run is estimated above the room the limit leaves (it may end in Go's
// fatal out of memory, which attnlab cannot catch), and a small
// experiment trains within the limit without the note.
func TestRunUnderUlimit(t *testing.T) {
	if raceBuild {
		t.Skip("the race detector reserves more address space than any ulimit -v this test could set")
	}
	const limitKiB = 3 << 20 // 3 GiB
	dir := t.TempDir()
	under := func(args ...string) *exec.Cmd { return underUlimit("-v "+strconv.Itoa(limitKiB), args...) }

	// A model estimated at several GiB: the note comes before training
	// (the process is stopped once it has said it).
	big := writeIn(t, dir, "big.yaml", "name: big\ntask: {name: reverse, train_size: 40, valid_size: 4, test_size: 4}\n"+
		"model: {name: seq2seq-rnn, embed: 64, encoder: {name: lstm, hidden: 4096}, attention: {name: dot}}\n"+
		"train: {steps: 1, batch_size: 4}\nseeds: [1]\n")
	note, said := firstNote(t, under("run", big, "--db", filepath.Join(dir, "big.db"), "--max-memory", "1TiB"))
	if want := "attnlab: note: ulimit -v " + strconv.Itoa(limitKiB) + " (3.00 GiB) leaves about "; !strings.HasPrefix(note, want) || !strings.Contains(note, "may end in Go's fatal \"out of memory\"") {
		t.Errorf("run of a model estimated above the room under ulimit -v: stderr began\n%s\nwant a line starting %q", said, want)
	}

	// Under ulimit -d 350000 a run estimated at 105 MiB gets the note too:
	// the room (about 166 MiB) is less than its heap may map (it died there
	// without a word when the note compared the room with the estimate).
	mid := writeIn(t, dir, "mid.yaml", "name: mid\ntask: {name: reverse}\nseeds: [1]\n")
	note, said = firstNote(t, underUlimit("-d 350000", "run", mid, "--db", filepath.Join(dir, "mid.db")))
	if !strings.HasPrefix(note, "attnlab: note: ulimit -d 350000 ") {
		t.Errorf("run of a model estimated at 105 MiB under ulimit -d 350000: stderr began\n%s\nwant the note", said)
	}

	// A small experiment trains under the same limit, without the note.
	out, err := under("run", "testdata/tiny.yaml", "--db", filepath.Join(dir, "tiny.db")).CombinedOutput()
	if err != nil || strings.Contains(string(out), "ulimit") {
		t.Errorf("run of a small experiment under ulimit -v: %v\n%s", err, out)
	}
}

// firstNote starts cmd and returns the first line of its stderr that is a
// note about a ulimit ("" if none comes), with what it said until then;
// the process is stopped then.
func firstNote(t *testing.T, cmd *exec.Cmd) (string, string) {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	var said []string
	note := ""
	for sc := bufio.NewScanner(stderr); sc.Scan() && note == ""; {
		said = append(said, sc.Text())
		if strings.HasPrefix(sc.Text(), "attnlab: note: ulimit ") {
			note = sc.Text()
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	return note, strings.Join(said, "\n")
}

// underUlimit is this test binary as attnlab's main with args, in a shell
// that sets ulimit flags (such as "-v 3145728") first.
func underUlimit(flags string, args ...string) *exec.Cmd {
	cmd := exec.Command("bash", append([]string{"-c", `ulimit ` + flags + ` && exec "$0" "$@"`, os.Args[0]}, args...)...)
	cmd.Env = append(os.Environ(), cliMainEnv+"=1")
	return cmd
}

// TestSmallRoomNoSoftLimit: a limit that leaves little room beyond what
// the process starts with does not become the Go soft memory limit, which
// would make the collector run nearly all the time: a small run under
// ulimit -d 180000 collects about as often as without it (15 times; a
// soft limit of the room, floored at 1 MiB, made it 56).
func TestSmallRoomNoSoftLimit(t *testing.T) {
	if raceBuild {
		t.Skip("the race detector's shadow memory does not fit under ulimit -d 180000")
	}
	cmd := underUlimit("-d 180000", "run", "testdata/tiny.yaml", "--db", filepath.Join(t.TempDir(), "t.db"), "-q")
	cmd.Env = append(cmd.Env, "GODEBUG=gctrace=1")
	out, err := cmd.CombinedOutput()
	gcs := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "gc ") {
			gcs++
		}
	}
	t.Logf("%d collections", gcs)
	if err != nil || gcs > 30 {
		t.Errorf("run of tiny.yaml under ulimit -d 180000: %v, %d collections (want at most 30)\n%s", err, gcs, out)
	}
}
