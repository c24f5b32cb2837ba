package runs

import (
	"bytes"
	"encoding/base64"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// A checkpoint is one safetensors file: the parameters under "param.<name>",
// the optimizer state under "optim.<name>", the best parameters (early
// stopping) under "best.<name>", and in the metadata "attnlab.state" the
// training state (step, batcher position, RNG states, logging and
// early-stopping accumulators, the validation metrics of the best
// evaluation) as base64 gob, which keeps NaN and infinities (a diverging
// run's losses) that JSON cannot. Restoring it gives a run that continues
// exactly as if it had never stopped, on a machine whose CPU is of the
// kind that wrote it (tensor's kernels of another kind round differently).

const metaState = "attnlab.state"

// savedState is what the metadata holds.
type savedState struct {
	Train    trainState
	BestEval map[string]float64
	LastEval map[string]float64 // absent from checkpoints written before it
}

func encodeState(s savedState) (string, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

func decodeState(meta map[string]string) (savedState, error) {
	var s savedState
	raw, err := base64.StdEncoding.DecodeString(meta[metaState])
	if err == nil {
		err = gob.NewDecoder(bytes.NewReader(raw)).Decode(&s)
	}
	if err != nil {
		return s, fmt.Errorf("checkpoint state: %w", err)
	}
	return s, nil
}

func (r *run) checkpoint() error {
	data, err := r.encodeCheckpoint()
	if err != nil {
		return err
	}
	return r.rec.Checkpoint(r.st.Step, data)
}

func (r *run) encodeCheckpoint() ([]byte, error) {
	var err error
	r.st.Batcher = r.batcher.State()
	if r.st.TFRNG, err = r.tfRNG.MarshalBinary(); err != nil {
		return nil, err
	}
	if r.st.Dropout, err = saveStreams(r.st.Dropout[:0], dropouts(r.model)); err != nil {
		return nil, err
	}
	if r.st.EncoderDropout, err = saveStreams(r.st.EncoderDropout[:0], encoderDropouts(r.model)); err != nil {
		return nil, err
	}
	state, err := encodeState(savedState{Train: r.timesNow(), BestEval: r.bestEval, LastEval: r.lastEval})
	if err != nil {
		return nil, err
	}
	var names []string
	var ts []*tensor.Tensor
	for _, p := range r.params {
		names = append(names, "param."+p.Name)
		ts = append(ts, p.Tensor)
	}
	opt := r.optim.State()
	keys := make([]string, 0, len(opt))
	for k := range opt {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		names = append(names, "optim."+k)
		ts = append(ts, opt[k])
	}
	for i, b := range r.best {
		names = append(names, "best."+r.params[i].Name)
		ts = append(ts, tensor.FromData(b, r.params[i].Shape()...))
	}
	var buf bytes.Buffer
	meta := map[string]string{metaState: state}
	if err := layers.WriteTensors(&buf, names, ts, meta); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// restore loads a checkpoint written by encodeCheckpoint.
func (r *run) restore(data []byte) error {
	ts, meta, err := layers.ReadTensors(bytes.NewReader(data))
	if err != nil {
		return err
	}
	saved, err := decodeState(meta)
	if err != nil {
		return err
	}
	st := saved.Train
	r.bestEval, r.lastEval = saved.BestEval, saved.LastEval
	for _, p := range r.params {
		t, ok := ts["param."+p.Name]
		if !ok {
			return fmt.Errorf("checkpoint has no parameter %q", p.Name)
		}
		if len(t.Data) != p.Len() {
			return fmt.Errorf("checkpoint parameter %q has %d values, model wants %d", p.Name, len(t.Data), p.Len())
		}
		copy(p.Data, t.Data)
		if b, ok := ts["best."+p.Name]; ok {
			r.best = append(r.best, append([]float32(nil), b.Data...))
		}
	}
	opt := map[string]*tensor.Tensor{}
	for k, t := range ts {
		if name, ok := cutPrefix(k, "optim."); ok {
			opt[name] = t
		}
	}
	if err := r.optim.LoadState(opt, st.Step); err != nil {
		return err
	}
	if err := r.batcher.Restore(st.Batcher); err != nil {
		return err
	}
	if err := r.tfRNG.UnmarshalBinary(st.TFRNG); err != nil {
		return err
	}
	if err := loadStreams("dropout", dropouts(r.model), st.Dropout); err != nil {
		return err
	}
	// A checkpoint older than EncoderDropout leaves those streams where
	// Init put them, as it always did.
	if len(st.EncoderDropout) > 0 {
		if err := loadStreams("encoder dropout", encoderDropouts(r.model), st.EncoderDropout); err != nil {
			return err
		}
	}
	r.st = st
	return nil
}

// saveStreams appends the state of each dropout module's stream to dst.
func saveStreams(dst [][]byte, ds []*layers.Dropout) ([][]byte, error) {
	for _, d := range ds {
		b, err := d.RNG.MarshalBinary()
		if err != nil {
			return nil, err
		}
		dst = append(dst, b)
	}
	return dst, nil
}

// loadStreams restores the dropout modules' streams from saved, one each.
func loadStreams(what string, ds []*layers.Dropout, saved [][]byte) error {
	if len(ds) != len(saved) {
		return fmt.Errorf("checkpoint has %d %s streams, model has %d", len(saved), what, len(ds))
	}
	for i, d := range ds {
		if err := d.RNG.UnmarshalBinary(saved[i]); err != nil {
			return err
		}
	}
	return nil
}

// checkpointStep returns the step a checkpoint was taken after (0 if it
// cannot be read; restoring it will then report the problem).
func checkpointStep(data []byte) int {
	_, meta, err := layers.ReadTensors(bytes.NewReader(data))
	if err != nil {
		return 0
	}
	saved, err := decodeState(meta)
	if err != nil {
		return 0
	}
	return saved.Train.Step
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

// saveModel stores the final parameters and the dataset spec (vocabularies
// and tokenizers), what `attnlab generate` needs. The parameters' metadata
// "step" is the step they were taken at: the best evaluation's when early
// stopping restored its weights (finish), the last step's otherwise.
func (r *run) saveModel() error {
	step := r.st.Step
	if r.best != nil {
		step = r.st.BestStep
	}
	var buf bytes.Buffer
	if err := layers.SaveSafetensors(&buf, r.params, map[string]string{"step": fmt.Sprint(step)}); err != nil {
		return err
	}
	if err := r.rec.Artifact(artifact.KindModel, artifact.NameParams, buf.Bytes()); err != nil {
		return err
	}
	spec, err := json.Marshal(r.data.Spec())
	if err != nil {
		return err
	}
	if err := r.rec.Artifact(artifact.KindModel, artifact.NameVocab, spec); err != nil {
		return err
	}
	info, err := json.Marshal(modelInfo{Spec: r.spec, MaxOut: r.maxOut, LongestSrc: r.longestSrc})
	if err != nil {
		return err
	}
	return r.rec.Artifact(artifact.KindModel, artifact.NameModelSpec, info)
}

// dropouts finds every dropout module reachable from m through exported
// fields, slices and interfaces, in a fixed order, each once. Their RNG
// streams are part of a checkpoint.
func dropouts(m any) []*layers.Dropout { return findDropouts(m, false) }

// encoderDropouts lists the dropout modules findDropouts(m, true) finds
// and dropouts does not (those between a recurrent encoder's layers), in
// order. Checkpoints keep their streams apart (trainState.EncoderDropout),
// so that older checkpoints, which lack them, still load.
func encoderDropouts(m any) []*layers.Dropout {
	seen := map[*layers.Dropout]bool{}
	for _, d := range dropouts(m) {
		seen[d] = true
	}
	return slices.DeleteFunc(findDropouts(m, true), func(d *layers.Dropout) bool { return seen[d] })
}

// findDropouts is dropouts; with recurrent it also looks inside what a
// model's recurrent encoder hides behind its Recurrent method (the dropout
// between an encoder's layers).
func findDropouts(m any, recurrent bool) []*layers.Dropout {
	var out []*layers.Dropout
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			if d, ok := v.Interface().(*layers.Dropout); ok {
				out = append(out, d)
				return
			}
			if _, ok := v.Interface().(*tensor.Tensor); ok {
				return
			}
			walk(v.Elem())
			if r, ok := v.Interface().(interface{ Recurrent() layers.Recurrent }); ok && recurrent {
				walk(reflect.ValueOf(r.Recurrent()))
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Float32 {
				return
			}
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(m))
	return out
}
