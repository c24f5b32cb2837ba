package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/internal/safeout"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/store"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// readPNG decodes the PNG at path.
func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// px converts a length to pixels at PlotDPI.
func px(l vg.Length) int { return int(math.Round(l.Dots(PlotDPI))) }

func checkSize(t *testing.T, img image.Image, w, h int) {
	t.Helper()
	b := img.Bounds()
	if abs(b.Dx()-w) > 1 || abs(b.Dy()-h) > 1 {
		t.Errorf("image is %d×%d px, want %d×%d", b.Dx(), b.Dy(), w, h)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// near reports whether two colours differ by at most tol in every channel.
func near(a, b color.Color, tol int) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	d := func(x, y uint32) int { return abs(int(x>>8) - int(y>>8)) }
	return d(r1, r2) <= tol && d(g1, g2) <= tol && d(b1, b2) <= tol
}

// find returns the pixels of img within rect whose colour is near c.
func find(img image.Image, rect image.Rectangle, c color.Color, tol int) []image.Point {
	var out []image.Point
	rect = rect.Intersect(img.Bounds())
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			if near(img.At(x, y), c, tol) {
				out = append(out, image.Point{X: x, Y: y})
			}
		}
	}
	return out
}

// nonWhite counts the pixels of rect that are not white.
func nonWhite(img image.Image, rect image.Rectangle) int {
	n := 0
	rect = rect.Intersect(img.Bounds())
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			if !near(img.At(x, y), color.White, 0) {
				n++
			}
		}
	}
	return n
}

// goldenPNG compares the PNG at path with testdata/name (rewritten with
// -update): same size, and at most 0.5% of the pixels differing by more
// than 16 levels in a channel, so antialiasing noise passes and a moved
// label, line or legend does not. (gonum.org/v1/plot/cmpimg would do, but
// it imports rsc.io/pdf, which the module's go.sum does not list.)
// Rendering is pure Go, but floating-point contraction differs between
// architectures and can move edges, so the comparison is made on amd64
// only; the structural checks run everywhere.
func goldenPNG(t *testing.T, path, name string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if runtime.GOARCH != "amd64" {
		t.Logf("skipping the comparison with %s on %s", golden, runtime.GOARCH)
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := pngDiff(t, got, want); diff != "" {
		failed := filepath.Join(os.TempDir(), "attnlab-report-"+name)
		os.WriteFile(failed, got, 0o644)
		t.Errorf("%s differs from %s: %s; the new image is %s; run go test ./report -update to accept", path, golden, diff, failed)
	}
}

// pngDiff describes how two PNGs differ beyond rendering noise, or returns "".
func pngDiff(t *testing.T, a, b []byte) string {
	t.Helper()
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if ia.Bounds() != ib.Bounds() {
		return fmt.Sprintf("size %v, golden %v", ia.Bounds().Size(), ib.Bounds().Size())
	}
	r := ia.Bounds()
	bad := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if !near(ia.At(x, y), ib.At(x, y), 16) {
				bad++
			}
		}
	}
	if total := r.Dx() * r.Dy(); bad*200 > total {
		return fmt.Sprintf("%d of %d pixels differ", bad, total)
	}
	return ""
}

func TestPlotAttention(t *testing.T) {
	st, ids := buildStore(t, scanExperiment())
	ctx := context.Background()
	dir := t.TempDir()
	ref := ids["scan-attn"][2] // additive seed 1 holds two maps
	cm := attentionColors(1)
	at := func(v float64) color.Color { c, _ := cm.At(v); return c }

	t.Run("small", func(t *testing.T) {
		path := filepath.Join(dir, "small.png")
		if err := PlotAttention(ctx, st, ref, 0, 1, file(path)); err != nil {
			t.Fatal(err)
		}
		img := readPNG(t, path)
		// 5 tokens: the minimum figure, 12 × 9 cm.
		checkSize(t, img, px(12*vg.Centimeter), px(9*vg.Centimeter))
		w, h := img.Bounds().Dx(), img.Bounds().Dy()
		heat := image.Rect(0, 0, w-px(attnBar), h)
		bar := image.Rect(w-px(attnBar), 0, w, h)

		// The first output step is at the top: the diagonal's dark cells
		// run from the top left to the bottom right.
		dark := find(img, heat, at(0.9), 40)
		if len(dark) < 100 {
			t.Fatalf("%d dark pixels in the heat map, want the diagonal", len(dark))
		}
		var sx, sy, sxy, sxx, syy float64
		for _, p := range dark {
			x, y := float64(p.X), float64(p.Y)
			sx, sy, sxy, sxx, syy = sx+x, sy+y, sxy+x*y, sxx+x*x, syy+y*y
		}
		n := float64(len(dark))
		corr := (sxy/n - sx/n*sy/n) / math.Sqrt((sxx/n-sx*sx/n/n)*(syy/n-sy*sy/n/n))
		if corr < 0.9 {
			t.Errorf("dark cells correlate %.2f between x and y (image rows grow downwards), want a top-left to bottom-right diagonal", corr)
		}
		// The colour bar: weight 1 at its top, 0.5 lower, 0 at the bottom.
		top, mid, low := find(img, bar, at(1), 6), find(img, bar, at(0.5), 6), find(img, bar, at(0.02), 6)
		if len(top) == 0 || len(mid) == 0 || len(low) == 0 {
			t.Fatalf("colour bar: %d/%d/%d pixels for weights 1/0.5/0", len(top), len(mid), len(low))
		}
		if !(top[0].Y < mid[0].Y && mid[0].Y < low[0].Y) {
			t.Errorf("colour bar runs the wrong way: weight 1 at y=%d, 0.5 at y=%d, 0 at y=%d", top[0].Y, mid[0].Y, low[0].Y)
		}
		if nonWhite(img, bar) == 0 {
			t.Error("no colour bar")
		}
	})

	t.Run("long", func(t *testing.T) {
		path := filepath.Join(dir, "long.png")
		if err := PlotAttention(ctx, st, ref, 1, 1, file(path)); err != nil {
			t.Fatal(err)
		}
		img := readPNG(t, path)
		// 30 source tokens of at least 0.55 cm each, plus the colour bar.
		if w, min := img.Bounds().Dx(), px(30*attnCell+attnBar); w < min {
			t.Errorf("width %d px, want at least %d for 30 tokens of %v", w, min, attnCell)
		}
		if h, min := img.Bounds().Dy(), px(31*attnCell); h < min {
			t.Errorf("height %d px, want at least %d for 31 output steps", h, min)
		}
		goldenPNG(t, path, "attention_golden.png")
	})

	t.Run("very long", func(t *testing.T) {
		// A 1,300-token example: each side of the map is bounded, its
		// cells pooled 3 × 3, and the diagonal still shows.
		const n = 1300
		m := artifact.AttentionMap{Source: make([]string, n), Output: make([]string, n), Weights: make([][]float32, n)}
		for i := range n {
			m.Source[i], m.Output[i] = "a", "b"
			m.Weights[i] = make([]float32, n)
			m.Weights[i][i] = 1
		}
		x := fakeExperiment{name: "long", runs: []fakeRun{{params: map[string]any{"a": 1}, seed: 1, attn: []artifact.AttentionMap{m}}}}
		st, ids := buildStore(t, x)
		path := filepath.Join(dir, "verylong.png")
		if err := PlotAttention(ctx, st, ids["long"][0], 0, 1, file(path)); err != nil {
			t.Fatal(err)
		}
		img := readPNG(t, path)
		if w, h, most := img.Bounds().Dx(), img.Bounds().Dy(), px(attnMaxData+15*vg.Centimeter); w > most || h > most {
			t.Errorf("%d × %d px for 1,300 tokens, want at most %d on each side", w, h, most)
		}
		heat := image.Rect(0, 0, img.Bounds().Dx()-px(attnBar), img.Bounds().Dy())
		if dark := find(img, heat, at(0.9), 60); len(dark) < 100 {
			t.Errorf("%d dark pixels in the heat map, want the diagonal", len(dark))
		}
	})

	t.Run("fixed scale", func(t *testing.T) {
		// A uniform map of weight 0.5 must look like 0.5, not like the maximum.
		x := fakeExperiment{name: "uniform", runs: []fakeRun{{params: map[string]any{"a": 1}, seed: 1, attn: []artifact.AttentionMap{{
			Source: []string{"a", "b"}, Output: []string{"x", "<eos>"}, Weights: [][]float32{{0.5, 0.5}, {0.5, 0.5}}}}}}}
		st, ids := buildStore(t, x)
		path := filepath.Join(dir, "uniform.png")
		if err := PlotAttention(ctx, st, ids["uniform"][0], 0, 1, file(path)); err != nil {
			t.Fatal(err)
		}
		img := readPNG(t, path)
		heat := image.Rect(0, 0, img.Bounds().Dx()-px(attnBar), img.Bounds().Dy())
		if n := len(find(img, heat, at(0.5), 2)); n < 10000 {
			t.Errorf("%d pixels of weight 0.5's colour in the heat map, want the whole data area", n)
		}
		if n := len(find(img, heat, at(1), 10)); n > 0 {
			t.Errorf("%d pixels of the maximum's colour: the scale is not fixed to 0–1", n)
		}
	})

	t.Run("scale to the largest weight", func(t *testing.T) {
		// Attention spread evenly over 20 tokens (0.05 each) is pale on the
		// fixed scale; --vmax max tops the scale at 0.05, a smaller --vmax
		// gives heavier weights its colour, and the title and the colour
		// bar say the scale.
		const n = 20
		m := artifact.AttentionMap{Source: make([]string, n), Output: []string{"x", "<eos>"}, Weights: make([][]float32, 2)}
		for i := range m.Source {
			m.Source[i] = "t"
		}
		for i := range m.Weights {
			m.Weights[i] = make([]float32, n)
			for j := range m.Weights[i] {
				m.Weights[i][j] = 1.0 / n
			}
		}
		x := fakeExperiment{name: "attention-spread-evenly-over-twenty-tokens", runs: []fakeRun{{params: map[string]any{"a": 1}, seed: 1, attn: []artifact.AttentionMap{m}}}}
		st, ids := buildStore(t, x)
		darkest := func(top float64) color.Color { c, _ := attentionColors(top).At(top); return c }
		for _, tc := range []struct {
			vmax  float64
			color color.Color
			title string
		}{
			{1, at(0.05), ""},
			{0, darkest(0.05), " · colour scale 0–0.05"},
			{0.025, darkest(0.025), " · colour scale 0–0.025"},
		} {
			path := filepath.Join(dir, fmt.Sprintf("spread%v.png", tc.vmax))
			if err := PlotAttention(ctx, st, ids["attention-spread-evenly-over-twenty-tokens"][0], 0, tc.vmax, file(path)); err != nil {
				t.Fatal(err)
			}
			img := readPNG(t, path)
			heat := image.Rect(0, 0, img.Bounds().Dx()-px(attnBar), img.Bounds().Dy())
			if got := len(find(img, heat, tc.color, 2)); got < 10000 {
				t.Errorf("vmax %v: %d pixels of the expected colour in the heat map, want the whole data area", tc.vmax, got)
			}
			svg := filepath.Join(dir, fmt.Sprintf("spread%v.svg", tc.vmax))
			if err := PlotAttention(ctx, st, ids["attention-spread-evenly-over-twenty-tokens"][0], 0, tc.vmax, file(svg)); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(svg)
			if !strings.Contains(string(b), "test example 0"+tc.title+"<") {
				t.Errorf("vmax %v: the SVG has no title ending %q", tc.vmax, "test example 0"+tc.title)
			}
		}
		b, _ := os.ReadFile(filepath.Join(dir, "spread0.svg"))
		for _, label := range []string{">0.025<", ">0.05<"} {
			if !strings.Contains(string(b), label) {
				t.Errorf("the colour bar of --vmax max has no tick %s", label)
			}
		}
		if strings.Contains(string(b), ">0.75<") {
			t.Error("the colour bar of --vmax max has the fixed scale's tick 0.75")
		}
		// The title, longer by the scale, is not cut at the left edge.
		img := readPNG(t, filepath.Join(dir, "spread0.png"))
		if n := nonWhite(img, image.Rect(0, 0, 3, img.Bounds().Dy())); n > 0 {
			t.Errorf("%d drawn pixels at the image's left edge: the title does not fit", n)
		}
		for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
			if err := PlotAttention(ctx, st, ids["attention-spread-evenly-over-twenty-tokens"][0], 0, bad, file(filepath.Join(dir, "bad.png"))); err == nil || !strings.Contains(err.Error(), "not a weight in (0, 1]") {
				t.Errorf("vmax %v: %v, want an error", bad, err)
			}
		}
	})

	t.Run("formats", func(t *testing.T) {
		for ext, magic := range map[string]string{".svg": "<?xml", ".pdf": "%PDF", ".jpg": "\xff\xd8"} {
			path := filepath.Join(dir, "map"+ext)
			if err := PlotAttention(ctx, st, ref, 0, 1, file(path)); err != nil {
				t.Fatalf("%s: %v", ext, err)
			}
			b, _ := os.ReadFile(path)
			if !bytes.HasPrefix(b, []byte(magic)) {
				t.Errorf("%s starts with %q, want %q", ext, b[:min(len(b), 8)], magic)
			}
		}
		path := filepath.Join(dir, "map.bmp")
		if err := PlotAttention(ctx, st, ref, 0, 1, file(path)); err == nil || !strings.Contains(err.Error(), ".png, .svg, .pdf") {
			t.Errorf("bmp: %v, want an error listing the formats", err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("a failed plot left %s behind", path)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			ref     int64
			example int
			want    string
			is      error
		}{
			{ref, 2, "run 3 has 2 attention maps (examples 0–1); example 2 is out of range", nil},
			{ref, -1, "example -1 is out of range", nil},
			{ids["scan-attn"][0], 0, "run 1 (scan-attn) has no attention maps", ErrKey},
			{ids["scan-attn"][len(ids["scan-attn"])-1], 0, "/seed=4) has no attention maps: it is not finished (status queued)", ErrKey},
			{999, 0, "no run with id 999", store.ErrNotFound},
		} {
			err := PlotAttention(ctx, st, tc.ref, tc.example, 1, file(filepath.Join(dir, "x.png")))
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("PlotAttention(%d, %d) = %v, want %q", tc.ref, tc.example, err, tc.want)
			}
		}
	})
}

func TestAttnGrid(t *testing.T) {
	// Batch padding columns (all zero) beyond the source are dropped; rows
	// are padded; missing labels show as "·".
	g, err := newAttnGrid(artifact.AttentionMap{Source: []string{"a", " ", ""}, Output: []string{"x"},
		Weights: [][]float32{{0.5, 0.5, 0, 0, 0}, {1}}})
	if err != nil {
		t.Fatal(err)
	}
	if c, r := g.Dims(); c != 3 || r != 2 {
		t.Errorf("Dims = %d, %d, want 3, 2", c, r)
	}
	if strings.Join(g.src, ",") != "a,<sp>,<empty>" || strings.Join(g.out, ",") != "x,·" {
		t.Errorf("labels %q %q", g.src, g.out)
	}
	if g.Z(0, 1) != 0.5 || g.Z(0, 0) != 1 || g.Z(1, 0) != 0 {
		t.Errorf("Z: first output must be the top row (r = rows-1)")
	}
	g, _ = newAttnGrid(artifact.AttentionMap{Source: []string{"a"}, Weights: [][]float32{{0.5, 0.5}}})
	if c, _ := g.Dims(); c != 2 || g.src[1] != "·" {
		t.Errorf("weight beyond the source must stay: %d columns, labels %q", c, g.src)
	}
	if g.zero() {
		t.Error("zero() of a map with weights")
	}
	if g, _ := newAttnGrid(artifact.AttentionMap{Source: []string{"a"}, Weights: [][]float32{{0}}}); !g.zero() {
		t.Error("zero() of an all-zero map")
	}
	if _, err := newAttnGrid(artifact.AttentionMap{Source: []string{"a"}}); err == nil {
		t.Error("no weights: want an error")
	}
}

// checkSeries checks that each group's colour is drawn in the plot area
// and in the legend beside it.
func checkSeries(t *testing.T, img image.Image, groups int) {
	t.Helper()
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	// The legend starts right of the plot: plotWidth minus what the
	// legend takes is all plot.
	plotArea := image.Rect(0, 0, px(plotWidth)-px(vg.Centimeter), h)
	legendArea := image.Rect(px(plotWidth), 0, w, h)
	for i := range groups {
		if n := len(find(img, plotArea, seriesColor(i), 0)); n < 50 {
			t.Errorf("group %d: %d pixels of its colour in the plot area", i, n)
		}
		if n := len(find(img, legendArea, seriesColor(i), 0)); n < 20 {
			t.Errorf("group %d: %d pixels of its colour in the legend", i, n)
		}
	}
	if n := nonWhite(img, legendArea); n < 500 {
		t.Errorf("legend area nearly empty (%d pixels)", n)
	}
}

func TestPlotCurves(t *testing.T) {
	st, _ := buildStore(t, scanExperiment(), welchExperiment(), lossCurveExperiment())
	ctx := context.Background()
	dir := t.TempDir()
	q := Query{Experiments: []string{"scan-attn"}, By: []string{"attention.name"}}
	path := filepath.Join(dir, "curves.png")
	if _, err := PlotCurves(ctx, st, q, "valid/loss", file(path)); err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path)
	if h := img.Bounds().Dy(); abs(h-px(plotHeight)) > 1 {
		t.Errorf("height %d px, want %d", h, px(plotHeight))
	}
	if w := img.Bounds().Dx(); w <= px(plotWidth) {
		t.Errorf("width %d px, want more than %d (plot + legend)", w, px(plotWidth))
	}
	checkSeries(t, img, 3)
	// The min–max band: the first colour at alpha 56/255 over white.
	c := seriesColor(0)
	blend := func(x uint8) uint8 { return uint8(255 + (float64(x)-255)*56/255 + 0.5) }
	band := color.RGBA{blend(c.R), blend(c.G), blend(c.B), 255}
	if n := len(find(img, img.Bounds(), band, 3)); n < 200 {
		t.Errorf("%d pixels of the none group's band", n)
	}
	goldenPNG(t, path, "curves_golden.png")

	// A unique suffix, a log-scaled loss, and SVG.
	if _, err := PlotCurves(ctx, st, Query{Experiments: []string{"scan-attn"}}, "loss", file(filepath.Join(dir, "suffix.png"))); err != nil {
		t.Errorf("suffix: %v", err)
	}
	if _, err := PlotCurves(ctx, st, Query{Experiments: []string{"losscurve"}}, "train/loss", file(filepath.Join(dir, "log.svg"))); err != nil {
		t.Errorf("log scale: %v", err)
	}

	for _, tc := range []struct {
		q      Query
		metric string
		want   string
	}{
		{q, "valid/bleu", `unknown metric "valid/bleu" (the selected runs logged: valid/loss)`},
		{Query{Experiments: []string{"welch"}}, "train/loss", "the selected runs logged no metrics"},
		{Query{Experiments: []string{"nope"}}, "valid/loss", `unknown experiment "nope"`},
	} {
		_, err := PlotCurves(ctx, st, tc.q, tc.metric, file(filepath.Join(dir, "x.png")))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PlotCurves(%v, %s) = %v, want %q", tc.q.Experiments, tc.metric, err, tc.want)
		}
	}
}

// lossCurveExperiment has training losses spanning four decades.
func lossCurveExperiment() fakeExperiment {
	x := fakeExperiment{name: "losscurve"}
	for s := range 2 {
		for _, lr := range []float64{0.001, 0.01} {
			var h []float64
			for i := range 20 {
				h = append(h, 3*math.Exp(-float64(i)*lr*40)+1e-4*float64(s+1))
			}
			x.runs = append(x.runs, fakeRun{params: map[string]any{"train.optimizer.lr": lr}, seed: int64(s + 1),
				sums: map[string]float64{"test/loss": h[19]}, history: map[string][]float64{"train/loss": h}})
		}
	}
	return x
}

func TestPlotLength(t *testing.T) {
	st, _ := buildStore(t, scanExperiment(), welchExperiment())
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "length.png")
	if _, err := PlotLength(ctx, st, Query{Experiments: []string{"scan-attn"}, By: []string{"attention.name"}}, file(path)); err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path)
	if h := img.Bounds().Dy(); abs(h-px(plotHeight)) > 1 {
		t.Errorf("height %d px, want %d", h, px(plotHeight))
	}
	checkSeries(t, img, 3)
	goldenPNG(t, path, "length_golden.png")

	_, err := PlotLength(ctx, st, Query{Experiments: []string{"welch"}}, file(path))
	if err == nil || !strings.Contains(err.Error(), "no length-bucket summaries (test/exact_match/len_*)") || !errors.Is(err, ErrKey) {
		t.Errorf("no buckets: %v, want a usage error (ErrKey)", err)
	}
}

// contextExperiment has language models evaluated at context lengths
// 64–512 (test/loss@N), three position schemes × two seeds; t5 lacks
// test/loss@512 (a gap at the end of its line).
func contextExperiment() fakeExperiment {
	x := fakeExperiment{name: "lm-context"}
	rise := map[string]float64{"sinusoidal": 0.6, "alibi": -0.02, "t5": 0.08}
	for s := range 2 {
		for _, pos := range []string{"sinusoidal", "alibi", "t5"} {
			sums := map[string]float64{"test/loss": 1.5}
			for i, n := range []int{64, 128, 256, 512} {
				if pos == "t5" && n == 512 {
					continue
				}
				sums[metrics.AtContext("test/loss", n)] = 1.5 + rise[pos]*float64(i) + 0.03*float64(s)
			}
			x.runs = append(x.runs, fakeRun{params: map[string]any{"model.positions": pos, "task.name": "text"}, seed: int64(s + 1), sums: sums})
		}
	}
	return x
}

// TestPlotLengthContexts: language models' losses at evaluation context
// lengths are plotted against the length, one band per group; runs of
// both kinds at once are refused.
func TestPlotLengthContexts(t *testing.T) {
	st, _ := buildStore(t, contextExperiment(), scanExperiment())
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "context.png")
	if _, err := PlotLength(ctx, st, Query{Experiments: []string{"lm-context"}}, file(path)); err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path)
	checkSeries(t, img, 3)
	goldenPNG(t, path, "length_context_golden.png")

	_, err := PlotLength(ctx, st, Query{Experiments: []string{"lm-context", "scan-attn"}}, file(path))
	if err == nil || !strings.Contains(err.Error(), "plot one kind at a time") || !errors.Is(err, ErrKey) {
		t.Errorf("both kinds: %v, want a usage error (ErrKey)", err)
	}
}

func TestParseBucket(t *testing.T) {
	for _, tc := range []struct {
		key, label string
		ok         bool
	}{
		{"test/exact_match/len_1_10", "1–10", true},
		{"test/exact_match/len_161_inf", "161+", true},
		{"test/exact_match/len_5_5", "5", true},
		{"test/exact_match/len_10_1", "", false},
		{"test/exact_match/len_a_b", "", false},
		{"valid/exact_match/len_1_10", "", false},
		{"test/exact_match", "", false},
	} {
		b, ok := parseBucket(tc.key)
		if ok != tc.ok || (ok && b.label() != tc.label) {
			t.Errorf("parseBucket(%q) = %q, %v; want %q, %v", tc.key, b.label(), ok, tc.label, tc.ok)
		}
	}
}

// file is the plot destination path, replaced if it exists.
func file(path string) safeout.Target { return safeout.Target{Path: path, Force: true} }

// TestLegendLabelsPooled: a legend line names its row's pooled values as
// the table's pooled column lists them, so a line that averages runs of
// different settings says so.
func TestLegendLabelsPooled(t *testing.T) {
	c := &Comparison{Keys: []string{"model.attention.name"}, Pooled: []string{"train.steps"}, Rows: []Row{
		{Group: []string{"dot"}, Pooled: [][]string{{"60", "150"}}, Runs: []int64{1, 2, 3}},
		{Group: []string{"additive"}, Pooled: [][]string{{"150"}}, Runs: []int64{4, 5}},
	}}
	got := legendLabels(c, []int{0, 1}, map[int]int{0: 3, 1: 2})
	want := map[int]string{
		0: "attention.name=dot · train.steps=60, 150 (pooled) · 3 runs",
		1: "attention.name=additive · train.steps=150 (pooled) · 2 runs",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("label %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// partialLengthExperiment: attention dot and additive, three seeds; the
// third dot run has no example in the 161+ bucket, and the second
// additive run's 11–20 bucket is NaN.
func partialLengthExperiment() fakeExperiment {
	x := fakeExperiment{name: "partial-length"}
	for s := range 3 {
		for _, name := range []string{"dot", "additive"} {
			sums := map[string]float64{"test/exact_match": 0.5}
			for i, k := range []string{"1_10", "11_20", "161_inf"} {
				sums[LengthPrefix+k] = 0.9 - 0.3*float64(i) + 0.02*float64(s)
				sums[ExamplesPrefix+k] = float64(40 - 15*i + s) // the seeds' test sets differ
			}
			switch {
			case name == "dot" && s == 2:
				delete(sums, LengthPrefix+"161_inf")
				delete(sums, ExamplesPrefix+"161_inf")
			case name == "additive" && s == 1:
				sums[LengthPrefix+"11_20"] = math.NaN()
			}
			x.runs = append(x.runs, fakeRun{params: map[string]any{"model.attention.name": name}, seed: int64(s + 1), sums: sums})
		}
	}
	return x
}

// TestPlotLengthPartial: a length where only some of a group's runs have a
// value is drawn as the mean of those, dashed and counted, never as the
// group's mean (it used to be, solid, over the band of the runs left).
func TestPlotLengthPartial(t *testing.T) {
	st, _ := buildStore(t, partialLengthExperiment())
	ctx := context.Background()
	sel, c, err := groupQuery(ctx, st, Query{Experiments: []string{"partial-length"}})
	if err != nil {
		t.Fatal(err)
	}
	pts, _, err := lengthAxes(sel)
	if err != nil {
		t.Fatal(err)
	}
	// Each bucket says how many test examples it holds: the seeds' test
	// sets differ, so a range.
	for i, want := range []string{"1–10\n40–42 ex.", "11–20\n25–27 ex.", "161+\n10–12 ex."} {
		if pts[i].label != want {
			t.Errorf("bucket %d labelled %q, want %q", i, pts[i].label, want)
		}
	}
	want := map[string]struct {
		n      []int
		spans  []span
		counts []int
	}{
		"dot":      {[]int{3, 3, 2}, []span{{0, 1, true}, {1, 2, false}}, []int{2}},
		"additive": {[]int{3, 2, 3}, []span{{0, 2, false}}, []int{1}},
	}
	k := slices.Index(c.Keys, "model.attention.name")
	if k < 0 || len(c.Rows) != 2 {
		t.Fatalf("keys %v, %d rows; want model.attention.name, 2 rows", c.Keys, len(c.Rows))
	}
	for _, row := range c.Rows {
		name := row.Group[k]
		b := lengthBand(row.Runs, sel.sums, pts)
		w := want[name]
		if b.runs != 3 || !slices.Equal(b.n, w.n) {
			t.Errorf("%s: %d runs, %v per length; want 3, %v", name, b.runs, b.n, w.n)
		}
		if got := b.spans(); !slices.Equal(got, w.spans) {
			t.Errorf("%s: spans %v, want %v", name, got, w.spans)
		}
		if got := b.counts(); !slices.Equal(got, w.counts) {
			t.Errorf("%s: counts at %v, want %v", name, got, w.counts)
		}
	}
	path := filepath.Join(t.TempDir(), "partial.png")
	if _, err := PlotLength(ctx, st, Query{Experiments: []string{"partial-length"}}, file(path)); err != nil {
		t.Fatal(err)
	}
	goldenPNG(t, path, "length_partial_golden.png")
}

// TestBandSegments: a band breaks where no run has a value, and a count
// is never placed there.
func TestBandSegments(t *testing.T) {
	b := band{x: []float64{0, 1, 2, 3, 4}, mean: make([]float64, 5), lo: make([]float64, 5), hi: make([]float64, 5),
		n: []int{2, 0, 1, 1, 2}, runs: 2}
	var got [][]float64
	for _, seg := range b.segments() {
		got = append(got, seg.x)
		if seg.runs != 2 {
			t.Errorf("segment %v has %d runs, want 2", seg.x, seg.runs)
		}
	}
	if want := [][]float64{{0}, {2, 3, 4}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("segments %v, want %v", got, want)
	}
	if c := b.counts(); !slices.Equal(c, []int{2}) {
		t.Errorf("counts at %v, want [2]", c)
	}
}

// TestWrapTitle: a title wider than the plot breaks between its " · "
// parts, each line within the width; one that fits is left alone.
func TestWrapTitle(t *testing.T) {
	p := plot.New()
	styleAxes(p)
	short := "scan · valid/loss"
	p.Title.Text = short
	wrapTitle(p, 16*vg.Centimeter)
	if p.Title.Text != short {
		t.Errorf("a short title became %q", p.Title.Text)
	}
	long := "length_generalisation_copy, attention_vs_length · test exact match by source length · mean over runs, min–max as band or bars"
	p.Title.Text = long
	wrapTitle(p, 16*vg.Centimeter)
	lines := strings.Split(p.Title.Text, "\n")
	if len(lines) < 2 || strings.Join(lines, " · ") != long {
		t.Errorf("wrapped title %q: want its parts on several lines", p.Title.Text)
	}
	for _, l := range lines {
		if w := p.Title.TextStyle.Width(l); w > 16*vg.Centimeter {
			t.Errorf("line %q is %v wide, more than 16 cm", l, w)
		}
	}
}

// TestLogYLabel: a log-scale plot's data area reaches as high as a linear
// one's. gonum reserves room for the y label as if it sat at the
// arithmetic middle of the range, near the top of a log axis, and lowered
// the data area under a blank strip; logYLabel draws the label itself.
func TestLogYLabel(t *testing.T) {
	c := draw.New(vgimg.New(plotWidth, plotHeight))
	newPlot := func(log bool) *plot.Plot {
		p := plot.New()
		styleAxes(p)
		p.Title.Text = "quickstart · valid/loss"
		p.Y.Label.Text = "valid/loss (log scale)"
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 500, 1500, 0.0005, 0.65
		if log {
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		}
		return p
	}
	top := newPlot(false).DataCanvas(c).Max.Y
	if gonum := newPlot(true).DataCanvas(c).Max.Y; top-gonum < vg.Points(10) {
		t.Logf("gonum no longer lowers a log plot's data area (%v against %v): logYLabel may go", gonum, top)
	}
	p := newPlot(true)
	rest := logYLabel(c, p)
	if got := p.DataCanvas(rest).Max.Y; got < top-1 {
		t.Errorf("the log plot's data area ends at %v, below the linear one's %v", got, top)
	}
	if p.Y.Label.Text != "" || rest.Min.X <= c.Min.X {
		t.Errorf("the label was not taken out of the plot and given room (%q, %v)", p.Y.Label.Text, rest.Min.X)
	}
}

// TestPlotLengthMixedBuckets: runs evaluated with different
// eval.length_buckets have overlapping buckets, which one axis cannot
// order; the plot is refused, naming two of them (it laid out 1–6, 1–25,
// 7–8, … evenly).
func TestPlotLengthMixedBuckets(t *testing.T) {
	x := fakeExperiment{name: "mixed-buckets"}
	for s, keys := range [][]string{{"1_6", "7_8", "9_inf"}, {"1_25", "26_30", "31_inf"}} {
		sums := map[string]float64{"test/exact_match": 0.5}
		for _, k := range keys {
			sums[LengthPrefix+k] = 0.5
		}
		x.runs = append(x.runs, fakeRun{params: map[string]any{"model.attention.name": "dot", "eval.length_buckets": fmt.Sprint(s)}, seed: 1, sums: sums})
	}
	st, _ := buildStore(t, x)
	_, err := PlotLength(context.Background(), st, Query{Experiments: []string{"mixed-buckets"}}, file(filepath.Join(t.TempDir(), "x.png")))
	if err == nil || !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), "overlapping length buckets (1–6 and 1–25)") {
		t.Errorf("mixed buckets: %v", err)
	}
	if _, _, err := LengthBuckets([]string{LengthPrefix + "1_6", LengthPrefix + "1_25"}); err == nil {
		t.Error("LengthBuckets accepted overlapping buckets")
	}
}

// TestPlotFormats: every extension of PlotFormats has a canvas, in either
// case, and CheckPlotPath refuses the others before any work is done.
func TestPlotFormats(t *testing.T) {
	for _, ext := range PlotFormats {
		for _, path := range []string{"a" + ext, "dir.x/A" + strings.ToUpper(ext)} {
			if err := CheckPlotPath(path); err != nil {
				t.Errorf("CheckPlotPath(%q) = %v", path, err)
			}
			if c, err := newCanvas(path, 10, 10); err != nil || c == nil {
				t.Errorf("newCanvas(%q) = %v, %v", path, c, err)
			}
		}
	}
	for path, want := range map[string]string{
		"x.doc":     `unknown format ".doc" (want one of .png, .svg, .pdf, .eps, .jpg, .jpeg, .tif, .tiff)`,
		"dir.png/x": `no extension (want one of .png, .svg, .pdf, .eps, .jpg, .jpeg, .tif, .tiff)`,
	} {
		if err := CheckPlotPath(path); err == nil || err.Error() != want {
			t.Errorf("CheckPlotPath(%q) = %v, want %s", path, err, want)
		}
		want = fmt.Sprintf("report: plot file %q: %s", path, want)
		if _, err := newCanvas(path, 10, 10); err == nil || err.Error() != want {
			t.Errorf("newCanvas(%q) = %v, want %s", path, err, want)
		}
	}
}

// TestAttnGridPool: a map with a side over the most cells is shrunk to
// blocks, each the largest weight of its block, labelled by its first
// token, each side pooled only when it is over the most (one output step
// over 773 source tokens stays one row); a smaller one is left as is.
func TestAttnGridPool(t *testing.T) {
	grid := func() *attnGrid {
		return &attnGrid{rows: 3, cols: 5, src: []string{"a", "b", "c", "d", "e"}, out: []string{"x", "y", "z"},
			w: [][]float64{{0, 0.9, 0, 0, 0.1}, {0.2, 0, 0, 0.7, 0}, {0, 0, 0.5, 0, 0}}}
	}
	g := grid()
	if kr, kc := g.pool(5); kr != 1 || kc != 1 || g.cols != 5 {
		t.Fatalf("pool(5) of 3 × 5 = %d, %d, %d columns; want 1, 1, 5", kr, kc, g.cols)
	}
	for _, tc := range []struct {
		most, kr, kc int
		want         [][]float64
		src, out     string
	}{
		{3, 1, 2, [][]float64{{0.9, 0, 0.1}, {0.2, 0.7, 0}, {0, 0.5, 0}}, "[a c e]", "[x y z]"},
		{2, 2, 3, [][]float64{{0.9, 0.7}, {0.5, 0}}, "[a d]", "[x z]"},
	} {
		g := grid()
		kr, kc := g.pool(tc.most)
		if kr != tc.kr || kc != tc.kc {
			t.Fatalf("pool(%d) of 3 × 5 = %d × %d, want %d × %d", tc.most, kr, kc, tc.kr, tc.kc)
		}
		if fmt.Sprint(g.w) != fmt.Sprint(tc.want) || fmt.Sprint(g.src) != tc.src || fmt.Sprint(g.out) != tc.out || g.rows != len(tc.want) || g.cols != len(tc.want[0]) {
			t.Errorf("pool(%d): %v (%d × %d), labels %v %v; want %v, %s, %s", tc.most, g.w, g.rows, g.cols, g.src, g.out, tc.want, tc.src, tc.out)
		}
	}
	for _, tc := range []struct {
		step, per int
		want      string
	}{{1, 1, "source"}, {1, 0, "source"}, {7, 2, "source (every 14th token labelled)"}, {1, 2, "source (every 2nd token labelled)"},
		{3, 7, "source (every 21st token labelled)"}, {1, 3, "source (every 3rd token labelled)"}, {1, 13, "source (every 13th token labelled)"}, {1, 112, "source (every 112th token labelled)"}} {
		if got := axisLabel("source", tc.step, tc.per); got != tc.want {
			t.Errorf("axisLabel(%d, %d) = %q, want %q", tc.step, tc.per, got, tc.want)
		}
	}
}

// TestPlotVectorBackground: an SVG plot is white under all of it, the
// legend beside a curves or length plot, a log axis's label and an
// attention map's colour bar included, before any text is drawn. gonum
// paints white only under the plot; the vector canvases start transparent,
// so that on a dark page the legend was black text on black.
func TestPlotVectorBackground(t *testing.T) {
	st, ids := buildStore(t, scanExperiment(), lossCurveExperiment())
	ctx := context.Background()
	dir := t.TempDir()
	viewBox := regexp.MustCompile(`viewBox="0 0 ([0-9.]+) ([0-9.]+)"`)
	for name, plotTo := range map[string]func(path string) error{
		"curves": func(path string) error {
			_, err := PlotCurves(ctx, st, Query{Experiments: []string{"scan-attn"}, By: []string{"attention.name"}}, "valid/loss", file(path))
			return err
		},
		"log curves": func(path string) error {
			_, err := PlotCurves(ctx, st, Query{Experiments: []string{"losscurve"}}, "train/loss", file(path))
			return err
		},
		"length": func(path string) error {
			_, err := PlotLength(ctx, st, Query{Experiments: []string{"scan-attn"}, By: []string{"attention.name"}}, file(path))
			return err
		},
		"attention": func(path string) error { return PlotAttention(ctx, st, ids["scan-attn"][2], 0, 1, file(path)) },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".svg")
			if err := plotTo(path); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			svg := string(b)
			m := viewBox.FindStringSubmatch(svg)
			if m == nil {
				t.Fatalf("no viewBox in %.200s", svg)
			}
			w, h := m[1], m[2]
			bg := fmt.Sprintf(`<path d="M0,0L%s,0L%s,%sL0,%sZ" style="fill:#FFFFFF" />`, w, w, h, h)
			at, text := strings.Index(svg, bg), strings.Index(svg, "<text")
			if at < 0 || text >= 0 && text < at {
				t.Errorf("no white background over the whole %s×%s figure before its first text (want %s)", w, h, bg)
			}
		})
	}
}
