package term

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWidth(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		name     string
		columns  string
		override int
		want     int
	}{
		{"override", "90", 120, 120},
		{"COLUMNS", "90", 0, 90},
		{"COLUMNS with spaces", " 132 ", 0, 132},
		{"bad COLUMNS", "wide", 0, DefaultWidth},
		{"negative COLUMNS", "-3", 0, DefaultWidth},
		{"not a terminal", "", 0, DefaultWidth},
		{"too narrow", "", 10, MinWidth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("COLUMNS", tc.columns)
			if got := Width(f, tc.override); got != tc.want {
				t.Errorf("Width = %d, want %d", got, tc.want)
			}
		})
	}
	t.Setenv("COLUMNS", "")
	if got := Width(nil, 0); got != DefaultWidth {
		t.Errorf("Width(nil) = %d, want %d", got, DefaultWidth)
	}
}

func render(t *testing.T, tb *Table, width int) (string, Layout) {
	t.Helper()
	var b strings.Builder
	lay, err := tb.Render(&b, width)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(b.String(), "\n") {
		if l != strings.TrimRight(l, " ") {
			t.Errorf("trailing space in %q", l)
		}
	}
	return b.String(), lay
}

func sample() *Table {
	return &Table{
		Columns: []Column{
			{Head: "name", Key: true},
			{Head: "n", Right: true, Key: true},
			{Head: "test/\nexact_match", Right: true},
			{Head: "test/\nbleu", Right: true},
			{Head: "note", Cut: 1, Min: 6},
		},
		Rows: [][]string{
			{"none", "3", "0.053 ± 0.023", "0.223 ± 0.035", "the baseline"},
			{"multi-head", "3", "0.462 ± 0.211", "0.767\np<0.001", "a long note about this row"},
		},
		Rule: true,
	}
}

func TestTableFits(t *testing.T) {
	got, lay := render(t, sample(), 100)
	want := `                       test/          test/
name        n    exact_match           bleu  note
──────────  ─  ─────────────  ─────────────  ──────────────────────────
none        3  0.053 ± 0.023  0.223 ± 0.035  the baseline
multi-head  3  0.462 ± 0.211          0.767  a long note about this row
                                    p<0.001
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if lay.Blocks != 1 || lay.Cut || len(lay.Dropped) > 0 {
		t.Errorf("layout %+v", lay)
	}
}

func TestTableShrinksThenSplits(t *testing.T) {
	// 10+2+1+2+13+2+13+2+26 = 71 columns: at 60 the note is cut to 15.
	got, lay := render(t, sample(), 60)
	want := `                       test/          test/
name        n    exact_match           bleu  note
──────────  ─  ─────────────  ─────────────  ───────────────
none        3  0.053 ± 0.023  0.223 ± 0.035  the baseline
multi-head  3  0.462 ± 0.211          0.767  a long note ab…
                                    p<0.001
`
	if got != want || !lay.Cut || lay.Blocks != 1 {
		t.Errorf("got (%+v)\n%s\nwant\n%s", lay, got, want)
	}
	// At 40 the note is cut to its minimum (6) and the columns split:
	// 13 for the keys, then 15 + 15 + 8 do not fit in 27.
	got, lay = render(t, sample(), 40)
	want = `                       test/
name        n    exact_match
──────────  ─  ─────────────
none        3  0.053 ± 0.023
multi-head  3  0.462 ± 0.211

                       test/
name        n           bleu  note
──────────  ─  ─────────────  ──────
none        3  0.223 ± 0.035  the b…
multi-head  3          0.767  a lon…
                     p<0.001
`
	if got != want || lay.Blocks != 2 {
		t.Errorf("got (%+v)\n%s\nwant\n%s", lay, got, want)
	}
	for _, l := range strings.Split(got, "\n") {
		if StringWidth(l) > 40 {
			t.Errorf("line wider than 40: %q", l)
		}
	}
}

func TestTableDrops(t *testing.T) {
	tb := &Table{
		Columns: []Column{
			{Head: "id", Right: true, Key: true},
			{Head: "hash", Drop: 2},
			{Head: "status"},
			{Head: "started", Drop: 1},
			{Head: "finished", Drop: 1},
		},
		Rows:   [][]string{{"1", "ab12cd34", "done", "2026-01-02 10:00:00", "10:00:12 (12.0s)"}},
		Spaced: true,
	}
	got, lay := render(t, tb, 50)
	// 2+8+6+19+16 + 4 gaps of 2 = 59 > 50: hash goes first (Drop 2): 49.
	want := "id  status  started              finished\n 1  done    2026-01-02 10:00:00  10:00:12 (12.0s)\n"
	if got != want || strings.Join(lay.Dropped, ",") != "hash" {
		t.Errorf("got (%+v)\n%s\nwant\n%s", lay, got, want)
	}
	// At 40 the rightmost of the Drop-1 columns goes next.
	got, lay = render(t, tb, 40)
	want = "id  status  started\n 1  done    2026-01-02 10:00:00\n"
	if got != want || strings.Join(lay.Dropped, ",") != "hash,finished" {
		t.Errorf("got (%+v)\n%s\nwant\n%s", lay, got, want)
	}
	// Spaced rows.
	tb.Rows = append(tb.Rows, []string{"2", "ef56", "failed", "-", "-"})
	got, _ = render(t, tb, 100)
	if !strings.Contains(got, "(12.0s)\n\n 2  ef56") {
		t.Errorf("Spaced: no empty line between rows:\n%s", got)
	}
}

func TestTableEmpty(t *testing.T) {
	got, _ := render(t, &Table{Columns: []Column{{Head: "a"}, {Head: "b"}}}, 80)
	if got != "a  b\n" {
		t.Errorf("empty table: %q", got)
	}
}

func TestTruncatePad(t *testing.T) {
	if got := Truncate("attention", 5); got != "atte…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("±0.1", 4); got != "±0.1" {
		t.Errorf("Truncate = %q", got)
	}
	for s, want := range map[string]string{"sw/none,[0.9,0.999]/seed=1": "sw/none…seed=1", "attention": "attention", "abcdefghijklmnop": "abcdefg…klmnop"} {
		n := 14
		if got := TruncateMiddle(s, n); got != want || StringWidth(got) > n {
			t.Errorf("TruncateMiddle(%q, %d) = %q, want %q", s, n, got, want)
		}
	}
	if got := TruncateMiddle("abcdef", 2); got != "a…" {
		t.Errorf("TruncateMiddle(abcdef, 2) = %q", got)
	}
	tab := &Table{Columns: []Column{{Head: "name", Cut: 1, Middle: true}, {Head: "x"}}, Rows: [][]string{{"sw/none,[0.9,0.999]/seed=1", "1"}, {"sw/none,[0.9,0.999]/seed=2", "2"}}}
	if got, _ := render(t, tab, 17); got != "name            x\nsw/none…seed=1  1\nsw/none…seed=2  2\n" {
		t.Errorf("a Middle column cut:\n%s", got)
	}
	if got := Pad("±1", 4, true); got != "  ±1" {
		t.Errorf("Pad = %q", got)
	}
	if got := Pad("x", 3, false); got != "x  " {
		t.Errorf("Pad = %q", got)
	}
}

// TestTableEscapes: a stored string with control characters is escaped
// before the layout, so columns stay aligned and the terminal never acts on
// it.
func TestTableEscapes(t *testing.T) {
	tb := &Table{Columns: []Column{{Head: "name"}, {Head: "n", Right: true}},
		Rows: [][]string{{"a\x1b[31mred", "1"}, {"plain", "22"}}}
	got, _ := render(t, tb, 80)
	want := "name           n\na\\x1b[31mred   1\nplain         22\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// TestTableDropOrder: room is given up by priority, cutting before
// dropping at the same priority, and a cut column gets back the room a later
// drop freed.
func TestTableDropOrder(t *testing.T) {
	tb := &Table{Columns: []Column{
		{Head: "name", Key: true},
		{Head: "empty", Drop: 2},
		{Head: "updated", Drop: 1},
		{Head: "description", Cut: 1, Min: 12},
	}, Rows: [][]string{{"quickstart", "-", "2026-12-02 07:12", "reverse strings with each attention variant"}}}
	// Natural: 10+5+16+43 + 6 = 80. At 70 the empty column goes (73), then
	// the description is cut to 40.
	got, lay := render(t, tb, 70)
	want := "name        updated           description\nquickstart  2026-12-02 07:12  reverse strings with each attention var…\n"
	if got != want || strings.Join(lay.Dropped, ",") != "empty" || !lay.Cut {
		t.Errorf("at 70 (%+v):\n%s\nwant\n%s", lay, got, want)
	}
	// At 40 the description is cut to its minimum 12 (44), then updated
	// goes, and the description gets the room back (28).
	got, lay = render(t, tb, 40)
	want = "name        description\nquickstart  reverse strings with each a…\n"
	if got != want || strings.Join(lay.Dropped, ",") != "empty,updated" {
		t.Errorf("at 40 (%+v):\n%s\nwant\n%s", lay, got, want)
	}
}

func TestWrap(t *testing.T) {
	sig := "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1."
	for _, tc := range []struct {
		s    string
		n    int
		want []string
	}{
		{"", 10, []string{""}},
		{"aaa bbb ccc", 7, []string{"aaa bbb", "ccc"}},
		{"  aaa \n bbb  ", 20, []string{"aaa bbb"}},
		{"a longwordwithoutbars b", 5, []string{"a", "longwordwithoutbars", "b"}},
		{"signature: " + sig, 80, []string{"signature: " + sig}},
		{"signature: " + sig, 40, []string{"signature: BLEU|nrefs:1|case:mixed|", "eff:no|tok:13a|smooth:exp|version:2.5.1."}},
		{"x " + sig, 20, []string{"x BLEU|nrefs:1|", "case:mixed|eff:no|", "tok:13a|smooth:exp|", "version:2.5.1."}},
		{"a|b|c", 2, []string{"a|", "b|", "c"}},
		{"with n\u00a0−\u00a01\u00a0df", 8, []string{"with", "n\u00a0−\u00a01\u00a0df"}},
		{"a\u00a0b c", 3, []string{"a\u00a0b", "c"}},
	} {
		got := Wrap(tc.s, tc.n)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
		for _, l := range got {
			if StringWidth(l) > tc.n && !strings.Contains(tc.s, l) {
				t.Errorf("Wrap(%q, %d): line %q is wider than %d", tc.s, tc.n, l, tc.n)
			}
		}
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[string]string{"0": "0", "999": "999", "1000": "1,000", "-84226": "-84,226", "809856": "809,856", "1234567": "1,234,567", "-100": "-100"} {
		if got := Thousands(in); got != want {
			t.Errorf("Thousands(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOrdinal(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 14: "14th", 111: "111th", 112: "112th", 101: "101st", 12: "12th", 13: "13th", 21: "21st", 22: "22nd", 23: "23rd", 30: "30th", 31: "31st"} {
		if got := Ordinal(n); got != want {
			t.Errorf("Ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}
