package main

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	db := sharedDB(t)
	r := attnlab(t, "compare", "tiny", "--db", db)
	wantOK(t, r)
	// The BLEU and chrF columns are shown by default, and under the table
	// the signatures stored with the runs' scores.
	for _, want := range []string{"attention.", "none", "additive", "test/", "exact_match", "bleu", "chrf", "mean ± std",
		"\nsacreBLEU signatures of the scores:\ntest/bleu: BLEU|nrefs:1|case:mixed|eff:no|tok:char|smooth:exp|version:", // tiny is char-tokenized
		"\ntest/chrf: chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("compare lacks %q\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "(baseline)") {
		t.Errorf("compare without --baseline shows one:\n%s", r.stdout)
	}
	// --status any, which the notes name, is a status the flag takes.
	a := attnlab(t, "compare", "tiny", "--status", "any", "--db", db)
	wantOK(t, a)
	if !strings.Contains(a.stdout, "Runs of every status (--status any)") || strings.Contains(a.stdout, "* best") {
		t.Errorf("compare --status any: want its note and no row marked best:\n%s", a.stdout)
	}
	wantOK(t, attnlab(t, "ls", "runs", "--status", "any", "--db", db))
	b := attnlab(t, "compare", "tiny", "--baseline", "attention.name=none", "--db", db)
	wantOK(t, b)
	if !strings.Contains(b.stdout, "(baseline)") || !strings.Contains(b.stdout, "p=") && !strings.Contains(b.stdout, "p<") {
		t.Errorf("compare --baseline:\n%s", b.stdout)
	}
	// tiny's rows share their seeds: the paired test, unless --unpaired.
	if !strings.Contains(b.stdout, "paired t-test over seeds") {
		t.Errorf("compare --baseline does not name the paired test:\n%s", b.stdout)
	}
	u := attnlab(t, "compare", "tiny", "--baseline", "attention.name=none", "--unpaired", "--db", db)
	wantOK(t, u)
	if !strings.Contains(u.stdout, "seeds not paired (--unpaired)") || strings.Contains(u.stdout, "paired t-test") {
		t.Errorf("compare --unpaired:\n%s", u.stdout)
	}
}

func TestCompareFormats(t *testing.T) {
	db := sharedDB(t)
	r := attnlab(t, "compare", "tiny", "--format", "csv", "--metrics", "test/exact_match,test/loss", "--db", db)
	wantOK(t, r)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("compare --format csv: %v\n%s", err, r.stdout)
	}
	if !strings.Contains(strings.Join(rows[0], ","), "test/exact_match_mean") || !strings.Contains(strings.Join(rows[0], ","), "test/loss_std") {
		t.Errorf("csv header: %q", rows[0])
	}
	j := attnlab(t, "compare", "--format", "json", "--db", db, "--where", "experiment = tiny and model.attention.name = additive")
	wantOK(t, j)
	var v map[string]any
	if err := json.Unmarshal([]byte(j.stdout), &v); err != nil {
		t.Fatalf("compare --format json: %v\n%s", err, j.stdout)
	}
	if rows, _ := v["rows"].([]any); len(rows) != 1 {
		t.Errorf("compare --where selected %d rows, want 1:\n%s", len(rows), j.stdout)
	}
	md := attnlab(t, "compare", "tiny", "-f", "markdown", "--sort", "test/exact_match", "--db", db)
	wantOK(t, md)
	if !strings.Contains(md.stdout, "|:--") && !strings.Contains(md.stdout, "|:-") {
		t.Errorf("compare --format markdown:\n%s", md.stdout)
	}
}

func TestCompareErrors(t *testing.T) {
	db := sharedDB(t)
	wantError(t, attnlab(t, "compare", "nope", "--db", db), exitUsage, `compare: `, `"nope"`, "tiny, tinylm")
	wantError(t, attnlab(t, "compare", "tiny", "--metrics", "nope", "--db", db), exitUsage, `unknown metric "nope"`)
	wantError(t, attnlab(t, "compare", "tiny", "--sort", "nope", "--db", db), exitUsage, `unknown sort metric "nope"`)
	// As the dashboard says it: a sign without a name, not an unknown " - ".
	wantError(t, attnlab(t, "compare", "tiny", "--sort", " - ", "--db", db), exitUsage, `sort "-": the - needs a metric name after it`)
	wantError(t, attnlab(t, "compare", "tiny", "--baseline", "attention.name=dot", "--db", db), exitUsage, "baseline", "matches no row")
	// A key that names nothing is a mistake in the command line: exit 2,
	// whichever flag gives it.
	wantError(t, attnlab(t, "compare", "tiny", "--where", "atention.name = dot", "--db", db), exitUsage,
		`--where: unknown key "atention.name" (closest: model.attention.name`)
	wantError(t, attnlab(t, "compare", "tiny", "--by", "atention.name", "--db", db), exitUsage, `--by: unknown key "atention.name"`)
	wantError(t, attnlab(t, "compare", "tiny", "--baseline", "atention.name=none", "--db", db), exitUsage, `"atention.name" is not a group key`)
	wantError(t, attnlab(t, "plot", "curves", "tiny", "--where", "sed = 1", "-o", filepath.Join(t.TempDir(), "c.png"), "--db", db), exitUsage,
		`--where: unknown key "sed"`)
	wantError(t, attnlab(t, "compare", "tiny", "--status", "failed", "--db", db), exitFailure, "no failed runs")
}

// TestCompareEmptyListItem: an empty item in a list flag (--by "", a stray
// comma, --by a --by "") is one line and exit 2 naming the flag, before
// the database is opened; pflag dropped an empty value, so --by ""
// grouped by every key that varies and --metrics "" showed the default
// metrics, without a word.
func TestCompareEmptyListItem(t *testing.T) {
	db := filepath.Join(t.TempDir(), "none.db") // never opened
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", "tiny", "--by", ""}, `compare: --by "": an empty key`},
		{[]string{"compare", "tiny", "--by", "attention.name", "--by", ""}, `compare: --by "": an empty key`},
		{[]string{"compare", "tiny", "--by", "a,", "--pool", "b"}, `compare: --by "a,": an empty key`},
		{[]string{"compare", "tiny", "--by", "a", "--pool", ",b"}, `compare: --pool ",b": an empty key`},
		{[]string{"compare", "tiny", "--metrics", ""}, `compare: --metrics "": an empty metric`},
		{[]string{"plot", "curves", "tiny", "--by", "", "-o", filepath.Join(t.TempDir(), "c.png")}, `plot curves: --by "": an empty key`},
	} {
		wantError(t, attnlab(t, append(tc.args, "--db", db)...), exitUsage, tc.want)
	}
}
