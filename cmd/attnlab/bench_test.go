package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBench(t *testing.T) {
	r := attnlab(t, "bench", "W2", "W5", "--steps", "1", "--lengths", "64,128", "--repeats", "1")
	wantOK(t, r)
	for _, want := range []string{"W2", "tokens/s", "busy", "softmax", "chunked", "linear", "growth"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	// bench prints only what it measured: PyTorch's figures come from
	// --compare, never from the binary.
	if strings.Contains(r.stdout, "PyTorch") {
		t.Errorf("output without --compare shows PyTorch figures:\n%s", r.stdout)
	}
	wantError(t, attnlab(t, "bench", "W9"), exitUsage, `unknown workload "W9"`)
	wantError(t, attnlab(t, "bench", "--steps", "-1"), exitUsage, "bench: --steps -1: must be from 0 to 100000 (0: as torch_ref.py)")
	wantError(t, attnlab(t, "bench", "--threads", "2000"), exitUsage, "bench: --threads 2000: must be from 1 to 1024")
	// A flag of workloads not selected would be ignored.
	wantError(t, attnlab(t, "bench", "W1", "--lengths", "256"), exitUsage, "bench: --lengths applies to W5 only, not to W1")
	wantError(t, attnlab(t, "bench", "W6", "--steps", "3"), exitUsage, "bench: --steps applies to W1, W2, W3, W4 only, not to W6")
	wantError(t, attnlab(t, "bench", "W5", "--lengths", ""), exitUsage, `invalid argument "" for "--lengths" flag: not a whole number`)
	none := filepath.Join(t.TempDir(), "none.json")
	wantError(t, attnlab(t, "bench", "W4", "--compare", none), exitUsage, "attnlab: bench: --compare: read PyTorch figures: "+none+": does not exist")
}

func TestBenchW6(t *testing.T) {
	r := attnlab(t, "bench", "W6", "--sentences", "64", "--generate", "4", "--compare", "testdata/torch.json")
	wantOK(t, r)
	for _, want := range []string{"W6", "greedy", "beam5", "lm-cache", "lm-nocache", "sentences/s", "tokens/s", "57.0"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	wantError(t, attnlab(t, "bench", "W6", "--sentences", "0"), exitUsage, "bench: --sentences 0: must be from 1 to 100000")
}

func TestBenchCompareAndJSON(t *testing.T) {
	out := filepath.Join(t.TempDir(), "attnlab.json")
	r := attnlab(t, "bench", "W4", "--steps", "1", "--compare", "testdata/torch.json", "--json", out)
	wantOK(t, r)
	for _, want := range []string{"PyTorch tokens/s", "21,479", "×"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0]["kind"] != "train" || rows[0]["workload"] != "W4" || !(rows[0]["tok_per_s"].(float64) > 0) {
		t.Fatalf("--json wrote %s", data)
	}
}

// TestBenchFitsWidth: at 80 columns bench leaves out the columns that are
// also in --json (params, allocs/step, MiB/step; PyTorch's MiB) so that no
// line is wider than the terminal; at 200 it shows them.
func TestBenchFitsWidth(t *testing.T) {
	args := []string{"bench", "W4", "W5", "W6", "--steps", "1", "--lengths", "64", "--repeats", "1",
		"--sentences", "64", "--generate", "4", "--compare", "testdata/torch.json"}
	narrow := attnlab(t, append(args, "--width", "80")...)
	wantOK(t, narrow)
	for _, line := range strings.Split(narrow.stdout, "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("line of %d columns at --width 80: %q", n, line)
		}
	}
	for _, gone := range []string{"allocs/step", "PyTorch MiB"} {
		if strings.Contains(narrow.stdout, gone) {
			t.Errorf("--width 80 shows %q:\n%s", gone, narrow.stdout)
		}
	}
	wide := attnlab(t, append(args, "--width", "200")...)
	wantOK(t, wide)
	for _, want := range []string{"allocs/step", "MiB/step", "PyTorch MiB", "PyTorch tokens/s"} {
		if !strings.Contains(wide.stdout, want) {
			t.Errorf("--width 200 lacks %q:\n%s", want, wide.stdout)
		}
	}
}

// TestBenchBounds: sizes that would exhaust memory or run for hours are
// refused with one line before anything is measured.
func TestBenchBounds(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "W5", "--lengths", "100000000"},
		{"bench", "W5", "--repeats", "1000000"},
		{"bench", "W6", "--sentences", "100000000"},
		{"bench", "W6", "--generate", "100000000"},
		{"bench", "W5", "--lengths", "16,16"}, // no growth exponent from one length
	} {
		r := attnlab(t, args...)
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line", args, r.code, r.stderr)
		}
	}
}

// TestBenchWorkloadTwice: a workload named twice is refused, as a length
// given twice is (W1 W1 measured W1 twice, while W5 W5 measured W5 once).
func TestBenchWorkloadTwice(t *testing.T) {
	r := attnlab(t, "bench", "W1", "w1", "--steps", "1")
	if r.code != 2 || strings.TrimSpace(r.stderr) != "attnlab: bench: workload W1 given twice (each workload is measured once)" || r.stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, one line naming W1, nothing measured", r.code, r.stdout, r.stderr)
	}
}

// TestBenchCompareEmpty: an empty --compare, or an empty name in its list,
// is one line and exit 2 before anything is measured (--compare "" measured
// without PyTorch's figures, saying nothing; "a.json," read a file named "").
func TestBenchCompareEmpty(t *testing.T) {
	for _, c := range []string{"", ",", "torch.json,", "torch.json --compare ", " --compare torch.json"} {
		// A space splits c into repeated --compare flags: --compare x.json
		// --compare '' read as x.json alone.
		args := []string{"bench", "W1", "--steps", "1"}
		for _, v := range strings.Split(c, " --compare ") {
			args = append(args, "--compare", v)
		}
		r := attnlab(t, args...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, "attnlab: bench: --compare ") || !strings.Contains(r.stderr, "an empty file name") ||
			strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || r.stdout != "" {
			t.Errorf("--compare %q: exit %d, stdout %q, stderr %q; want exit 2, one line, nothing measured", c, r.code, r.stdout, r.stderr)
		}
	}
}

// TestWorkersBound: --workers beyond maxWorkers is one line, exit 2.
func TestWorkersBound(t *testing.T) {
	for _, args := range [][]string{
		{"run", "x.yaml", "-j", "5000"},
		{"worker", "-j", "5000"},
	} {
		r := attnlab(t, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "--workers 5000") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming --workers", args, r.code, r.stderr)
		}
	}
}

// TestRatioText: a ratio keeps at most five characters before its ×,
// however far a stalled measurement throws it.
func TestRatioText(t *testing.T) {
	for x, want := range map[float64]string{0.934: "0.93×", 1.5: "1.50×", 12.44: "12.4×", 180.35: "180×", 12345.6: "12346×"} {
		if got := ratioText(x); got != want {
			t.Errorf("ratioText(%g) = %q, want %q", x, got, want)
		}
	}
}
