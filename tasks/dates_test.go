package tasks

import (
	"strings"
	"testing"
	"time"
)

func TestDateFormats(t *testing.T) {
	t.Parallel()
	// 9 October 1993 was a Saturday.
	want := []string{
		"saturday 9 october 1993", "9/10/93", "oct 9, 1993", "09.10.1993", "october 9th 1993",
		"1993 oct 09", "9 oct 93", "09/10/1993", "october 9, 1993", "sat, 9 oct 1993",
		"saturday, october 9, 1993", "9th of october 1993", "9-oct-1993", "9 october 1993",
	}
	if len(DateFormats) != len(want) {
		t.Fatalf("%d formats, want %d", len(DateFormats), len(want))
	}
	d := time.Date(1993, 10, 9, 0, 0, 0, 0, time.UTC)
	for i, f := range DateFormats {
		parts, err := parseDateTemplate(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := formatDate(parts, d); got != want[i] {
			t.Errorf("format %q = %q, want %q", f, got, want[i])
		}
	}
}

// zeller returns the weekday of a Gregorian date (0 = saturday), by
// Zeller's congruence, independently of package time.
func zeller(y, m, d int) int {
	if m < 3 {
		m += 12
		y--
	}
	k, j := y%100, y/100
	return (d + 13*(m+1)/5 + k + k/4 + j/4 + 5*j) % 7
}

func TestDatesTask(t *testing.T) {
	t.Parallel()
	d := build(t, "dates", map[string]any{"train_size": 3000, "valid_size": 300, "test_size": 300,
		"formats": []any{"{weekday} {d} {month} {yyyy}", "{wkd}, {dd}/{mm}/{yy}"}}, 11)
	days := []string{"saturday", "sunday", "monday", "tuesday", "wednesday", "thursday", "friday"}
	heldOut := map[string]bool{}
	for _, s := range []string{"valid", "test", "train"} {
		split, _ := d.Split(s)
		ex := split.All()
		src, tgt := texts(d, ex)
		for i := range src {
			date, err := time.Parse(isoDate, tgt[i])
			if err != nil {
				t.Fatalf("target %q is not ISO: %v", tgt[i], err)
			}
			if date.Year() < 1950 || date.Year() > 2049 {
				t.Fatalf("date %s outside the default range", tgt[i])
			}
			wd := days[zeller(date.Year(), int(date.Month()), date.Day())]
			ok := src[i] == wd+" "+strings.ToLower(date.Format("2 January 2006")) ||
				src[i] == wd[:3]+", "+date.Format("02/01/06")
			if !ok {
				t.Fatalf("%q → %q: not one of the formats, or wrong weekday %s", src[i], tgt[i], wd)
			}
			switch s {
			case "train":
				if heldOut[tgt[i]] {
					t.Fatalf("held-out date %s is in train", tgt[i])
				}
			default:
				if heldOut[tgt[i]] {
					t.Fatalf("date %s is held out twice", tgt[i])
				}
				heldOut[tgt[i]] = true
			}
		}
	}
	if strings.Contains(strings.Join(d.TgtVocab.Tokens()[4:], ""), "x") || d.TgtVocab.Len() != 4+11 {
		t.Errorf("target vocabulary = %q, want the digits and '-'", d.TgtVocab.Tokens())
	}
}
