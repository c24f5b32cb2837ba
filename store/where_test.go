package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseWhereCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`model.attention.name in (dot, additive) and test/exact_match > 0.9`, `model.attention.name in (dot, additive) and test/exact_match > 0.9`},
		{`not (seed = 1 or train.lr >= 1e-3)`, `not (seed = 1 or train.lr >= 0.001)`},
		{`task.name != "scan"`, `task.name != scan`},
		{`a=1 AND b==2 Or NOT c<>3`, `(a = 1 and b = 2) or not c != 3`},
		{`a = 1 and b = 2 and c = 3`, `a = 1 and b = 2 and c = 3`},
		{`a = 1 or (b = 2 or c = 3)`, `a = 1 or (b = 2 or c = 3)`},
		{`x not in ('a b', "it's", "say \"hi\"")`, `x not in ("a b", "it's", "say \"hi\"")`},
		{`flag = true and other = "true" and n = "12" and m = -2.5E+3`, `flag = true and other = "true" and n = "12" and m = -2500`},
		{`test/loss = NaN or test/loss > inf or test/loss < -Inf`, `test/loss = nan or test/loss > inf or test/loss < -inf`},
		{`"odd key!" = 'and'`, `"odd key!" = "and"`},
		{`model.attention.name = scaled-dot`, `model.attention.name = scaled-dot`},
		{`tab = "a\tb\n"`, `tab = "a\tb\n"`},
		{`status in (done, failed) and experiment = 2024`, `status in (done, failed) and experiment = "2024"`},
		{`größe = wert`, `größe = wert`},
		{`((((a = 1))))`, `a = 1`},
		{`a = 0e-400 or b = -0.000e-999 or c = 5e-324`, `a = 0 or b = -0 or c = 5e-324`},
		{`experiment = 1e-400 or variant in (1e999, 2e-999)`, `experiment = "1e-400" or variant in ("1e999", "2e-999")`},
		// Whole numbers as typed, not 2.0240101e+07; larger ones shortest.
		{`seed = 20240101 or model.embed >= 1e6 or id in (9007199254740991, -123456789)`, `seed = 20240101 or model.embed >= 1000000 or id in (9007199254740991, -123456789)`},
		{`train.lr < 1e-7 or x = 1e20 or y = 2.5e6`, `train.lr < 1e-07 or x = 1e+20 or y = 2500000`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			c, err := ParseWhere(tc.in)
			if err != nil {
				t.Fatalf("ParseWhere(%q): %v", tc.in, err)
			}
			if got := c.String(); got != tc.want {
				t.Fatalf("ParseWhere(%q).String() = %q, want %q", tc.in, got, tc.want)
			}
			again, err := ParseWhere(c.String())
			if err != nil || again.String() != c.String() {
				t.Fatalf("reparsing %q gives %v, %v", c.String(), again, err)
			}
		})
	}
}

func TestParseWhereErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`task.name in (dot, )`, `where: col 20: expected a value, got ')'`},
		{`model.attention = )`, `where: col 19: expected a value, got ')'`},
		{``, `where: col 1: empty filter`},
		{`   `, `where: col 4: empty filter`},
		{`a = 1 and`, `where: col 10: expected a key, got the end of the filter`},
		{`a = 1 b = 2`, `where: col 7: expected 'and', 'or' or the end, got 'b'`},
		{`a`, `where: col 2: expected an operator (= != < <= > >= in) after 'a', got the end of the filter`},
		{`a ~ 1`, `where: col 3: unexpected character '~'`},
		{`a ! 1`, `where: col 3: unexpected '!' (did you mean '!='?)`},
		{`a = "abc`, `where: col 5: unterminated string`},
		{`a = "x\q"`, `where: col 7: unknown escape '\q' in string`},
		{`(a = 1`, `where: col 7: expected ')' to close the '(' at col 1, got the end of the filter`},
		{`a in 1`, `where: col 6: expected '(' to start the list, got '1'`},
		{`a in (1 2)`, `where: col 9: expected ',' or ')' in the list, got '2'`},
		{`a not = 1`, `where: col 7: expected 'in' after 'not', got '='`},
		{`1 = a`, `where: col 1: expected a key, got the number '1'`},
		{`and = 1`, `where: col 1: expected a key, got 'and'`},
		{`a = and`, `where: col 5: expected a value, got 'and'`},
		{`test/bleu > high`, `where: col 13: test/bleu compares with numbers (it is a metric), got text 'high'`},
		{`test/bleu = true`, `where: col 13: test/bleu compares with numbers (it is a metric), got bool 'true'`},
		{`seed = one`, `where: col 8: seed compares with numbers, got text 'one'`},
		{`seed = "1"`, `where: col 8: seed compares with numbers, got text '"1"'`},
		{`seed = 'zzqq'`, `where: col 8: seed compares with numbers, got text 'zzqq'`}, // not ''zzqq''
		{`seed = 'it\'s'`, `where: col 8: seed compares with numbers, got text 'it\'s'`},
		{`seed = 1.5`, `where: col 8: seed is a whole number, got '1.5'`},
		// Beyond 2^53 a float64 is not exact: 12345678901234567 would be
		// read as 12345678901234568, and match that seed instead.
		{`seed = 12345678901234567`, `where: col 8: seed is a whole number up to 9007199254740991 in a filter (beyond, numbers are not exact), got '12345678901234567'`},
		{`seed = 99999999999999999999`, `where: col 8: seed is a whole number up to 9007199254740991 in a filter (beyond, numbers are not exact), got '99999999999999999999'`},
		{`id in (1, 9007199254740993)`, `where: col 11: id is a whole number up to 9007199254740991 in a filter (beyond, numbers are not exact), got '9007199254740993'`},
		{`seed > -9007199254740992`, `where: col 8: seed is a whole number up to 9007199254740991 in a filter (beyond, numbers are not exact), got '-9007199254740992'`},
		{`id in (1, 2.5)`, `where: col 11: id is a whole number, got '2.5'`},
		{`seed > -inf`, `where: col 8: seed is a whole number, got '-inf'`},
		{`status = finished`, `where: col 10: unknown status 'finished' (known: queued, running, done, failed, interrupted)`},
		{`status > done`, `where: col 8: status compares only with = != in, got '>'`},
		{`flag < true`, `where: col 6: true and false compare only with = != in, got '<'`},
		{`test/bleu > nan`, `where: col 13: nan is neither below nor above any value: test/bleu > nan would match no run (= nan matches a NaN value)`},
		{`a <= -NaN`, `where: col 6: nan is neither below nor above any value: a <= nan would match no run (= nan matches a NaN value)`},
		{`a = 1e999`, `where: col 5: number 1e999 is out of range`},
		{`x > 1e-400`, `where: col 5: number 1e-400 is out of range (too close to 0: it would read as 0)`},
		{`test/loss in (1, -2.5E-999)`, `where: col 18: number -2.5E-999 is out of range (too close to 0: it would read as 0)`},
		{`seed = .1e-330`, `where: col 8: number .1e-330 is out of range (too close to 0: it would read as 0)`},
		{"a = \xff", `where: col 5: invalid UTF-8`},
		{"a \"x\ny\"", `where: col 3: expected an operator (= != < <= > >= in) after 'a', got '"x\ny"'`},
		{"a = \"\\\n\"", `where: col 6: unknown escape '\\n' in string`},
		{`; DROP TABLE runs`, `where: col 1: unexpected character ';'`},
		{`a = 1; DROP TABLE runs`, `where: col 6: unexpected character ';'`},
		{`é = ü;`, `where: col 6: unexpected character ';'`},
		{strings.Repeat("(", 65) + "a = 1" + strings.Repeat(")", 65), `where: col 65: filter nested more than 64 deep`},
		{strings.Repeat("not ", 65) + "a = 1", `where: col 257: filter nested more than 64 deep`},
		{"a in (" + strings.Repeat("1, ", 256) + "1)", `where: col 775: filter has more than 256 comparisons`},
		{strings.Repeat("a", 9000), `where: filter is 9000 bytes long; the limit is 8192`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			c, err := ParseWhere(tc.in)
			if err == nil {
				t.Fatalf("ParseWhere(%q) = %v, want error %q", tc.in, c, tc.want)
			}
			if err.Error() != tc.want {
				t.Fatalf("ParseWhere(%q) error = %q, want %q", tc.in, err, tc.want)
			}
		})
	}
}

// whereStore holds six runs with known params and summaries (the runs
// with summaries are done; a summary of a run not done is not its value,
// testWhereUnfinished):
//
//	hash  status  attention   lr     seed task  extra           test/exact_match  test/bleu
//	r0    done    dot         1e-3   1    scan  bidir=true      0.95              NaN
//	r1    done    additive    1e-4   2    scan                  0.5               0.3
//	r2    done    general     1e-2   1    copy                  0.99              +Inf
//	r3    queued  dot         3e-4   3    copy
//	r4    queued  dot         1e-3   2    scan  tag="1"
//	r5    done    scaled-dot  1e-3   3    -     tag=1           -Inf
func whereStore(tb testing.TB) *Store {
	tb.Helper()
	s := newStore(tb)
	ctx := context.Background()
	id, err := s.PutExperiment(ctx, "sweep", "", "")
	if err != nil {
		tb.Fatal(err)
	}
	p := func(att string, lr float64, seed int, task string, extra ...Param) []Param {
		ps := []Param{{"model.attention.name", att}, {"train.lr", lr}, {"seed", seed}}
		if task != "" {
			ps = append(ps, Param{"task.name", task})
		}
		return append(ps, extra...)
	}
	specs := []RunSpec{
		{Hash: "r0", Seed: 1, Config: `{}`, Point: `{"variant":"small"}`, Params: p("dot", 1e-3, 1, "scan", Param{"model.bidirectional", true})},
		{Hash: "r1", Seed: 2, Config: `{}`, Point: `{"variant":"small","train.lr":0.0001}`, Params: p("additive", 1e-4, 2, "scan")},
		{Hash: "r2", Seed: 1, Config: `{}`, Point: `{"variant":"2024"}`, Params: p("general", 1e-2, 1, "copy")},
		{Hash: "r3", Seed: 3, Config: `{}`, Params: p("dot", 3e-4, 3, "copy")},
		{Hash: "r4", Seed: 2, Config: `{}`, Params: p("dot", 1e-3, 2, "scan", Param{"tag", "1"})},
		{Hash: "r5", Seed: 3, Config: `{}`, Params: p("scaled-dot", 1e-3, 3, "", Param{"tag", 1})},
	}
	runs, err := s.EnsureRuns(ctx, id, specs)
	if err != nil {
		tb.Fatal(err)
	}
	sums := []map[string]float64{
		{"test/exact_match": 0.95, "test/bleu": math.NaN()},
		{"test/exact_match": 0.5, "test/bleu": 0.3},
		{"test/exact_match": 0.99, "test/bleu": math.Inf(1)},
		nil,
		nil,
		{"test/bleu": math.Inf(-1)},
	}
	for i, m := range sums {
		if err := s.PutSummaries(ctx, runs[i].ID, m); err != nil {
			tb.Fatal(err)
		}
	}
	o := Owner{Host: "h", PID: 1}
	for _, i := range []int{0, 1, 2, 5} {
		claimAs(o)(tb.(*testing.T), s, runs[i].ID)
		if err := s.Finish(ctx, runs[i].ID, o, StatusDone, ""); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

func testWhereMatches(t *testing.T) {
	s := whereStore(t)
	ctx := context.Background()
	for _, tc := range []struct{ where, want string }{
		{`model.attention.name in (dot, additive) and test/exact_match > 0.9`, "r0"},
		{`not (seed = 1 or train.lr >= 1e-3)`, "r1 r3"},
		{`task.name != "scan"`, "r2 r3 r5"},
		{`task.name = scan`, "r0 r1 r4"},
		{`task.name < d`, "r2 r3"},
		{`train.lr > 1e-3`, "r2"},
		{`train.lr = 0.001`, "r0 r4 r5"},
		{`train.lr <= 3e-4`, "r1 r3"},
		{`test/exact_match < 0.9`, "r1"},
		{`test/exact_match >= 0.5 and test/exact_match <= 0.95`, "r0 r1"},
		{`test/bleu = nan`, "r0"},
		{`test/bleu != nan`, "r1 r2 r3 r4 r5"},
		{`test/bleu > 0`, "r1 r2"},
		{`test/bleu = inf`, "r2"},
		{`test/bleu < -1e308`, "r5"},
		{`tag = 1`, "r5"},
		{`tag = "1"`, "r4"},
		{`tag in (1, "1")`, "r4 r5"},
		{`model.bidirectional = true`, "r0"},
		{`model.bidirectional = "true"`, ""},
		{`model.bidirectional != true`, "r1 r2 r3 r4 r5"},
		{`missing.key = 1`, ""},
		{`missing.key != 1`, "r0 r1 r2 r3 r4 r5"},
		{`seed not in (1, 2)`, "r3 r5"},
		{`status = done`, "r0 r1 r2 r5"},
		{`status != done and seed = 2`, "r4"},
		{`status in (queued)`, "r3 r4"},
		{`experiment = sweep`, "r0 r1 r2 r3 r4 r5"},
		{`experiment = other`, ""},
		{`variant = small`, "r0 r1"},
		{`variant != small`, "r2 r3 r4 r5"},
		{`variant = 2024`, "r2"},
		{`variant in (small, "2024") and seed = 1`, "r0 r2"},
		{`variant > s`, "r0 r1"},
		{`id <= 2`, "r0 r1"},
		{`model.attention.name = scaled-dot or model.attention.name = 'general'`, "r2 r5"},
		{`not not seed = 3`, "r3 r5"},
		{`(seed = 1 or seed = 2) and (task.name = copy or tag = "1")`, "r2 r4"},
	} {
		t.Run(tc.where, func(t *testing.T) {
			c, err := ParseWhere(tc.where)
			if err != nil {
				t.Fatalf("ParseWhere: %v", err)
			}
			runs, err := s.Runs(ctx, RunFilter{Where: c})
			if err != nil {
				t.Fatalf("Runs: %v", err)
			}
			if got := strings.Join(hashes(runs), " "); got != tc.want {
				t.Fatalf("--where %q matches %q, want %q", tc.where, got, tc.want)
			}
		})
	}
}

// testWhereUnfinished: a filter on a metric tests the value compare shows
// (report): a done run's summary; a run not done, the last value it logged
// (a summary it holds is an earlier attempt's), a failed run its summary
// where it logged none. The metrics of runs not done are keys a filter
// can name.
//
//	hash  status       summary  logged (step: value)  value
//	u0    done         1.0      1: 3.0, 2: 1.0         1.0
//	u1    running      0.5      1: 3.0, 2: 2.0         2.0
//	u2    interrupted  -        1: 0.8                 0.8
//	u3    failed       0.7      -                      0.7
//	u4    failed       0.1      1: 4.0                 4.0
//	u5    queued       0.2      -                      -
func testWhereUnfinished(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	exp, err := s.PutExperiment(ctx, "live", "", "")
	if err != nil {
		t.Fatal(err)
	}
	var specs []RunSpec
	for i := range 6 {
		specs = append(specs, RunSpec{Hash: fmt.Sprintf("u%d", i), Seed: int64(i), Config: `{}`, Params: []Param{{"seed", i}}})
	}
	runs, err := s.EnsureRuns(ctx, exp, specs)
	if err != nil {
		t.Fatal(err)
	}
	o := Owner{Host: "h", PID: 1}
	for i, tc := range []struct {
		status  Status
		summary float64 // 0: none
		logged  []float64
		key     string // logged only by this run
	}{
		{StatusDone, 1.0, []float64{3.0, 1.0}, ""},
		{StatusRunning, 0.5, []float64{3.0, 2.0}, "valid/acc"},
		{StatusInterrupted, 0, []float64{0.8}, ""},
		{StatusFailed, 0.7, nil, ""},
		{StatusFailed, 0.1, []float64{4.0}, ""},
		{StatusQueued, 0.2, nil, ""},
	} {
		id := runs[i].ID
		if tc.summary != 0 {
			if err := s.PutSummaries(ctx, id, map[string]float64{"valid/loss": tc.summary}); err != nil {
				t.Fatal(err)
			}
		}
		w := s.NewMetricWriter(id, 16)
		for step, v := range tc.logged {
			if err := w.Log(step+1, "valid/loss", v); err != nil {
				t.Fatal(err)
			}
		}
		if tc.key != "" {
			if err := w.Log(1, tc.key, 0.5); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if tc.status != StatusQueued {
			claimAs(o)(t, s, id)
		}
		if tc.status != StatusQueued && tc.status != StatusRunning {
			if err := s.Finish(ctx, id, o, tc.status, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct{ where, want string }{
		{`valid/loss < 1.5`, "u0 u2 u3"},
		{`valid/loss > 1.5`, "u1 u4"},
		{`valid/loss = 2`, "u1"},
		{`valid/loss != 2`, "u0 u2 u3 u4 u5"},
		{`valid/loss < 0.6`, ""},
		{`valid/acc = 0.5`, "u1"},
	} {
		c, err := ParseWhere(tc.where)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Runs(ctx, RunFilter{Where: c})
		if err != nil {
			t.Fatal(err)
		}
		if g := strings.Join(hashes(got), " "); g != tc.want {
			t.Errorf("--where %q matches %q, want %q", tc.where, g, tc.want)
		}
	}
	_, sums, err := s.Keys(ctx, []string{"live"})
	if err != nil || !slices.Equal(sums, []string{"valid/acc", "valid/loss"}) {
		t.Errorf("Keys: summaries %q (%v), want valid/acc (logged by the running run) and valid/loss", sums, err)
	}
}

// TestWhereCompilesToPlaceholdersOnly checks that no user text reaches the
// SQL: the compiled text must be the same whatever the keys and values.
func TestWhereCompilesToPlaceholdersOnly(t *testing.T) {
	for _, d := range []dialect{sqliteDialect{}, postgresDialect{}} {
		shape := func(where string) string {
			c, err := ParseWhere(where)
			if err != nil {
				t.Fatalf("ParseWhere(%q): %v", where, err)
			}
			sql, _ := c.sql(d)
			return d.rebind(sql)
		}
		base := shape(`a = "x" and b.c > 1`)
		for _, other := range []string{
			`"a'; DROP TABLE runs; --" = "x\"); DELETE FROM params; --" and "b'c" > 99`,
			`zzz = "' OR 1=1 --" and b.c > -1e300`,
		} {
			if got := shape(other); got != base {
				t.Fatalf("%s: SQL for %q =\n%s\nwant the same text as for a benign filter:\n%s", d.engine(), other, got, base)
			}
		}
	}
}

func testWhereHostileInput(t *testing.T) {
	s := whereStore(t)
	ctx := context.Background()
	countTables := func() (tables, runs, params int) {
		t.Helper()
		tablesSQL := `SELECT count(*) FROM sqlite_schema WHERE type = 'table'`
		if s.Engine() == Postgres {
			tablesSQL = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`
		}
		err := s.db.QueryRow(`SELECT (`+tablesSQL+`),
			(SELECT count(*) FROM runs), (SELECT count(*) FROM params)`).Scan(&tables, &runs, &params)
		if err != nil {
			t.Fatalf("the store is damaged: %v", err)
		}
		return
	}
	t0, r0, p0 := countTables()
	for _, in := range []string{
		`; DROP TABLE runs`,
		`x = "a'; DROP TABLE runs; --"`,
		`x = 'a"; DROP TABLE runs; --'`,
		`"x'; DROP TABLE runs; --" = 1`,
		`task.name = "scan' OR '1'='1"`,
		`task.name = 'scan'' OR 1=1 --'`,
		`task.name = scan) OR (1=1`,
		`task.name = "scan\") OR 1=1 --"`,
		`test/bleu > 0 union select * from runs`,
		`x = "\x00"`,
		"x = \"nul\x00byte\"",
		`x in ("a", "b'); DELETE FROM runs; --")`,
		`status = "done' OR 1=1 --"`,
		`experiment = "sweep' OR '1'='1"`,
		`seed = 1 --`,
		`seed = 1 /* comment */`,
	} {
		t.Run(in, func(t *testing.T) {
			c, err := ParseWhere(in)
			if err != nil {
				t.Logf("rejected: %v", err)
			} else {
				runs, err := s.Runs(ctx, RunFilter{Where: c})
				if err != nil {
					t.Fatalf("Runs(%q): %v", in, err)
				}
				if len(runs) != 0 {
					t.Fatalf("--where %q matched %v, want nothing", in, hashes(runs))
				}
			}
			if tb, r, p := countTables(); tb != t0 || r != r0 || p != p0 {
				t.Fatalf("after %q: %d tables, %d runs, %d params; want %d, %d, %d", in, tb, r, p, t0, r0, p0)
			}
		})
	}
}

// FuzzParseWhere checks that the parser never panics, that a filter it
// accepts prints to a form that parses back to the same filter, and that
// the compiled SQL runs on a real store. `go test` runs the seed corpus.
func FuzzParseWhere(f *testing.F) {
	for _, seed := range []string{
		`model.attention.name in (dot, additive) and test/exact_match > 0.9`,
		`not (seed = 1 or train.lr >= 1e-3)`,
		`task.name != "scan"`,
		`x = "a'; DROP TABLE runs; --"`,
		`; DROP TABLE runs`,
		`status in (done, failed) or experiment = "e"`,
		`a not in ('x', "y\"z", 3, true, nan, -inf)`,
		`((a = 1) or not (b < 2 and c >= -3e-4))`,
		`"k\\" = '\n'`,
		`id > 0 and seed <= 10`,
		`a = "`,
		`(((`,
		"\xff\xfe",
		`a in ()`,
		`not`,
		strings.Repeat("(", 70) + "a=1",
	} {
		f.Add(seed)
	}
	s, err := Open(filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	ctx := context.Background()
	id, err := s.PutExperiment(ctx, "e", "", "")
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.EnsureRuns(ctx, id, []RunSpec{{Hash: "h", Config: `{"a": 1, "b": "x"}`}}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseWhere(in)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "where: ") || strings.Contains(msg, "\n") {
				t.Fatalf("ParseWhere(%q) error %q is not one line starting with where:", in, msg)
			}
			return
		}
		printed := c.String()
		again, err := ParseWhere(printed)
		if err != nil {
			t.Fatalf("ParseWhere(%q) printed as %q, which does not parse: %v", in, printed, err)
		}
		if again.String() != printed {
			t.Fatalf("ParseWhere(%q) printed as %q, reprinted as %q", in, printed, again.String())
		}
		if _, err := s.Runs(ctx, RunFilter{Where: c}); err != nil {
			t.Fatalf("Runs(where %q): %v", in, err)
		}
	})
}

func testCondKeysAndMapKeys(t *testing.T) {
	c, err := ParseWhere(`attention.name in (dot, additive) and (bleu > 0.5 or not seed = 1) and attention.name != none`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Keys(), " "); got != "attention.name bleu seed" {
		t.Errorf("Keys = %q", got)
	}
	full := map[string]string{"attention.name": "model.attention.name", "bleu": "test/bleu", "seed": "seed"}
	m, err := c.MapKeys(func(k string) (string, error) { return full[k], nil })
	if err != nil {
		t.Fatal(err)
	}
	want := `model.attention.name in (dot, additive) and (test/bleu > 0.5 or not seed = 1) and model.attention.name != none`
	if m.String() != want {
		t.Errorf("MapKeys = %q, want %q", m.String(), want)
	}
	if c.String() == m.String() {
		t.Errorf("MapKeys changed the original")
	}
	// The mapped keys are classified again: bleu became a summary metric.
	s := whereStore(t)
	runs, err := s.Runs(context.Background(), RunFilter{Where: m})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(hashes(runs), " "); got != "r1 r3 r4" {
		t.Errorf("mapped filter matches %q, want r1 r3 r4 (dot or additive, seed not 1; r0's bleu is NaN)", got)
	}
	m2, _ := ParseWhere("bleu >= 0.3")
	m2, _ = m2.MapKeys(func(k string) (string, error) { return full[k], nil })
	if runs, _ := s.Runs(context.Background(), RunFilter{Where: m2}); strings.Join(hashes(runs), " ") != "r1 r2" {
		t.Errorf("bleu >= 0.3 mapped to test/bleu matches %q, want r1 r2", hashes(runs))
	}
	// A value must suit the kind of key it names once renamed.
	m3, _ := ParseWhere("bleu > abc")
	if _, err := m3.MapKeys(func(k string) (string, error) { return full[k], nil }); err == nil ||
		err.Error() != "where: col 8: test/bleu compares with numbers (it is a metric), got text 'abc'" {
		t.Errorf("bleu > abc mapped to test/bleu: err = %v", err)
	}
	// And a param's value the kinds of value the param holds.
	kinds := map[string][]Kind{"model.attention.name": {KindText}, "model.embed": {KindNull, KindNumber}, "x": {KindNull}}
	for _, tc := range []struct{ in, err string }{
		{"attention.name = dot and model.embed > 3 and x = 1 and y = 2", ""},
		{"attention.name in (dot, true)", "where: col 25: model.attention.name holds text in the selected runs, not true or false such as 'true': that value would never match"},
		{`not (seed = 1 or model.embed != "64")`, `where: col 33: model.embed holds numbers in the selected runs, not text such as '"64"': it would match every run`},
		{`model.embed <= "64"`, `where: col 16: model.embed holds numbers in the selected runs, not text such as '"64"': it would match nothing`},
	} {
		w, err := ParseWhere(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if w, err = w.MapKeys(func(k string) (string, error) { return cmp.Or(full[k], k), nil }); err != nil {
			t.Fatal(err)
		}
		err = w.CheckParams(func(k string) []Kind { return kinds[k] })
		if got := fmt.Sprint(err); (tc.err == "" && err != nil) || (tc.err != "" && got != tc.err) {
			t.Errorf("CheckParams(%s) = %v, want %q", tc.in, err, tc.err)
		}
	}
	boom := errors.New("boom")
	if _, err := c.MapKeys(func(k string) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Errorf("MapKeys error = %v", err)
	}
	var nilCond *Cond
	if nilCond.Keys() != nil {
		t.Errorf("nil Keys")
	}
}

func testKeys(t *testing.T) {
	s := whereStore(t)
	ctx := context.Background()
	other, err := s.PutExperiment(ctx, "other", "", "")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.EnsureRuns(ctx, other, []RunSpec{{Hash: "o1", Seed: 1, Config: `{}`, Params: []Param{{"lr", 0.1}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutSummaries(ctx, runs[0].ID, map[string]float64{"valid/loss": 1}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		names           []string
		params, metrics string
	}{
		{nil, "lr model.attention.name model.bidirectional seed tag task.name train.lr", "test/bleu test/exact_match valid/loss"},
		{[]string{"sweep"}, "model.attention.name model.bidirectional seed tag task.name train.lr", "test/bleu test/exact_match"},
		{[]string{"other"}, "lr", "valid/loss"},
		{[]string{"other", "sweep"}, "lr model.attention.name model.bidirectional seed tag task.name train.lr", "test/bleu test/exact_match valid/loss"},
		{[]string{"nope"}, "", ""},
	} {
		p, m, err := s.Keys(ctx, tc.names)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(p, " ") != tc.params || strings.Join(m, " ") != tc.metrics {
			t.Errorf("Keys(%q) = %q, %q; want %q, %q", tc.names, p, m, tc.params, tc.metrics)
		}
	}
}
