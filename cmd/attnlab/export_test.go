package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
