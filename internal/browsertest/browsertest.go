// Package browsertest drives a headless Chromium tab for the browser tests
// of attnlab serve (cmd/attnlab) and of the dashboard (web): it starts the
// browser (testenv.Chromium finds it, or skips — fails in CI), records
// every console error, uncaught exception, script dialog and error log
// entry (CSP violations, failed loads) of the pages it shows, and runs
// steps, evaluations and screenshots with timeouts, failing the test on
// error.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/attnlab/attnlab/internal/testenv"
)

// Tab is a headless Chromium tab at 1280 × 800.
type Tab struct {
	t   *testing.T
	ctx context.Context
	// Dir is where Save writes screenshots: the test's artifact
	// directory (go test -artifacts keeps it).
	Dir  string
	mu   sync.Mutex
	errs []string
}

// New starts Chromium and returns its tab; the test's cleanup stops it.
func New(t *testing.T) *Tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testenv.Chromium(t)), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 800))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Tab{t: t, Dir: t.ArtifactDir()}
	ctx, cancelB := chromedp.NewContext(actx, chromedp.WithListener(b.event))
	t.Cleanup(func() { cancelB(); cancelA() })
	// The first Run starts the browser and lives as long as ctx: no timeout
	// on it (each step below has its own).
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	b.ctx = ctx
	return b
}

func (b *Tab) event(ev any) {
	var msg string
	switch e := ev.(type) {
	case *cdpruntime.EventConsoleAPICalled:
		if e.Type == cdpruntime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			msg = "console.error: " + strings.Join(parts, " ")
		}
	case *cdpruntime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg = "exception: " + d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
	case *page.EventJavascriptDialogOpening:
		msg = "a script opened a dialog: " + e.Message
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError {
			msg = fmt.Sprintf("log %s: %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
		}
	}
	if msg != "" {
		b.mu.Lock()
		b.errs = append(b.errs, msg)
		b.mu.Unlock()
	}
}

// NoErrors fails the test if any page logged an error since the last call.
func (b *Tab) NoErrors(where string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errs {
		b.t.Errorf("%s: the browser logged %s", where, e)
	}
	b.errs = nil
}

// Do runs steps with a timeout.
func (b *Tab) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression and decodes its value into v.
func (b *Tab) Eval(expr string, v any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage]("JSON.stringify("+expr+")"))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		b.t.Fatalf("evaluate %s: %s: %v", expr, raw, err)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		b.t.Fatalf("evaluate %s: %s: %v", expr, s, err)
	}
}

// Save writes a PNG of the whole page to Dir/file.
func (b *Tab) Save(file string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", file, err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, file), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// Hover moves the mouse to the centre of the first element sel matches.
func (b *Tab) Hover(sel string) {
	b.t.Helper()
	var c struct{ X, Y float64 }
	b.Eval(`(() => { const e = document.querySelector(`+strconv.Quote(sel)+`); e.scrollIntoView({block: "center", inline: "center"}); const r = e.getBoundingClientRect(); return {X: r.left + r.width/2, Y: r.top + r.height/2}; })()`, &c)
	b.Do("hover "+sel, chromedp.MouseEvent(chromedp.MouseMoved, c.X, c.Y))
}
