package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/attnlab/attnlab/internal/printable"
)

// hostileTokens are the words of TestServeHostileInBrowser's data file:
// HTML, script, a javascript: URL, a template action, bidi and zero-width
// characters, a long word.
var hostileTokens = []string{`<img/src=x/onerror=alert(11)>`, `"><svg/onload=alert(12)>`, `javascript:alert(13)`,
	`</script><script>alert(14)</script>`, "\u202eRTL", "a\u200bb", `{{.}}`, `'-alert(15)-'`,
	`</textarea><img/src/onerror=alert(16)>`, strings.Repeat("x", 300)}

// TestServeHostileInBrowser trains, with the real commands, an experiment
// whose data files are named in HTML and hold HTML and script as tokens
// (so its sweep values, run names, vocabulary, samples, attention maps and
// a failed run's error are), and opens every kind of page in the browser,
// hovering the heatmap and the chart and generating from hostile input:
// no script may run, no element may come from the data, and no error may
// be logged (a CSP violation included).
func TestServeHostileInBrowser(t *testing.T) {
	b := newBrowser(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "hostile.db")
	var lines []string
	for i := range 120 {
		var src []string
		for k := range 2 + i%4 {
			src = append(src, hostileTokens[(i*7+k*3)%len(hostileTokens)])
		}
		tgt := make([]string, len(src))
		for k := range src {
			tgt[k] = src[len(src)-1-k]
		}
		lines = append(lines, strings.Join(src, " ")+"\t"+strings.Join(tgt, " "))
	}
	files := []string{`<img src=x onerror=alert(21)>.tsv`, `"><svg onload=alert(22)>.tsv`, `"><img src=x onerror=alert(31)> fail.tsv`}
	for _, f := range files {
		writeFile(t, filepath.Join(dir, f), strings.Join(lines, "\n")+"\n")
	}
	const desc = `</script><script>alert(4)</script><a href="javascript:alert(5)">x</a> ` + "\u202eevil\u200b"
	exp := func(name, task, sweep string) string {
		return "name: " + name + "\ndescription: '" + desc + "'\ntask: {name: pairs, path: '" + task + "'}\n" +
			"model: {name: seq2seq-rnn, embed: 8, encoder: {name: lstm, hidden: 8}, attention: {name: dot}}\n" +
			"train: {optimizer: {name: adam, lr: 1.0e-2}, batch_size: 16, steps: 20, eval_every: 10, log_every: 5}\n" +
			"seeds: [1]\n" + sweep
	}
	writeFile(t, filepath.Join(dir, "hostile.yaml"), exp("hostile", files[0], "sweep: {grid: {task.path: ['"+files[0]+"', '"+files[1]+"']}}\n"))
	writeFile(t, filepath.Join(dir, "fail.yaml"), exp("hostile-fail", files[2], ""))
	wantOK(t, attnlab(t, "run", filepath.Join(dir, "hostile.yaml"), "--db", db, "-q"))
	// A run whose data file changed after it was queued fails with an
	// error that names the file.
	wantOK(t, attnlab(t, "submit", filepath.Join(dir, "fail.yaml"), "--db", db))
	f, err := os.OpenFile(filepath.Join(dir, files[2]), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("extra\tline\n")
	f.Close()
	// Another process: this one keeps the data it read for the run.
	worker := exec.Command(os.Args[0], "worker", "--db", db, "-q")
	worker.Env = append(os.Environ(), cliMainEnv+"=1")
	if out, err := worker.CombinedOutput(); err != nil { // a failed run is no exit status of a worker
		t.Fatalf("worker: %v\n%s", err, out)
	}
	if r := attnlab(t, "ls", "runs", "--db", db, "--experiment", "hostile-fail"); !strings.Contains(r.stdout, "failed") {
		t.Fatalf("the hostile-fail run did not fail:\n%s", r.stdout)
	}
	base := startServe(t, "--db", db, "--read-only=false")

	// injected lists the elements of main that are not the page's own.
	const injected = `[...document.querySelectorAll("main script, main img, main iframe, main object, main embed, main a[href^='javascript:'], main svg:not(.heatmap), main svg.heatmap :is(svg, script, foreignObject, a, image), [onerror], [onload]")].map(e => e.outerHTML.slice(0, 120))`
	check := func(what string) {
		t.Helper()
		var els []string
		b.Eval(injected, &els)
		for _, e := range els {
			t.Errorf("%s: an element from the data: %s", what, e)
		}
		b.NoErrors(what)
	}
	b.Do("experiments", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#experiments")))
	var shown []string
	b.Eval(`[...document.querySelectorAll("#experiments td.desc")].map(td => td.textContent)`, &shown)
	// The text itself, its bidi override escaped as the CLI shows it.
	if want := printable.Text(desc); len(shown) != 2 || shown[0] != want || !strings.Contains(want, `\u202eevil`) {
		t.Errorf("the descriptions show as %q, want the text %q", shown, want)
	}
	check("experiments page")

	b.Do("experiment", chromedp.Navigate(base+"/x/hostile"), chromedp.WaitVisible(chromedp.CSS("#means")))
	var keys []string
	b.Eval(`[...document.querySelectorAll("#means td.key")].map(td => td.textContent)`, &keys)
	if strings.Join(keys, "|") != files[0]+"|"+files[1] {
		t.Errorf("the comparison's rows show as %q, want the file names %q", keys, files[:2])
	}
	check("experiment page")
	b.Do("baseline", chromedp.Click(chromedp.CSS(`#means td.act a`)), chromedp.WaitVisible(chromedp.CSS("#means tr.baseline")))
	check("experiment page with a hostile baseline")

	b.Do("curves", chromedp.Navigate(base+"/x/hostile/curves?view=runs"), chromedp.WaitVisible(chromedp.CSS("#chart .uplot canvas")),
		chromedp.WaitVisible(chromedp.CSS("#legend li")))
	b.Hover("#chart .u-over")
	var legend []string
	b.Eval(`[...document.querySelectorAll("#legend li")].map(li => li.textContent)`, &legend)
	if all := strings.Join(legend, "|"); !strings.Contains(all, files[0]) || !strings.Contains(all, files[1]) {
		t.Errorf("the legend shows %q, want the run names with the file names as text", legend)
	}
	check("curves page")

	b.Do("run", chromedp.Navigate(base+"/r/1"), chromedp.WaitVisible(chromedp.CSS("svg.heatmap")))
	b.Hover("svg.heatmap rect")
	var tip string
	b.Eval(`document.querySelector("figure.heatmap-box .tip").textContent`, &tip)
	if !strings.Contains(tip, "weight:") {
		t.Errorf("hovering the heatmap shows %q", tip)
	}
	var samples int
	b.Eval(`document.querySelectorAll("#samples tbody tr").length`, &samples)
	if samples == 0 {
		t.Errorf("the run page shows no samples")
	}
	check("run page")
	for _, ex := range []string{"?example=1", "?example=2"} {
		b.Do("run "+ex, chromedp.Navigate(base+"/r/1"+ex), chromedp.WaitVisible(chromedp.CSS("svg.heatmap")))
		check("run page " + ex)
	}

	b.Do("generate", chromedp.Navigate(base+"/r/1/generate"), chromedp.WaitVisible(chromedp.CSS("#input")))
	check("generate page")
	// Known symbols only: an unknown one is a 400, which the browser logs.
	for _, input := range []string{hostileTokens[0] + " " + hostileTokens[3] + " " + hostileTokens[8], hostileTokens[8] + " " + hostileTokens[1]} {
		b.Do("generate "+input, chromedp.SetValue(chromedp.CSS("#input"), input), chromedp.Click(chromedp.CSS(`form.generate button`)),
			chromedp.WaitVisible(chromedp.CSS("#input")), chromedp.Sleep(200*time.Millisecond))
		var value string
		b.Eval(`document.getElementById("input").value`, &value)
		if value != input {
			t.Errorf("after generating, the input shows %q, want %q", value, input)
		}
		check("generate " + strconv.Quote(input))
	}

	b.Do("failed experiment", chromedp.Navigate(base+"/x/hostile-fail?status=failed"), chromedp.WaitVisible(chromedp.CSS("#runlist")))
	var errText string
	b.Eval(`document.querySelector("#runlist .err").title`, &errText)
	if !strings.Contains(errText, files[2]) {
		t.Errorf("the failed run's error shows as %q, want it to name %q", errText, files[2])
	}
	check("failed experiment page")
	b.Do("failed run", chromedp.Navigate(base+"/r/3"), chromedp.WaitVisible(chromedp.CSS("p.error")))
	check("failed run page")
}
