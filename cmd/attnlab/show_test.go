package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/store"
)

func TestShow(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	r := attnlab(t, "show", id(run), "--db", db)
	wantOK(t, r)
	for _, want := range []string{
		"run " + id(run) + " of experiment tiny\n",
		"  name      " + run.Name() + "\n",
		"  hash      " + run.Hash + "\n",
		"  point     model.attention.name=additive\n",
		"  status    done (attempt 1)\n",
		"\nsummaries\n", "  test/exact_match  ", "  model/params  ",
		"\nsamples (5 shown of the 8 stored; ", "source", "output", "reference",
		"\nartifacts  ", "model/params.safetensors",
		"\nconfig\n", "  model:\n", "    attention:\n      dim: 0\n      name: additive\n", "  seed: " + fmt.Sprint(run.Seed) + "\n",
		"    length_buckets: [10, 20, 40, 80, 160]\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show lacks %q", want)
		}
	}
	// A fraction of 0 reads as one (0.0000 beside 0.1000), a count of 0 as
	// a count.
	for _, re := range []string{`\n  test/majority_exact_match/len_1_10 +0\.0000\n`, `\n  test/src_in_train +0\.0000\n`, `\n  train/examples/len_11_20 +0\n`} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("show does not match %s", re)
		}
	}
	if strings.Count(r.stdout, "✓")+strings.Count(r.stdout, "✗") != 5 {
		t.Errorf("show: want 5 samples marked ✓ or ✗\n%s", r.stdout)
	}
	if t.Failed() {
		t.Logf("show:\n%s", r.stdout)
	}

	// The hash prefix names the same run; --samples changes the count.
	byHash := attnlab(t, "show", run.Hash[:6], "--db", db)
	wantOK(t, byHash)
	if byHash.stdout != r.stdout {
		t.Errorf("show by hash prefix differs from show by id")
	}
	byName := attnlab(t, "show", "tiny/additive/seed="+fmt.Sprint(run.Seed), "--db", db)
	wantOK(t, byName)
	if byName.stdout != r.stdout {
		t.Errorf("show by name differs from show by id")
	}
	all := attnlab(t, "show", id(run), "--db", db, "--samples", "-1")
	if !strings.Contains(all.stdout, "samples (8 shown of the 8 stored") {
		t.Errorf("--samples -1 does not show every sample")
	}
}

func TestShowJSON(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"none"`)
	r := attnlab(t, "show", id(run), "--json", "--db", db)
	wantOK(t, r)
	var v struct {
		ID        int64
		Status    string
		Config    map[string]any
		Summaries map[string]any
		Samples   []map[string]any
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("show --json: %v\n%s", err, r.stdout)
	}
	if v.ID != run.ID || v.Status != "done" || v.Config["name"] != "tiny" || v.Summaries["test/exact_match"] == nil || len(v.Samples) != 8 {
		t.Errorf("show --json: %+v", v)
	}
	// --samples given applies to JSON too (by default JSON has them all).
	for _, n := range []int{0, 2} {
		r := attnlab(t, "show", id(run), "--json", "-n", fmt.Sprint(n), "--db", db)
		wantOK(t, r)
		var w struct {
			Samples       []map[string]any
			SamplesStored int `json:"samples_stored"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &w); err != nil {
			t.Fatalf("show --json -n %d: %v\n%s", n, err, r.stdout)
		}
		if len(w.Samples) != n || w.SamplesStored != 8 || w.Samples == nil {
			t.Errorf("show --json -n %d: %d samples of %d stored (%v); want %d of 8", n, len(w.Samples), w.SamplesStored, w.Samples, n)
		}
	}
}

// TestShowUnreadableArtifact: a stored samples artifact that does not
// decode costs its section only: show prints the run's status, summaries
// and config, and says on stderr what it could not read.
func TestShowUnreadableArtifact(t *testing.T) {
	db := filepath.Join(t.TempDir(), "copy.db")
	wantOK(t, attnlab(t, "sync", "--from", sharedDB(t), "--to", db, "-e", "tiny"))
	run := runOf(t, db, "tiny", `"additive"`)
	st, err := store.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutArtifact(context.Background(), run.ID, artifact.KindSamples, artifact.NameSamples, []byte("\x00\xff\x00")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, args := range [][]string{{"-n", "0"}, {}, {"--json"}} {
		r := attnlab(t, append([]string{"show", id(run), "--db", db}, args...)...)
		wantOK(t, r)
		if !strings.Contains(r.stdout, "test/exact_match") || !strings.Contains(r.stderr, "run "+id(run)+": the stored samples") ||
			!strings.Contains(r.stderr, "unreadable") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("show %v of a run with an unreadable samples artifact:\nstdout %s\nstderr %s", args, r.stdout, r.stderr)
		}
		if slices.Contains(args, "--json") {
			// How many samples it holds is unknown, not 0.
			var got map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatal(err)
			}
			if stored, ok := got["samples_stored"]; !ok || stored != nil || len(got["unreadable"].([]any)) != 1 {
				t.Errorf("show --json of a run with an unreadable samples artifact: samples_stored %v (want null), unreadable %v", got["samples_stored"], got["unreadable"])
			}
		}
	}
}

func TestShowUnknownRun(t *testing.T) {
	db := sharedDB(t)
	wantError(t, attnlab(t, "show", "99", "--db", db), exitUsage, `show: no run "99" in `+db, "attnlab ls runs --db "+db)
	wantError(t, attnlab(t, "show", "ffffffff", "--db", db), exitUsage, `no run "ffffffff"`)
	wantError(t, attnlab(t, "show", "ab", "--db", db), exitUsage, "at least 4 characters")
	// An experiment's name where a run was wanted.
	wantError(t, attnlab(t, "show", "tiny", "--db", db), exitUsage, `show: "tiny" is an experiment, not a run: attnlab ls runs --db `, " --experiment tiny lists its runs")
}

func TestShowLM(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tinylm", "")
	r := attnlab(t, "show", id(run), "--db", db)
	wantOK(t, r)
	if !strings.Contains(r.stdout, "test prompts and their continuations") || strings.Contains(r.stdout, "✗") {
		t.Errorf("show of an LM run:\n%s", r.stdout)
	}
}
