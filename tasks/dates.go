package tasks

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/attnlab/attnlab/internal/term"
	"github.com/attnlab/attnlab/registry"
)

// DatesParams are the parameters of the dates task: one calendar date
// written in a human format → the same date in ISO 8601, "tuesday 9 october
// 1993" → "1993-10-09". Each example draws a date uniformly from [from, to]
// and a format uniformly from formats.
//
// A format is a template of literal text and placeholders: {weekday}
// (tuesday), {wkd} (tue), {d} (9), {dd} (09), {dth} (9th), {m} (10), {mm}
// (10), {month} (october), {mon} (oct), {yy} (93), {yyyy} (1993). Each
// template needs a day, a month and a year; {yy} needs a range of less than
// 100 years so that it is unambiguous. Templates must not make two dates
// read alike (so do not mix {d}/{m} with {m}/{d}).
type DatesParams struct {
	From      string   `yaml:"from" doc:"first date, YYYY-MM-DD"`
	To        string   `yaml:"to" doc:"last date, YYYY-MM-DD"`
	Formats   []string `yaml:"formats" doc:"input templates with {weekday} {wkd} {d} {dd} {dth} {m} {mm} {month} {mon} {yy} {yyyy}"`
	TrainSize int      `yaml:"train_size" doc:"training examples (drawn i.i.d., may repeat)" range:"[1,10000000]"`
	ValidSize int      `yaml:"valid_size" doc:"validation examples (distinct dates, none in train)" range:"[0,10000000]"`
	TestSize  int      `yaml:"test_size" doc:"test examples (distinct dates, none in train or valid)" range:"[0,10000000]"`
}

// DateFormats are the default templates of the dates task.
var DateFormats = []string{
	"{weekday} {d} {month} {yyyy}",   // saturday 9 october 1993
	"{d}/{m}/{yy}",                   // 9/10/93
	"{mon} {d}, {yyyy}",              // oct 9, 1993
	"{dd}.{mm}.{yyyy}",               // 09.10.1993
	"{month} {dth} {yyyy}",           // october 9th 1993
	"{yyyy} {mon} {dd}",              // 1993 oct 09
	"{d} {mon} {yy}",                 // 9 oct 93
	"{dd}/{mm}/{yyyy}",               // 09/10/1993
	"{month} {d}, {yyyy}",            // october 9, 1993
	"{wkd}, {d} {mon} {yyyy}",        // sat, 9 oct 1993
	"{weekday}, {month} {d}, {yyyy}", // saturday, october 9, 1993
	"{dth} of {month} {yyyy}",        // 9th of october 1993
	"{d}-{mon}-{yyyy}",               // 9-oct-1993
	"{d} {month} {yyyy}",             // 9 october 1993
}

const isoDate = "2006-01-02"

func defaultDatesParams() *DatesParams {
	return &DatesParams{From: "1950-01-01", To: "2049-12-31", Formats: DateFormats, TrainSize: 10000, ValidSize: 500, TestSize: 1000}
}

// ValidExamples returns valid_size.
func (p *DatesParams) ValidExamples() int { return p.ValidSize }

// SplitExamples returns train_size, valid_size and test_size.
func (p *DatesParams) SplitExamples() (train, valid, test int) {
	return p.TrainSize, p.ValidSize, p.TestSize
}

// DataSize: a date written by the longest template (no value is more
// than 2 characters longer than its placeholder: {month} → "september",
// {d} → "31"; 3 counted), and its YYYY-MM-DD form.

func (p *DatesParams) DataSize() (examples, tokens int64) {
	longest := 0
	for _, f := range p.Formats {
		longest = max(longest, utf8.RuneCountInString(f)+3*strings.Count(f, "{"))
	}
	n := longest + len(isoDate)
	return splitsSize(p.TrainSize, p.ValidSize, p.TestSize, n, n)
}

// Validate checks the dates, the templates and the sizes.
func (p *DatesParams) Validate() error {
	from, err := time.Parse(isoDate, p.From)
	if err != nil || from.Year() < 1 {
		return registry.Invalid("from", "want a date YYYY-MM-DD from 0001-01-01, got %q", p.From)
	}
	to, err := time.Parse(isoDate, p.To)
	if err != nil {
		return registry.Invalid("to", "want a date YYYY-MM-DD, got %q", p.To)
	}
	if to.Before(from) {
		return registry.Invalid("to", "%s is before from = %s", p.To, p.From)
	}
	if len(p.Formats) == 0 {
		return registry.Invalid("formats", "want at least one template")
	}
	for i, f := range p.Formats {
		parts, err := parseDateTemplate(f)
		if err != nil {
			return registry.Invalid(registry.ItemKey("formats", i), "%q: %v", f, err)
		}
		for _, pt := range parts {
			if pt.field == "yy" && to.Year()-from.Year() >= 100 {
				return registry.Invalid(registry.ItemKey("formats", i), "%q: {yy} is ambiguous when from and to are 100 years or more apart", f)
			}
		}
	}
	if err := validateSizes(p.TrainSize, p.ValidSize, p.TestSize); err != nil {
		return err
	}
	days := daysBetween(from, to) + 1
	if 2*(p.ValidSize+p.TestSize) > days {
		return registry.Invalid("to", "the range has %d days, too few to hold out valid_size+test_size = %d distinct dates (at most half the range)", days, p.ValidSize+p.TestSize)
	}
	return nil
}

// daysBetween returns the number of days from a to b (UTC midnights);
// time.Duration would overflow beyond 292 years.
func daysBetween(a, b time.Time) int {
	return int((b.Unix() - a.Unix()) / 86400)
}

// datePart is a literal (field "") or a placeholder of a template.
type datePart struct {
	lit, field string
}

var dateFields = []string{"weekday", "wkd", "d", "dd", "dth", "m", "mm", "month", "mon", "yy", "yyyy"}

func parseDateTemplate(t string) ([]datePart, error) {
	var parts []datePart
	var day, month, year bool
	for t != "" {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			parts = append(parts, datePart{lit: t})
			break
		}
		if i > 0 {
			parts = append(parts, datePart{lit: t[:i]})
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("unclosed {")
		}
		f := t[i+1 : i+j]
		switch f {
		case "d", "dd", "dth":
			day = true
		case "m", "mm", "month", "mon":
			month = true
		case "yy", "yyyy":
			year = true
		case "weekday", "wkd":
		default:
			return nil, fmt.Errorf("unknown placeholder {%s} (known: {%s})", f, strings.Join(dateFields, "} {"))
		}
		parts = append(parts, datePart{field: f})
		t = t[i+j+1:]
	}
	if !day || !month || !year {
		return nil, fmt.Errorf("needs a day, a month and a year placeholder")
	}
	return parts, nil
}

// formatDate writes d with the parsed template.
func formatDate(parts []datePart, d time.Time) string {
	var b strings.Builder
	for _, p := range parts {
		switch p.field {
		case "":
			b.WriteString(p.lit)
		case "weekday":
			b.WriteString(strings.ToLower(d.Weekday().String()))
		case "wkd":
			b.WriteString(strings.ToLower(d.Weekday().String()[:3]))
		case "d":
			b.WriteString(strconv.Itoa(d.Day()))
		case "dd":
			fmt.Fprintf(&b, "%02d", d.Day())
		case "dth":
			b.WriteString(term.Ordinal(d.Day()))
		case "m":
			b.WriteString(strconv.Itoa(int(d.Month())))
		case "mm":
			fmt.Fprintf(&b, "%02d", int(d.Month()))
		case "month":
			b.WriteString(strings.ToLower(d.Month().String()))
		case "mon":
			b.WriteString(strings.ToLower(d.Month().String()[:3]))
		case "yy":
			fmt.Fprintf(&b, "%02d", d.Year()%100)
		case "yyyy":
			fmt.Fprintf(&b, "%04d", d.Year())
		}
	}
	return b.String()
}

func init() {
	Registry.Register(Entry{
		Name:   "dates",
		Doc:    "normalise a date written in one of many human formats to ISO: saturday 9 october 1993 → 1993-10-09",
		Params: defaultDatesParams(),
		New:    newDates,
	})
}

// newDates builds the dates task. The splits are disjoint by date, not only
// by source string: valid and test dates are distinct and never occur in
// train, in any format, so a test target is never a training target.
func newDates(params any, opt Options) (*Dataset, error) {
	p := paramsOf(params, defaultDatesParams())
	if err := p.Validate(); err != nil {
		return nil, err
	}
	from, _ := time.Parse(isoDate, p.From)
	to, _ := time.Parse(isoDate, p.To)
	days := daysBetween(from, to) + 1
	templates := make([][]datePart, len(p.Formats))
	for i, f := range p.Formats {
		templates[i], _ = parseDateTemplate(f)
	}
	r := newRand(opt.Seed, "dates")
	example := func(day int) pair {
		d := from.AddDate(0, 0, day)
		src := formatDate(templates[r.IntN(len(templates))], d)
		return pair{src: Char{}.Split(src), tgt: Char{}.Split(d.Format(isoDate))}
	}
	heldOut := make(map[int]bool, p.ValidSize+p.TestSize)
	var splits [3][]pair
	for _, s := range []int{splitValid, splitTest} {
		n := [3]int{0, p.ValidSize, p.TestSize}[s]
		for len(splits[s]) < n {
			day := r.IntN(days)
			if heldOut[day] {
				continue
			}
			heldOut[day] = true
			splits[s] = append(splits[s], example(day))
		}
	}
	for len(splits[splitTrain]) < p.TrainSize {
		if day := r.IntN(days); !heldOut[day] {
			splits[splitTrain] = append(splits[splitTrain], example(day))
		}
	}
	src := BuildVocab(sideTokens(splits[splitTrain], true), 1, 0)
	tgt := BuildVocab(sideTokens(splits[splitTrain], false), 1, 0)
	return dataset("dates", splits, src, tgt, Char{}, Char{}, ""), nil
}
