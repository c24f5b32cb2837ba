package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/attnlab/attnlab/experiments"
)

// pageNames are the templates of templates/ that are pages: each is parsed
// with layout.html (and heatmap.html) into a template of its own.
var pageNames = []string{"error", "experiments", "experiment", "curves", "run", "generate"}

func (s *Server) parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"asset": s.assets.url,
		"xurl":  experimentURL,
		"rurl":  runURL,
		"ts":    formatTime,
		"ago":   ago,
		"bytes": experiments.FormatBytes,
		"short": shorten,
		// slashes splits a metric's name after each "/", where a narrow
		// table may wrap it (<wbr>).
		"slashes": func(key string) []string { return strings.SplitAfter(key, "/") },
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/heatmap.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		out[name] = t
	}
	return out, nil
}

// experimentURL is the page of an experiment.
func experimentURL(name string) string { return "/x/" + url.PathEscape(name) }

// runURL is the page of a run.
func runURL(id int64) string { return "/r/" + strconv.FormatInt(id, 10) }

// formatTime shows a time in UTC to the second; "—" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// now is the clock of "ago" (tests set it).
var now = time.Now

// ago shows how long ago t was: "12 s ago", "5 min ago", "3 h ago",
// "2 days ago", or the date beyond a month; "—" for the zero time.
func ago(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := now().Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	case d < 31*24*time.Hour:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
	return t.UTC().Format("2006-01-02")
}

// formatDuration shows a duration rounded to what matters: "42 s",
// "3 min 05 s", "2 h 10 min".
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	case d < time.Hour:
		return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
}

// shorten cuts s to at most n runes, ending it with "…" when cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// splitMetric splits a metric head at its last '/' so that a narrow
// column breaks there: "test/" and "exact_match".
func splitMetric(m string) (string, string) {
	if i := strings.LastIndexByte(m, '/'); i > 0 && i < len(m)-1 {
		return m[:i+1], m[i+1:]
	}
	return m, ""
}
