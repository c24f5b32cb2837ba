package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/attnlab/attnlab/internal/floatlit"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tasks"
	"github.com/attnlab/attnlab/tensor"
)

// Limits of the generate page: the input's length, the decoding's time,
// the beam widths offered, and how many loaded models stay in memory.
const (
	maxInput       = 2000 // bytes
	generateTime   = 30 * time.Second
	modelCacheSize = 4
)

var beamWidths = []int{2, 4, 8}

// generateFields are the fields of the generate form, each sent once.
var generateFields = []string{"input", "beam", "temperature", "top_k", "top_p", "seed"}

// generator loads the models of finished runs (a few, most recently used)
// and decodes one input at a time, so that the dashboard never takes more
// than one core for it.
type generator struct {
	st *store.Store
	// loadRun loads a run's model (runs.Load; a test counts the calls).
	loadRun func(ctx context.Context, st *store.Store, id int64) (*runs.Trained, error)

	mu      sync.Mutex
	models  []*runs.Trained // most recently used first
	loading sync.Mutex      // one model loaded at a time: requests for one run share its load
	decode  sync.Mutex      // one decoding at a time
}

func newGenerator(st *store.Store) *generator { return &generator{st: st, loadRun: runs.Load} }

// load returns the run's trained model, from memory when it was loaded
// before and the run is still the same (not retrained since). Models are
// loaded one at a time, so that simultaneous requests (ten tabs, or a
// page that fires requests) hold at most the cached models and one being
// loaded, and requests for the same run wait for its one load.
func (g *generator) load(ctx context.Context, run store.Run) (*runs.Trained, error) {
	if t := g.cached(run); t != nil {
		return t, nil
	}
	g.loading.Lock()
	defer g.loading.Unlock()
	if t := g.cached(run); t != nil { // loaded while this request waited
		return t, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := g.loadRun(ctx, g.st, run.ID)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.models = slices.DeleteFunc(g.models, func(o *runs.Trained) bool { return o.Run.ID == run.ID })
	g.models = append([]*runs.Trained{t}, g.models...)
	if len(g.models) > modelCacheSize {
		g.models = g.models[:modelCacheSize]
	}
	return t, nil
}

// cached returns the run's model if it is in memory (and moves it first).
func (g *generator) cached(run store.Run) *runs.Trained {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, t := range g.models {
		if t.Run.ID == run.ID && t.Run.Attempt == run.Attempt && t.Run.Finished.Equal(run.Finished) {
			g.models = append(append([]*runs.Trained{t}, g.models[:i]...), g.models[i+1:]...)
			return t
		}
	}
	return nil
}

// generation is what decoding one input gave.
type generation struct {
	Output    string
	Source    []string // the source tokens as the model saw them (<unk> for unknown ones)
	Tokens    []string // the output tokens, then <eos> when the output ended
	Attention [][]float32
}

// errInput marks an input the model cannot take; its message says why.
var errInput = errors.New("bad input")

// decoding is how the generate form asks to decode: greedy, beam search
// of width Beam, or sampling (attnlab generate's --beam, and --sample with
// --temperature, --top-k, --top-p and --seed).
type decoding struct {
	Beam        int
	Sample      bool
	Temperature float64
	TopK        int
	TopP        float64
	Seed        uint64
}

// generate decodes text with the run's model as d says. Unknown symbols
// are an error naming them and the first symbols the model knows. A
// sample is attnlab generate --sample's for the same seed and --input.
func (g *generator) generate(ctx context.Context, t *runs.Trained, text string, d decoding) (*generation, error) {
	vocab, tok := t.Spec.SrcVocab, t.Spec.SrcTok
	if t.Spec.LM {
		vocab, tok = t.Spec.TgtVocab, t.Spec.TgtTok
	}
	toks := tok.Split(text)
	ids := vocab.Encode(toks)
	var unknown []string
	for i, id := range ids {
		if id == seq.UnkID && !slices.Contains(unknown, strconv.Quote(toks[i])) {
			unknown = append(unknown, strconv.Quote(toks[i]))
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: unknown symbols %s", errInput, strings.Join(unknown, ", "))
	}
	if len(ids) == 0 && !t.Spec.LM {
		return nil, fmt.Errorf("%w: the input is empty", errInput)
	}
	if m, ok := t.Model.(interface{ MaxDecodeLen() int }); ok && !t.Spec.LM && m.MaxDecodeLen() > 0 && len(ids) > m.MaxDecodeLen() {
		return nil, fmt.Errorf("%w: the input has %d tokens; this model takes at most %d (its learned positions, model.max_len, were fixed when it was trained)", errInput, len(ids), m.MaxDecodeLen())
	}
	opt := models.DecodeOptions{Strategy: "greedy", MaxLen: t.OutputLimit(len(ids)), KeepAttention: 1}
	if t.Spec.LM || opt.MaxLen < 1 {
		opt.MaxLen = models.GenerateTokens
	}
	switch {
	case d.Beam > 0:
		opt.Strategy, opt.Beam, opt.LengthPenalty = "beam", d.Beam, t.Config.Eval.Decode.LengthPenalty
	case d.Sample:
		opt.Strategy, opt.Temperature, opt.TopK, opt.TopP = "sample", d.Temperature, d.TopK, d.TopP
		opt.RNG = tensor.NewRNG(d.Seed)
	}
	ctx, cancel := context.WithTimeout(ctx, generateTime)
	defer cancel()
	opt.Context = ctx
	b := &seq.Batch{Size: 1}
	if t.Spec.LM {
		b.T, b.In, b.TgtLen = len(ids), ids, []int{len(ids)}
	} else {
		b.S, b.Src, b.SrcLen = len(ids), ids, []int{len(ids)}
	}
	g.decode.Lock()
	hyps, err := models.Decode(t.Model, b, opt)
	g.decode.Unlock()
	if err != nil {
		return nil, err
	}
	h := hyps[0]
	out := &generation{Source: vocab.Decode(ids), Tokens: t.Spec.TgtVocab.Decode(h.Tokens), Attention: h.Attention}
	if h.Finished {
		out.Tokens = append(out.Tokens, tasks.EOSToken)
	}
	if t.Spec.LM {
		out.Output = t.Spec.TgtTok.Join(append(slices.Clip(toks), t.Spec.TgtVocab.Decode(tasks.Strip(h.Tokens))...))
		out.Attention = nil
	} else {
		out.Output = t.Spec.DecodeOutput(h.Tokens)
	}
	return out, nil
}

// generateView is the data of the generate page.
type generateView struct {
	Run    store.Run
	Name   string
	Action string
	LM     bool
	Input  string
	Beam   int
	Beams  []int
	// Sample chooses sampling, with these settings (as the form shows
	// them; the run's eval.decode's at first, and seed 1, as attnlab
	// generate --sample takes them).
	Sample                        bool
	Temperature, TopK, TopP, Seed string
	MaxInput                      int
	Known                         string
	Done                          bool
	Output                        string
	Heatmap                       *heatmap
	NoAttention                   string
}

func (s *Server) handleGenerate(w http.ResponseWriter, r *http.Request) {
	if s.opt.ReadOnly {
		s.fail(w, r, http.StatusForbidden, errors.New("generate is off: attnlab serve runs read-only by default (--read-only=false turns generate on)"))
		return
	}
	run, err := s.runOf(r)
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	ctx := r.Context()
	p := &page{Title: fmt.Sprintf("generate with run %d", run.ID),
		Crumbs: []crumb{{Name: "experiments", URL: "/"}, {Name: run.Experiment, URL: experimentURL(run.Experiment)},
			{Name: fmt.Sprintf("run %d", run.ID), URL: runURL(run.ID)}, {Name: "generate"}}}
	if run.Status != store.StatusDone {
		s.fail(w, r, http.StatusConflict, fmt.Errorf("run %d is %s: only a done run has a trained model to generate with", run.ID, run.Status))
		return
	}
	t, err := s.gen.load(ctx, run)
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	dd := t.Config.Eval.Decode
	v := &generateView{Run: run, Name: run.Name(), Action: runURL(run.ID) + "/generate", LM: t.Spec.LM, Beams: beamWidths, MaxInput: maxInput,
		Temperature: strconv.FormatFloat(dd.Temperature, 'g', -1, 64), TopK: strconv.Itoa(dd.TopK),
		TopP: strconv.FormatFloat(dd.TopP, 'g', -1, 64), Seed: "1"}
	vocab := t.Spec.SrcVocab
	if t.Spec.LM {
		vocab = t.Spec.TgtVocab
	}
	var known []string
	for i, tok := range vocab.Tokens()[seq.UnkID+1:] {
		if i == 60 {
			known = append(known, "…")
			break
		}
		known = append(known, tokenLabel(tok))
	}
	v.Known = strings.Join(known, " ")
	p.Data = v
	if r.Method != http.MethodPost {
		s.render(w, r, http.StatusOK, "generate", p)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		// ParseForm reads only this type: a multipart or JSON body would
		// be taken for an empty input.
		p.Error = fmt.Sprintf("the form must be sent as application/x-www-form-urlencoded (as the page sends it), not %q", r.Header.Get("Content-Type"))
		s.render(w, r, http.StatusUnsupportedMediaType, "generate", p)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4*maxInput+1024)
	if err := r.ParseForm(); err != nil {
		p.Error = "the form could not be read: " + err.Error()
		s.render(w, r, http.StatusBadRequest, "generate", p)
		return
	}
	v.Input = strings.TrimRight(r.PostForm.Get("input"), "\r\n")
	// The page sends each field once: a second value (a script's or
	// curl's input=a&input=b) would otherwise be dropped without a word.
	// Nor is one in the URL read (ParseForm keeps those out of PostForm):
	// a POST to ...?input=abc would be decoded as the empty input.
	for _, name := range generateFields {
		if n := len(r.PostForm[name]); n > 1 {
			p.Error = fmt.Sprintf("the form has %d values of %s: send one", n, name)
			s.render(w, r, http.StatusBadRequest, "generate", p)
			return
		}
		if r.URL.Query().Has(name) {
			p.Error = fmt.Sprintf("%s is in the URL: send the form's fields in the request body (application/x-www-form-urlencoded), as the page does", name)
			s.render(w, r, http.StatusBadRequest, "generate", p)
			return
		}
	}
	var d decoding
	if b := r.PostForm.Get("beam"); b == "sample" {
		v.Sample = true
		for _, f := range []struct {
			name string
			v    *string
		}{{"temperature", &v.Temperature}, {"top_k", &v.TopK}, {"top_p", &v.TopP}, {"seed", &v.Seed}} {
			if x, ok := r.PostForm[f.name]; ok {
				*f.v = strings.TrimSpace(x[0])
			}
		}
		if err := parseSampling(v, &d); err != nil {
			p.Error = err.Error()
			s.render(w, r, http.StatusBadRequest, "generate", p)
			return
		}
	} else if b != "" && b != "0" {
		n, err := strconv.Atoi(b)
		if err != nil || !slices.Contains(beamWidths, n) {
			p.Error = fmt.Sprintf("beam %q: choose greedy or a beam of %v", b, beamWidths)
			s.render(w, r, http.StatusBadRequest, "generate", p)
			return
		}
		v.Beam, d.Beam = n, n
	}
	if len(v.Input) > maxInput || !utf8.ValidString(v.Input) {
		p.Error = fmt.Sprintf("the input must be UTF-8 text of at most %d bytes", maxInput)
		s.render(w, r, http.StatusBadRequest, "generate", p)
		return
	}
	gen, err := s.gen.generate(ctx, t, v.Input, d)
	if err != nil {
		p.Error = s.st.Redact(err.Error())
		status := http.StatusBadRequest
		if !errors.Is(err, errInput) {
			status = s.statusOf(err, false)
			if status == http.StatusInternalServerError {
				status = http.StatusUnprocessableEntity // the model could not decode it
			}
		}
		s.render(w, r, status, "generate", p)
		return
	}
	v.Done, v.Output = true, gen.Output
	switch {
	case t.Spec.LM:
		v.NoAttention = "A language model has no source to attend over."
	case gen.Attention == nil:
		v.NoAttention = "This model has no attention weights to show."
	default:
		zero := true
		for _, row := range gen.Attention {
			for _, x := range row {
				zero = zero && x == 0
			}
		}
		if zero {
			v.NoAttention = "The attention weights are all 0 (attention none: the decoder sees only the encoder's final state)."
		} else {
			v.Heatmap = newHeatmap(gen.Source, gen.Tokens, gen.Attention, "Attention of each output token over the input", "")
		}
	}
	s.render(w, r, http.StatusOK, "generate", p)
}

// parseFloat reads the number s of the form's field name as attnlab
// generate reads its float flags (floatlit.Parse): 1e-400 is refused, not
// read as 0, which the check of the value would then speak of as
// "temperature 0", a value never given.
func parseFloat(name, s string) (float64, error) {
	x, err := floatlit.Parse(s)
	switch {
	case errors.Is(err, floatlit.ErrUnderflow):
		return 0, fmt.Errorf("%s %q: %w", name, s, err)
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%s %q: out of range for a number", name, s)
	case err != nil:
		return 0, fmt.Errorf("%s %q: not a number", name, s)
	}
	return x, nil
}

// parseSampling reads the sampling settings of the generate form into d,
// checked as attnlab generate checks its flags (models.CheckSampling).
func parseSampling(v *generateView, d *decoding) error {
	var err error
	d.Sample = true
	if d.Temperature, err = parseFloat("temperature", v.Temperature); err != nil {
		return err
	}
	if d.TopK, err = strconv.Atoi(v.TopK); err != nil {
		return fmt.Errorf("top-k %q: not a whole number", v.TopK)
	}
	if d.TopP, err = parseFloat("top-p", v.TopP); err != nil {
		return err
	}
	if d.Seed, err = strconv.ParseUint(v.Seed, 10, 64); err != nil {
		return fmt.Errorf("seed %q: want a whole number from 0 to %d", v.Seed, uint64(math.MaxUint64))
	}
	return models.CheckSampling(d.Temperature, d.TopK, d.TopP)
}
