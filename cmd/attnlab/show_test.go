package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
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
}

func TestShowUnknownRun(t *testing.T) {
	db := sharedDB(t)
	wantError(t, attnlab(t, "show", "99", "--db", db), exitUsage, `show: no run "99" in `+db, "attnlab ls runs --db "+db)
	wantError(t, attnlab(t, "show", "ffffffff", "--db", db), exitUsage, `no run "ffffffff"`)
	wantError(t, attnlab(t, "show", "ab", "--db", db), exitUsage, "at least 4 characters")
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
