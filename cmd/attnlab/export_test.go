package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/store"
)

func TestExport(t *testing.T) {
	db := sharedDB(t)
	r := attnlab(t, "export", "tiny", "--db", db)
	wantOK(t, r)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != 5 {
		t.Fatalf("export csv: %v: want a header and 4 runs\n%s", err, r.stdout)
	}
	head := strings.Join(rows[0], ",")
	for _, col := range []string{"id", "hash", "seed", "status", "model.attention.name", "test/exact_match"} {
		if !strings.Contains(head, col) {
			t.Errorf("export csv header lacks %s", col)
		}
	}

	path := filepath.Join(t.TempDir(), "tiny.csv")
	o := attnlab(t, "export", "tiny", "-o", path, "--db", db)
	wantOK(t, o)
	if o.stdout != "wrote "+path+"\n" {
		t.Errorf("export -o printed %q, want the file it wrote, as plot does", o.stdout)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != r.stdout {
		t.Errorf("export -o wrote %q (%v), want what stdout got", data, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".tiny.csv.*")); len(left) > 0 {
		t.Errorf("export left temporary files: %v", left)
	}

	j := attnlab(t, "export", "tinylm", "--format", "json", "--db", db)
	wantOK(t, j)
	var runs []map[string]any
	if err := json.Unmarshal([]byte(j.stdout), &runs); err != nil || len(runs) != 1 || runs[0]["experiment"] != "tinylm" {
		t.Errorf("export json: %v\n%s", err, j.stdout)
	}
}

func TestExportErrors(t *testing.T) {
	db := sharedDB(t)
	wantError(t, attnlab(t, "export", "nope", "--db", db), exitUsage, `"nope"`, "tiny, tinylm")
	missing := filepath.Join(t.TempDir(), "no", "dir", "x.csv")
	wantError(t, attnlab(t, "export", "tiny", "-o", missing, "--db", db), exitFailure, "no such file or directory")
	x := filepath.Join(t.TempDir(), "x.json")
	wantError(t, attnlab(t, "export", "tiny", "-o", x, "-f", "csv", "--db", db), exitUsage, "-o "+x+" is a .json file, but --format is csv: drop --format, or name the file .csv")
	wantError(t, attnlab(t, "export", "tiny", "-f", "xml", "--db", db), exitUsage, `--format "xml": unknown format (known: csv, json)`)
	if r := attnlab(t, "export", "tiny", "-f", "JSON", "--db", db); r.code != exitOK || !strings.HasPrefix(r.stdout, "[") {
		t.Errorf("export -f JSON: %v", r)
	}
}

// TestExportFormatFromName: without --format, -o's extension (.json,
// .csv, any case) names the format; anything else is CSV.
func TestExportFormatFromName(t *testing.T) {
	db := sharedDB(t)
	dir := t.TempDir()
	for _, tc := range []struct{ name, starts string }{{"a.json", "["}, {"b.JSON", "["}, {"c.csv", "id,"}, {"d.txt", "id,"}} {
		path := filepath.Join(dir, tc.name)
		wantOK(t, attnlab(t, "export", "tiny", "-o", path, "--db", db))
		b, err := os.ReadFile(path)
		if err != nil || !strings.HasPrefix(string(b), tc.starts) {
			t.Errorf("export -o %s wrote %.40q (%v), want it to start with %q", tc.name, b, err, tc.starts)
		}
	}
	if r := attnlab(t, "export", "tiny", "--db", db); r.code != exitOK || !strings.HasPrefix(r.stdout, "id,") {
		t.Errorf("export to stdout: %.60q", r.stdout)
	}
}

// rmOnWrite runs attnlab rm of a run at the first write to stdout: a
// removal that commits while export --curves writes, between its reads of
// a run's pages.
type rmOnWrite struct {
	t    *testing.T
	db   string
	run  string
	done bool
	rm   result
	n    int // lines written
}

func (w *rmOnWrite) Write(p []byte) (int, error) {
	if !w.done {
		w.done = true
		w.rm = attnlab(w.t, "rm", w.run, "--db", w.db)
	}
	w.n += bytes.Count(p, []byte("\n"))
	return len(p), nil
}

// TestExportCurvesRunRemoved: an attnlab rm of a run that export --curves
// is writing (its 25 000 points read in pages of 10 000, the rm after the
// first) fails the export: exit status 1, one line naming the run. (With
// -o, the error leaves no file: safeout.TestWriteErrorLeavesNothing.)
func TestExportCurvesRunRemoved(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lab.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exp, err := st.PutExperiment(ctx, "long", "", "name: long\n")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.EnsureRuns(ctx, exp, []store.RunSpec{{Hash: "aaaa0001", Seed: 1, Config: "{}"}, {Hash: "aaaa0002", Seed: 2, Config: "{}"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		w := st.NewMetricWriter(r.ID, 0)
		for step := range 25_000 {
			if err := w.Log(step, "train/loss", float64(step)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	id := strconv.FormatInt(runs[0].ID, 10)
	var errb bytes.Buffer
	out := &rmOnWrite{t: t, db: db, run: id}
	code := execute(ctx, []string{"export", "long", "--curves", "--db", db}, strings.NewReader(""), out, &errb)
	wantOK(t, out.rm)
	wantError(t, result{code: code, stderr: errb.String()}, exitFailure, "run "+id+" (long/seed=1)", "removed during the export", "export again")
	// One clean line: the command's name once ("attnlab: export: export:
	// run 1" stuttered).
	if want := "attnlab: export: run " + id + " (long/seed=1) was started again or removed during the export: its rows may be missing or cut; export again\n"; errb.String() != want {
		t.Errorf("stderr %q, want %q", errb.String(), want)
	}
	// At most the header and the first page of run 1 (the CSV writer's
	// last buffered 4 KB of it is not flushed): its next read finds it
	// gone, and the export stops there, before run 2.
	if most := 1 + 10_000; out.n > most {
		t.Errorf("stdout got %d lines, want at most %d: run 1 cut after its first page, then the export stopped", out.n, most)
	}
}
