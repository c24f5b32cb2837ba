package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/internal/shell"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/store"
)

// form is the state of a page's query controls, as the URL carries it:
// every page is a shareable link. The fields mirror attnlab compare's
// flags.
type form struct {
	Where    string // --where, parsed by store.ParseWhere: values reach SQL only as bound parameters
	By       string // --by, comma-separated
	Pool     string // --pool
	Baseline string // --baseline
	Metrics  string // --metrics
	Sort     string // --sort
	Status   string // --status; "" is the page's default (done for a comparison, any for curves)
	NoAdjust bool   // --no-adjust
	TestCost bool   // --test-cost
	Unpaired bool   // --unpaired
	Runs     []int64

	// Curves only.
	Metric string
	View   string
	Band   string
	Log    bool
}

// formFields are the query's fields that take one value (every one but
// run).
var formFields = []string{"where", "by", "pool", "baseline", "metrics", "sort", "status",
	"noadjust", "testcost", "unpaired", "metric", "view", "band", "log"}

// maxField bounds each text field of a query: a filter longer than this is
// not a filter anyone typed.
const maxField = 4000

// readForm reads the query controls of a request. It fails with a message
// naming the first field whose value the page could not have sent; the
// form it returns then still holds every other value (and each valid run
// of ?run=), for the page to show back.
func readForm(r *http.Request) (form, error) {
	v := r.URL.Query()
	f := form{
		Where: v.Get("where"), By: v.Get("by"), Pool: v.Get("pool"), Baseline: v.Get("baseline"),
		Metrics: v.Get("metrics"), Sort: v.Get("sort"), Status: v.Get("status"),
		NoAdjust: v.Get("noadjust") == "1", TestCost: v.Get("testcost") == "1", Unpaired: v.Get("unpaired") == "1",
		Metric: v.Get("metric"), View: v.Get("view"), Band: v.Get("band"), Log: v.Get("log") == "1",
	}
	// Every field is read even after a wrong one: the page's form holds
	// them all (the runs of ?run= as hidden inputs) for the user to fix
	// the one the error names, and the first error is the one said.
	var err error
	fail := func(e error) {
		if err == nil {
			err = e
		}
	}
	// The page sends each field once (only run= may repeat): a second
	// where= would otherwise be dropped without a word, the table shown
	// for the first one alone.
	for _, k := range formFields {
		if _, e := once(v, k); e != nil {
			fail(e)
		}
	}
	for _, kv := range [][2]string{{"where", f.Where}, {"by", f.By}, {"pool", f.Pool}, {"baseline", f.Baseline},
		{"metrics", f.Metrics}, {"sort", f.Sort}, {"metric", f.Metric}} {
		if len(kv[1]) > maxField {
			fail(fmt.Errorf("%s: longer than %d bytes", kv[0], maxField))
		}
	}
	if f.Status != "" && f.Status != string(report.StatusAny) && !store.Status(f.Status).Valid() {
		fail(fmt.Errorf("status %q: unknown status (known: any, %s)", f.Status, joinStatuses()))
	}
	switch f.View {
	case "", viewRuns, viewMean:
	default:
		fail(fmt.Errorf("view %q: want runs or mean", f.View))
	}
	switch f.Band {
	case "", bandMinMax, bandStd:
	default:
		fail(fmt.Errorf("band %q: want minmax or std", f.Band))
	}
	for _, s := range v["run"] {
		id, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || id <= 0 {
			fail(fmt.Errorf("run %q: not a run id", s))
			continue
		}
		if !slices.Contains(f.Runs, id) {
			f.Runs = append(f.Runs, id)
		}
	}
	return f, err
}

// once returns the value of query field k, which takes one value, or an
// error naming k when it is given more than once: the first value alone
// would otherwise be used, the others dropped without a word.
func once(q url.Values, k string) (string, error) {
	if n := len(q[k]); n > 1 {
		return "", fmt.Errorf("%s given %d times: give it once", k, n)
	}
	return q.Get(k), nil
}

func joinStatuses() string {
	var s []string
	for _, st := range store.Statuses {
		s = append(s, string(st))
	}
	return strings.Join(s, ", ")
}

// has reports whether the form carries anything a user chose.
func (f form) has() bool {
	return f.Where != "" || f.By != "" || f.Pool != "" || f.Baseline != "" || f.Metrics != "" || f.Sort != "" ||
		f.Status != "" || f.NoAdjust || f.TestCost || f.Unpaired || len(f.Runs) > 0 || f.Metric != "" || f.View != "" || f.Band != ""
}

// query turns the form into a report query for one experiment: the same
// query attnlab compare builds from its flags.
func (f form) query(experiment string) (report.Query, error) {
	q := report.Query{
		Experiments: []string{experiment},
		By:          splitList(f.By),
		Pool:        splitList(f.Pool),
		Metrics:     splitList(f.Metrics),
		Sort:        f.Sort, // trimmed by report.Compare, as the CLI's --sort
		Baseline:    strings.TrimSpace(f.Baseline),
		Status:      store.Status(f.Status),
		TestCost:    f.TestCost,
		NoAdjust:    f.NoAdjust,
		Unpaired:    f.Unpaired,
		IDs:         f.Runs,
	}
	if len(q.Pool) > 0 && len(q.By) == 0 {
		return q, fmt.Errorf("pool needs group by: without it no row pools different settings")
	}
	if w := strings.TrimSpace(f.Where); w != "" {
		cond, err := store.ParseWhere(w)
		if err != nil {
			return q, err
		}
		q.Where = cond
	}
	return q, nil
}

// splitList splits a comma-separated list, dropping empty items: the
// lists of both query and cli.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// values returns the form as URL parameters, without empty ones.
func (f form) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("where", f.Where)
	set("by", f.By)
	set("pool", f.Pool)
	set("baseline", f.Baseline)
	set("metrics", f.Metrics)
	set("sort", f.Sort)
	set("status", f.Status)
	if f.NoAdjust {
		v.Set("noadjust", "1")
	}
	if f.TestCost {
		v.Set("testcost", "1")
	}
	if f.Unpaired {
		v.Set("unpaired", "1")
	}
	for _, id := range f.Runs {
		v.Add("run", strconv.FormatInt(id, 10))
	}
	set("metric", f.Metric)
	set("view", f.View)
	set("band", f.Band)
	if f.Log {
		v.Set("log", "1")
	}
	return v
}

// link returns path with the form's parameters.
func (f form) link(path string) string {
	if q := f.values().Encode(); q != "" {
		return path + "?" + q
	}
	return path
}

// cli returns the attnlab compare command line that prints the same
// table, each word quoted for a POSIX shell (shell.Quote): db is the --db
// option of the page's database (store.SharedCommandDB), and the runs chosen
// (?run=, which compare has no flag for) join --where as "id in (...)".
func (f form) cli(experiment, db string) string {
	args := []string{"attnlab", "compare" + db, shell.Quote(experiment)}
	add := func(flag, v string) {
		if v = strings.TrimSpace(v); v != "" {
			args = append(args, flag, shell.Quote(v))
		}
	}
	// The lists as query reads them (splitList): "attention.name," as
	// written would be a --by the CLI refuses for its empty item.
	list := func(flag, v string) { add(flag, strings.Join(splitList(v), ",")) }
	where := strings.TrimSpace(f.Where)
	if len(f.Runs) > 0 {
		// The runs ticked on the page: compare has no flag of its own
		// for them, --where takes their ids.
		ids := make([]string, len(f.Runs))
		for i, id := range f.Runs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		in := "id in (" + strings.Join(ids, ", ") + ")"
		if where != "" {
			in = "(" + where + ") and " + in
		}
		where = in
	}
	add("--where", where)
	list("--by", f.By)
	list("--pool", f.Pool)
	list("--metrics", f.Metrics)
	add("--sort", f.Sort)
	add("--baseline", f.Baseline)
	if f.Status != "" {
		add("--status", f.Status)
	}
	if f.NoAdjust {
		args = append(args, "--no-adjust")
	}
	if f.TestCost {
		args = append(args, "--test-cost")
	}
	if f.Unpaired {
		args = append(args, "--unpaired")
	}
	return strings.Join(args, " ")
}

// picked is what a page says of the runs it was asked to show (?run=):
// those of its experiment, which it shows alone, and each one it cannot
// show, with why: a run of another experiment, or an id no run of the
// database has. The ids asked for are kept in the form (they stay in its
// hidden inputs and its links), but only runs that exist are linked.
type picked struct {
	Shown     []int64
	Elsewhere []otherRun
	Missing   []int64
}

// otherRun is a run asked for that belongs to another experiment.
type otherRun struct {
	ID         int64
	Experiment string
}

// pickedRuns sorts the runs asked for (ids, in the order asked) into those
// among runs (the experiment's) and the others, which it looks up in one
// query.
func (s *Server) pickedRuns(ctx context.Context, ids []int64, runs []store.Run) (picked, error) {
	var p picked
	if len(ids) == 0 {
		return p, nil
	}
	mine := make(map[int64]bool, len(runs))
	for _, r := range runs {
		mine[r.ID] = true
	}
	var rest []int64
	for _, id := range ids {
		if mine[id] {
			p.Shown = append(p.Shown, id)
		} else {
			rest = append(rest, id)
		}
	}
	if len(rest) == 0 {
		return p, nil
	}
	others, err := s.st.Runs(ctx, store.RunFilter{IDs: rest})
	if err != nil {
		return p, err
	}
	exp := make(map[int64]string, len(others))
	for _, r := range others {
		exp[r.ID] = r.Experiment
	}
	for _, id := range rest {
		if x, ok := exp[id]; ok {
			p.Elsewhere = append(p.Elsewhere, otherRun{ID: id, Experiment: x})
		} else {
			p.Missing = append(p.Missing, id)
		}
	}
	return p, nil
}
