package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/internal/printable"
	"github.com/attnlab/attnlab/seq"
)

// configYAML shows a run's resolved config (JSON) as block-style YAML, in
// the config's own key order; the JSON itself if it cannot be read.
func configYAML(config string) string {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(config), &n); err != nil {
		return config
	}
	var unflow func(*yaml.Node)
	unflow = func(n *yaml.Node) {
		n.Style &^= yaml.FlowStyle
		if n.Kind == yaml.ScalarNode && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 && n.Tag == "!!str" {
			n.Style &^= yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle // the encoder quotes what needs it
		}
		for _, c := range n.Content {
			unflow(c)
		}
	}
	unflow(&n)
	b, err := yaml.Marshal(&n)
	if err != nil {
		return config
	}
	return string(b)
}

// fillSamples reads the decoded test examples the run stored, if any.
func (s *Server) fillSamples(ctx context.Context, v *runView, has map[[2]string]bool) error {
	if !has[[2]string{artifact.KindSamples, artifact.NameSamples}] {
		return nil
	}
	b, err := s.st.Artifact(ctx, v.Run.ID, artifact.KindSamples, artifact.NameSamples)
	if err != nil {
		return err
	}
	var samples []artifact.Sample
	if err := json.Unmarshal(b, &samples); err != nil {
		return fmt.Errorf("run %d's samples: %w", v.Run.ID, err)
	}
	for i, sm := range samples {
		if i == maxSamples {
			v.MoreSamples = len(samples) - maxSamples
			break
		}
		v.Samples = append(v.Samples, sampleRow{Index: sm.Index, Source: sm.Source, Reference: sm.Reference, Output: sm.Output, Correct: sm.Correct})
	}
	return nil
}

// maxExampleLinks is how many examples a run page links to.
const maxExampleLinks = 40

// fillAttention reads the run's attention maps and draws the one of test
// example index (the first one when the run has no such example and index
// is 0).
func (s *Server) fillAttention(ctx context.Context, v *runView, has map[[2]string]bool, index int) error {
	if !has[[2]string{artifact.KindAttention, artifact.NameAttention}] {
		return nil
	}
	m, cur, indices, err := s.attentionMap(ctx, v.Run.ID, index)
	if err != nil || len(indices) == 0 {
		return err
	}
	if cur < 0 {
		if index != 0 {
			return fmt.Errorf("run %d has no attention map of test example %d", v.Run.ID, index)
		}
		cur = 0
	}
	for i, ix := range indices {
		v.Examples = append(v.Examples, exampleLink{Index: ix, URL: runURL(v.Run.ID) + "?example=" + strconv.Itoa(ix), Current: i == cur})
	}
	dbArg, dbNote := s.st.SharedCommandDB()
	v.Heatmap = newHeatmap(m.Source, m.Output, m.Weights, fmt.Sprintf("Test example %d: attention of each output token over the source", m.Index),
		fmt.Sprintf("; attnlab plot attention%s %d --example %d draws the whole map%s", dbArg, v.Run.ID, cur, noteParen(dbNote)))
	return nil
}

// attentionMap reads one of a run's stored attention maps: the last of
// test example index, at position cur of the list, or the first one (cur
// -1) when there is none. indices are the test examples of the first
// maxExampleLinks maps, for the page's links. Only the weights of the map
// returned are decoded: a run may store 10,000 maps, and decoding them all
// took seconds and a gigabyte per view of its page.
func (s *Server) attentionMap(ctx context.Context, run int64, index int) (m artifact.AttentionMap, cur int, indices []int, err error) {
	b, err := s.st.Artifact(ctx, run, artifact.KindAttention, artifact.NameAttention)
	if err != nil {
		return m, -1, nil, err
	}
	bad := func(err error) (artifact.AttentionMap, int, []int, error) {
		return artifact.AttentionMap{}, -1, nil, fmt.Errorf("run %d's attention maps: %w", run, err)
	}
	// The weights are scanned, not decoded, until the map is chosen; then
	// its bytes are decoded whole.
	type lazyMap struct {
		Index   int      `json:"index"`
		Weights skipJSON `json:"weights"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil {
		return bad(err)
	} else if tok == nil {
		return m, -1, nil, nil // null: no maps
	} else if tok != json.Delim('[') {
		return bad(fmt.Errorf("want a JSON array, got %v", tok))
	}
	var first, found [2]int64 // byte ranges
	cur = -1
	for i := 0; dec.More(); i++ {
		var l lazyMap
		start := dec.InputOffset()
		if err := dec.Decode(&l); err != nil {
			return bad(err)
		}
		end := dec.InputOffset()
		if i < maxExampleLinks {
			indices = append(indices, l.Index)
		}
		if i == 0 {
			first = [2]int64{start, end}
		}
		if l.Index == index {
			found, cur = [2]int64{start, end}, i
		}
	}
	if _, err := dec.Token(); err != nil {
		return bad(err)
	}
	if indices == nil {
		return m, -1, nil, nil
	}
	pick := found
	if cur < 0 {
		pick = first
	}
	// The offset before an element is that of the comma before it, if any.
	raw := bytes.TrimLeft(b[pick[0]:pick[1]], ", \t\r\n")
	if err := json.Unmarshal(raw, &m); err != nil {
		return bad(err)
	}
	return m, cur, indices, nil
}

func (s *Server) attentionMaps(ctx context.Context, run int64) ([]artifact.AttentionMap, error) {
	b, err := s.st.Artifact(ctx, run, artifact.KindAttention, artifact.NameAttention)
	if err != nil {
		return nil, err
	}
	var maps []artifact.AttentionMap
	if err := json.Unmarshal(b, &maps); err != nil {
		return nil, fmt.Errorf("run %d's attention maps: %w", run, err)
	}
	return maps, nil
}

// skipJSON takes any JSON value and keeps nothing of it.
type skipJSON struct{}

func (*skipJSON) UnmarshalJSON([]byte) error { return nil }

// heatmap is an attention map laid out as SVG: one square per (output
// token, source token), its colour the weight on a fixed 0–1 scale.
type heatmap struct {
	Caption       string
	Cut           string // what was left out of a map larger than maxHeatmapSide, "" when nothing
	Width, Height int
	Cell          int
	Cols, Rows    []hmLabel
	Cells         []hmCell
}

type hmLabel struct {
	X, Y int
	Tok  string
}

type hmCell struct {
	X, Y        int
	Fill        string
	Src, Out, W string
}

// maxHeatmapSide is the most tokens a heatmap draws on a side.
const maxHeatmapSide = 100

// maxPageArtifact is the largest samples or attention artifact a run page
// reads to show (a variable for a test).
var maxPageArtifact int64 = 32 << 20

// maxLabel is the most runes of a token a heatmap label shows.
const maxLabel = 14

// newHeatmap lays out weights (one row per output token, one column per
// source token). Rows or columns beyond the tokens given are labelled by
// their position. It draws at most maxHeatmapSide rows and columns, the
// first ones, and says so in Cut: a stored map can be any size, and its
// page would grow with the product of its sides.
func newHeatmap(src, out []string, weights [][]float32, caption, whole string) *heatmap {
	cols := 0
	for _, row := range weights {
		cols = max(cols, len(row))
	}
	rows := len(weights)
	var cut []string
	if rows > maxHeatmapSide {
		cut = append(cut, fmt.Sprintf("the first %d of %d output tokens", maxHeatmapSide, rows))
		rows = maxHeatmapSide
		weights = weights[:rows]
	}
	if cols > maxHeatmapSide {
		cut = append(cut, fmt.Sprintf("the first %d of %d source tokens", maxHeatmapSide, cols))
		cols = maxHeatmapSide
	}
	cell := 24
	if n := max(rows, cols); n > 30 {
		cell = max(8, 720/n)
	}
	label := func(toks []string, i int) string {
		if i < len(toks) {
			return tokenLabel(toks[i])
		}
		return "#" + strconv.Itoa(i)
	}
	longest := func(toks []string, n int) int {
		w := 1
		for i := range n {
			w = max(w, utf8.RuneCountInString(label(toks, i)))
		}
		return w
	}
	left := 12 + 8*longest(out, rows)
	top := 14 + int(6.2*float64(longest(src, cols)))
	h := &heatmap{Caption: caption, Cell: cell, Width: left + cols*cell + 70, Height: top + rows*cell + 8}
	if cut != nil {
		h.Cut = "Showing " + strings.Join(cut, " and ") + whole + "."
	}
	for j := range cols {
		x, y := left+j*cell+cell/2+4, top-6
		h.Cols = append(h.Cols, hmLabel{X: x, Y: y, Tok: label(src, j)})
	}
	for i := range rows {
		h.Rows = append(h.Rows, hmLabel{X: left - 6, Y: top + i*cell + cell*2/3, Tok: label(out, i)})
	}
	for i, row := range weights {
		for j, w := range row[:min(len(row), cols)] {
			h.Cells = append(h.Cells, hmCell{X: left + j*cell, Y: top + i*cell, Fill: weightColor(float64(w)),
				Src: label(src, j), Out: label(out, i), W: strconv.FormatFloat(float64(w), 'f', 3, 64)})
		}
	}
	return h
}

// tokenLabel shows a token: a space as ␣, a newline as ↵, a tab as ⇥,
// control and bidi characters and invalid bytes escaped as the CLI shows
// them (printable.Line: \x1b, \u202e), cut to maxLabel runes.
func tokenLabel(t string) string {
	if sign, ok := seq.Symbol(t); ok {
		return sign
	}
	return shorten(printable.Line(t), maxLabel)
}

// weightColor maps a weight in [0, 1] to a colour from near-white to dark
// blue (ColorBrewer's Blues); NaN is grey.
func weightColor(w float64) string {
	if math.IsNaN(w) {
		return "rgb(200,200,200)"
	}
	stops := [][3]float64{{247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}}
	w = math.Max(0, math.Min(1, w))
	f := w * float64(len(stops)-1)
	i := min(int(f), len(stops)-2)
	t := f - float64(i)
	var c [3]int
	for k := range c {
		c[k] = int(math.Round(stops[i][k] + t*(stops[i+1][k]-stops[i][k])))
	}
	return fmt.Sprintf("rgb(%d,%d,%d)", c[0], c[1], c[2])
}

// noteParen is store.SharedCommandDB's note as a parenthesis after a command
// line: "" or " (" + note + ")".
func noteParen(note string) string {
	if note == "" {
		return ""
	}
	return " (" + note + ")"
}
