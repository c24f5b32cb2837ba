package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attnlab/attnlab/experiments"
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

// TestRunUnderUlimit: under ulimit -v or -d, run refuses before training
// a run estimated (with the margin) above all the limit leaves, says when
// one is estimated above the room (it may end in Go's fatal out of memory,
// which attnlab cannot catch), --quiet or not, and a small experiment
// trains within the limit without the note. The -d limits follow from the
// data segment the process is measured to start with.
func TestRunUnderUlimit(t *testing.T) {
	if raceBuild {
		t.Skip("the race detector reserves more address space than any ulimit -v this test could set")
	}
	const limitKiB = 3 << 20 // 3 GiB
	dir := t.TempDir()
	under := func(args ...string) *exec.Cmd { return underUlimit("-v "+strconv.Itoa(limitKiB), args...) }

	// A model estimated at several GiB, far above all that ulimit -v
	// leaves: refused before training, with exit 2 (not Go's fatal out of
	// memory once it has begun).
	big := writeIn(t, dir, "big.yaml", "name: big\ntask: {name: reverse, train_size: 40, valid_size: 4, test_size: 4}\n"+
		"model: {name: seq2seq-rnn, embed: 64, encoder: {name: lstm, hidden: 4096}, attention: {name: dot}}\n"+
		"train: {steps: 1, batch_size: 4}\nseeds: [1]\n")
	out, err := under("run", big, "--db", filepath.Join(dir, "big.db"), "--max-memory", "1TiB").CombinedOutput()
	want := big + ": model: the largest run is estimated at "
	if !strings.HasPrefix(string(out), want) || !strings.Contains(string(out), "that ulimit -v "+strconv.Itoa(limitKiB)+" (3.00 GiB) leaves beyond") ||
		strings.Contains(string(out), "fatal error") || exitStatus(err) != 2 {
		t.Errorf("run of a model estimated above all ulimit -v leaves: %v\n%s\nwant exit 2 and a line starting %q", err, out, want)
	}

	// Under a data-segment limit that leaves less than a run estimated at
	// 105 MiB, it is refused before it starts, --quiet or not, with one line
	// that gives what the limit leaves beyond what the process used when
	// it started; that measure then places the next limit.
	mid := writeIn(t, dir, "mid.yaml", "name: mid\ntask: {name: reverse}\nseeds: [1]\n")
	const smallKiB = 200000
	out, err = underUlimit("-d "+strconv.Itoa(smallKiB), "run", mid, "--db", filepath.Join(dir, "mid.db"), "-q").CombinedOutput()
	m := regexp.MustCompile(`^` + regexp.QuoteMeta(mid) + `: model: the largest run is estimated at ([0-9.]+ [KMG]iB), above the ([0-9.]+ [KMG]iB) that ulimit -d ` +
		strconv.Itoa(smallKiB) + ` \(.*\) leaves beyond what this process used when it started: it would end in Go's fatal "out of memory"`).FindSubmatch(out)
	if code := exitStatus(err); code != 2 || m == nil {
		t.Fatalf("run -q of a model needing more than ulimit -d %d leaves: exit %d\n%s\nwant exit 2 and the refusal", smallKiB, code, out)
	}
	est, err1 := experiments.ParseBytes(string(m[1]))
	free, err2 := experiments.ParseBytes(string(m[2]))
	if err1 != nil || err2 != nil || est <= 0 {
		t.Fatalf("refusal %q: estimate %v, free %v", out, err1, err2)
	}
	used := smallKiB<<10 - free // the data segment at start, as measured (about 112-125 MiB)
	// A limit whose room (beyond the allowance) is above minSoftLimit,
	// which then bounds the heap, and below headroom times the estimate:
	// the run may train (its estimate fits), so it gets the note, which
	// --quiet does not hide.
	room := int64(minSoftLimit) + (headroom*est-minSoftLimit)/2
	if room <= minSoftLimit || est > room+allowanceData {
		t.Fatalf("an estimate of %s leaves no limit between a refusal and a trained run without the note", experiments.FormatBytes(est))
	}
	midKiB := (used + allowanceData + room) >> 10
	note, said := firstNote(t, underUlimit("-d "+strconv.FormatInt(midKiB, 10), "run", mid, "--db", filepath.Join(dir, "mid2.db"), "-q"))
	if !strings.HasPrefix(note, "attnlab: note: ulimit -d "+strconv.FormatInt(midKiB, 10)+" ") {
		t.Errorf("run -q of a model estimated at %s under ulimit -d %d (%s at start): stderr began\n%s\nwant the note", experiments.FormatBytes(est), midKiB, experiments.FormatBytes(used), said)
	}

	// A small experiment trains under the same limit, without the note.
	out, err = under("run", "testdata/tiny.yaml", "--db", filepath.Join(dir, "tiny.db")).CombinedOutput()
	if err != nil || strings.Contains(string(out), "ulimit") {
		t.Errorf("run of a small experiment under ulimit -v: %v\n%s", err, out)
	}
}

// exitStatus returns the exit status of a command that ran with error
// err (0 for nil, -1 if it did not exit).
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
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

// TestRunUnderUlimitAllDone: under a limit that refuses an experiment's
// largest run, run of the same experiment whose runs are all stored done
// trains nothing, so it is not refused: it prints the table, exit 0, and
// creates no database when it refuses a new one. A seed not yet trained is
// still refused.
func TestRunUnderUlimitAllDone(t *testing.T) {
	if raceBuild {
		t.Skip("the race detector's shadow memory does not fit under ulimit -d 200000")
	}
	dir := t.TempDir()
	exp := writeIn(t, dir, "done.yaml", "name: done\ntask: {name: reverse, train_size: 40, valid_size: 4, test_size: 4}\n"+
		"model: {name: seq2seq-rnn, embed: 64, encoder: {name: lstm, hidden: 512}, attention: {name: dot}}\n"+
		"train: {steps: 1, batch_size: 4}\nseeds: [1]\n")
	db := filepath.Join(dir, "done.db")
	if out, err := underUlimit("-d unlimited", "run", exp, "--db", db, "-q").CombinedOutput(); err != nil {
		t.Fatalf("run without a limit: %v\n%s", err, out)
	}
	const limit = "-d 200000"
	refusal := exp + ": model: the largest run is estimated at "
	cmd := underUlimit(limit, "run", exp, "--db", db, "-q")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "done/seed=1") || strings.Contains(stderr.String(), "largest run") {
		t.Errorf("run under ulimit %s of an experiment whose runs are all done: %v\nstdout:\n%s\nstderr:\n%s\nwant the table, exit 0", limit, err, out, stderr.String())
	}
	out, err = underUlimit(limit, "run", exp, "--db", db, "-q", "--set", "seeds=[1,2]").CombinedOutput()
	if exitStatus(err) != 2 || !strings.HasPrefix(string(out), refusal) {
		t.Errorf("run under ulimit %s with a seed to train: %v\n%s\nwant exit 2 and a line starting %q", limit, err, out, refusal)
	}
	fresh := filepath.Join(dir, "fresh.db")
	out, err = underUlimit(limit, "run", exp, "--db", fresh, "-q").CombinedOutput()
	if exitStatus(err) != 2 || !strings.HasPrefix(string(out), refusal) {
		t.Errorf("run under ulimit %s into a new database: %v\n%s\nwant exit 2 and a line starting %q", limit, err, out, refusal)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a refused run left %s (stat: %v), want no database", fresh, err)
	}
}
