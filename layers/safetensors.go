package layers

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/attnlab/attnlab/tensor"
)

// Checkpoints use the safetensors layout (https://github.com/huggingface/safetensors):
//
//	8 bytes    N, the header length, little-endian uint64
//	N bytes    JSON header: {"name": {"dtype": "F32", "shape": [...],
//	           "data_offsets": [begin, end]}, ..., "__metadata__": {...}}
//	rest       the tensors' raw little-endian float32 data
//
// Offsets are relative to the start of the data; the tensors tile it in
// order with neither gaps nor overlaps. The header is padded with spaces to
// a multiple of 8 bytes, as the reference implementation does. Only F32
// tensors are written and read.

// MetadataKey is the header entry holding the string→string metadata.
const MetadataKey = "__metadata__"

// MaxHeaderSize bounds the JSON header a reader accepts (as the reference
// implementation does), so a corrupt length cannot exhaust memory.
const MaxHeaderSize = 100 << 20

// SaveSafetensors writes the parameters ps, by name and in order, with the
// optional metadata meta (e.g. attnlab version, step). It returns an error
// on a duplicate or empty name and on a write error.
func SaveSafetensors(w io.Writer, ps []*Param, meta map[string]string) error {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return WriteTensors(w, names, Tensors(ps), meta)
}

// WriteTensors writes the tensors ts under names (same length), in order,
// with the optional metadata. It is the format SaveSafetensors writes, for
// state that is not a parameter (optimizer moments). It returns an error on
// mismatched lengths, a duplicate, empty, reserved or non-UTF-8 name, and
// a write error.
func WriteTensors(w io.Writer, names []string, ts []*tensor.Tensor, meta map[string]string) error {
	if len(names) != len(ts) {
		return fmt.Errorf("checkpoint: %d names for %d tensors", len(names), len(ts))
	}
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	seen := make(map[string]bool, len(names))
	var off int64
	for i, name := range names {
		switch {
		case name == "":
			return fmt.Errorf("checkpoint: tensor %d has an empty name", i)
		case name == MetadataKey:
			return fmt.Errorf("checkpoint: tensor name %q is reserved", name)
		case seen[name]:
			return fmt.Errorf("checkpoint: duplicate tensor name %q", name)
		case !utf8.ValidString(name):
			return fmt.Errorf("checkpoint: tensor name %q is not valid UTF-8", name)
		}
		seen[name] = true
		if i > 0 {
			hdr.WriteByte(',')
		}
		n := int64(ts[i].Len()) * 4
		writeJSONString(&hdr, name)
		fmt.Fprintf(&hdr, `:{"dtype":"F32","shape":%s,"data_offsets":[%d,%d]}`, shapeJSON(ts[i].Shape()), off, off+n)
		off += n
	}
	if len(meta) > 0 {
		if len(names) > 0 {
			hdr.WriteByte(',')
		}
		writeJSONString(&hdr, MetadataKey)
		hdr.WriteByte(':')
		b, err := json.Marshal(meta) // keys sorted: the same state gives the same bytes
		if err != nil {
			return fmt.Errorf("checkpoint: metadata: %w", err)
		}
		hdr.Write(b)
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	if g, ok := w.(interface{ Grow(int) }); ok {
		// A bytes.Buffer takes the whole file at once: grown by doubling,
		// a checkpoint of n bytes would allocate up to 4n on the way.
		g.Grow(8 + hdr.Len() + int(off))
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(hdr.Len()))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("checkpoint: write: %w", err)
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return fmt.Errorf("checkpoint: write: %w", err)
	}
	buf := make([]byte, 0, 64<<10)
	for _, t := range ts {
		for _, v := range t.Data {
			if len(buf)+4 > cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return fmt.Errorf("checkpoint: write: %w", err)
				}
				buf = buf[:0]
			}
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("checkpoint: write: %w", err)
	}
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}

func shapeJSON(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// headerEntry is one tensor of the JSON header; pointers tell a missing
// field from a zero one.
type headerEntry struct {
	DType   *string  `json:"dtype"`
	Shape   *[]int64 `json:"shape"`
	Offsets *[]int64 `json:"data_offsets"`
}

// ReadTensors reads a whole checkpoint and returns its tensors by name (new
// leaf tensors that do not require gradients) and its metadata (nil if it
// has none). A truncated or corrupt input (a bad header length, invalid
// JSON, a missing field, a dtype other than F32, a shape that does not
// match its byte range, offsets out of range, overlapping or leaving gaps,
// trailing bytes) gives an error naming the tensor or the problem; it never
// panics.
func ReadTensors(r io.Reader) (map[string]*tensor.Tensor, map[string]string, error) {
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, nil, fmt.Errorf("checkpoint: read header length: %w", eofAsUnexpected(err))
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n < 2 || n > MaxHeaderSize {
		return nil, nil, fmt.Errorf("checkpoint: header length %d outside [2, %d]", n, MaxHeaderSize)
	}
	hdr, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: read header of %d bytes: %w", n, err)
	}
	if uint64(len(hdr)) < n {
		return nil, nil, fmt.Errorf("checkpoint: read header of %d bytes: %w", n, io.ErrUnexpectedEOF)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, nil, fmt.Errorf("checkpoint: header: %w", err)
	}
	if raw == nil {
		return nil, nil, errors.New("checkpoint: header is not a JSON object")
	}
	var meta map[string]string
	if m, ok := raw[MetadataKey]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, nil, fmt.Errorf("checkpoint: %s is not a string→string map: %w", MetadataKey, err)
		}
		delete(raw, MetadataKey)
	}

	type span struct {
		name       string
		begin, end int64
		shape      []int
	}
	spans := make([]span, 0, len(raw))
	for name, msg := range raw {
		var e headerEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, nil, fmt.Errorf("checkpoint: tensor %q: %w", name, err)
		}
		switch {
		case e.DType == nil:
			return nil, nil, fmt.Errorf("checkpoint: tensor %q has no dtype", name)
		case *e.DType != "F32":
			return nil, nil, fmt.Errorf("checkpoint: tensor %q has dtype %q, want F32", name, *e.DType)
		case e.Shape == nil:
			return nil, nil, fmt.Errorf("checkpoint: tensor %q has no shape", name)
		case e.Offsets == nil || len(*e.Offsets) != 2:
			return nil, nil, fmt.Errorf("checkpoint: tensor %q needs data_offsets [begin, end]", name)
		}
		begin, end := (*e.Offsets)[0], (*e.Offsets)[1]
		if name == "" {
			return nil, nil, errors.New("checkpoint: a tensor has an empty name")
		}
		if begin < 0 || end < begin {
			return nil, nil, fmt.Errorf("checkpoint: tensor %q has data_offsets [%d, %d]", name, begin, end)
		}
		shape := make([]int, len(*e.Shape))
		count := int64(1)
		for i, d := range *e.Shape {
			if d < 0 || (d > 0 && count > math.MaxInt32/d) {
				return nil, nil, fmt.Errorf("checkpoint: tensor %q has shape %v", name, *e.Shape)
			}
			count *= d
			shape[i] = int(d)
		}
		if count*4 != end-begin {
			return nil, nil, fmt.Errorf("checkpoint: tensor %q has shape %v (%d bytes) but data_offsets [%d, %d] (%d bytes)",
				name, shape, count*4, begin, end, end-begin)
		}
		spans = append(spans, span{name, begin, end, shape})
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end
	})
	var pos int64
	for i, s := range spans {
		switch {
		case s.begin < pos:
			return nil, nil, fmt.Errorf("checkpoint: tensor %q (bytes [%d, %d]) overlaps tensor %q", s.name, s.begin, s.end, spans[i-1].name)
		case s.begin > pos:
			return nil, nil, fmt.Errorf("checkpoint: gap of %d bytes before tensor %q", s.begin-pos, s.name)
		}
		pos = s.end
	}
	// Read exactly the data the header describes (growing the buffer with
	// what arrives, not with what the header claims), then insist on EOF.
	data, err := io.ReadAll(io.LimitReader(r, pos))
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: read data: %w", err)
	}
	if int64(len(data)) < pos {
		return nil, nil, fmt.Errorf("checkpoint: data truncated: %d of %d bytes", len(data), pos)
	}
	if k, _ := io.ReadFull(r, make([]byte, 1)); k != 0 {
		return nil, nil, fmt.Errorf("checkpoint: trailing bytes after %d bytes of data", pos)
	}
	out := make(map[string]*tensor.Tensor, len(spans))
	for _, s := range spans {
		vals := make([]float32, (s.end-s.begin)/4)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[s.begin+4*int64(i):]))
		}
		out[s.name] = tensor.FromData(vals, s.shape...)
	}
	return out, meta, nil
}

func eofAsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// LoadSafetensors reads a checkpoint into the existing parameters ps, by
// name (copying into their data, so optimizers holding them stay valid),
// and returns its metadata. Every parameter must be in the file with its
// exact shape and the file must hold nothing else; otherwise nothing is
// loaded and the error names every tensor that differs, e.g.
//
//	checkpoint: tensor "decoder.W" has shape [4 8], model wants [4 6]
//
// Read errors are those of ReadTensors.
func LoadSafetensors(r io.Reader, ps []*Param) (map[string]string, error) {
	ts, meta, err := ReadTensors(r)
	if err != nil {
		return nil, err
	}
	var problems []string
	want := make(map[string]bool, len(ps))
	for _, p := range ps {
		want[p.Name] = true
		t, ok := ts[p.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("missing tensor %q", p.Name))
		case !slices.Equal(t.Shape(), p.Shape()):
			problems = append(problems, fmt.Sprintf("tensor %q has shape %v, model wants %v", p.Name, t.Shape(), p.Shape()))
		}
	}
	var extra []string
	for name := range ts {
		if !want[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		problems = append(problems, fmt.Sprintf("unexpected tensor %q", name))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("checkpoint: %s", strings.Join(problems, "; "))
	}
	for _, p := range ps {
		copy(p.Data, ts[p.Name].Data)
	}
	return meta, nil
}
