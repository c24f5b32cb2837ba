package layers_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// model returns the parameters of a small model, initialised from seed.
func model(seed uint64) []*layers.Param {
	emb := layers.NewEmbedding(7, 4)
	lstm := layers.NewLSTM(4, 3, 1, true, 0)
	dec := layers.NewLinear(6, 7, true)
	rng := tensor.NewRNG(seed)
	emb.Init(rng)
	lstm.Init(rng)
	dec.Init(rng)
	return layers.Collect(layers.Named{Prefix: "embed", Module: emb}, layers.Named{Prefix: "encoder.lstm", Module: lstm},
		layers.Named{Prefix: "decoder", Module: dec})
}

func save(t testing.TB, ps []*layers.Param, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := layers.SaveSafetensors(&buf, ps, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSafetensorsRoundTrip(t *testing.T) {
	t.Parallel()
	src := model(1)
	// Values that must survive bit for bit.
	special := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, math.MaxFloat32}
	copy(src[0].Data[4:], special)
	src[0].Data[9] = math.Float32frombits(0x7fc00001) // a NaN payload
	meta := map[string]string{"attnlab": "0.1.0", "step": "1200"}
	data := save(t, src, meta)

	dst := model(2)
	got, err := layers.LoadSafetensors(bytes.NewReader(data), dst)
	if err != nil {
		t.Fatal(err)
	}
	if got["attnlab"] != "0.1.0" || got["step"] != "1200" || len(got) != 2 {
		t.Fatalf("metadata = %v, want %v", got, meta)
	}
	for i, p := range dst {
		for j := range p.Data {
			if math.Float32bits(p.Data[j]) != math.Float32bits(src[i].Data[j]) {
				t.Fatalf("%s[%d] = %x after the round trip, want %x", p.Name, j, math.Float32bits(p.Data[j]), math.Float32bits(src[i].Data[j]))
			}
		}
	}
	// The same state gives the same bytes.
	if again := save(t, dst, meta); !bytes.Equal(again, data) {
		t.Fatal("saving the loaded parameters gives different bytes")
	}
	// No metadata: nil map back.
	m, err := layers.LoadSafetensors(bytes.NewReader(save(t, src, nil)), dst)
	if err != nil || m != nil {
		t.Fatalf("load without metadata = %v, %v", m, err)
	}
}

// TestSafetensorsLayout checks the bytes of a tiny file against the
// format: header length, an 8-byte-aligned JSON header with offsets that
// tile the data, then little-endian float32s.
func TestSafetensorsLayout(t *testing.T) {
	t.Parallel()
	a := tensor.FromData([]float32{1, -2, 0.5}, 3)
	b := tensor.FromData([]float32{3, 4}, 1, 2)
	var buf bytes.Buffer
	if err := layers.WriteTensors(&buf, []string{"a", "b.c"}, []*tensor.Tensor{a, b}, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	n := binary.LittleEndian.Uint64(data)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	hdr := strings.TrimRight(string(data[8:8+n]), " ")
	want := `{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b.c":{"dtype":"F32","shape":[1,2],"data_offsets":[12,20]},"__metadata__":{"k":"v"}}`
	if hdr != want {
		t.Errorf("header =\n%s\nwant\n%s", hdr, want)
	}
	var floats []float32
	for p := 8 + int(n); p < len(data); p += 4 {
		floats = append(floats, math.Float32frombits(binary.LittleEndian.Uint32(data[p:])))
	}
	if got := floats; len(got) != 5 || got[0] != 1 || got[1] != -2 || got[2] != 0.5 || got[3] != 3 || got[4] != 4 {
		t.Errorf("data = %v, want [1 -2 0.5 3 4]", got)
	}
	ts, meta, err := layers.ReadTensors(bytes.NewReader(data))
	if err != nil || len(ts) != 2 || meta["k"] != "v" || ts["b.c"].Dim(0) != 1 || ts["b.c"].At(0, 1) != 4 {
		t.Fatalf("ReadTensors = %v, %v, %v", ts, meta, err)
	}
}

func TestLoadSafetensorsMismatch(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := tensor.New(4, 8)
	if err := layers.WriteTensors(&buf, []string{"decoder.W", "decoder.b", "extra"}, []*tensor.Tensor{w, tensor.New(6), tensor.New(1)}, nil); err != nil {
		t.Fatal(err)
	}
	ps := []*layers.Param{layers.NewParam("decoder.W", 4, 6), layers.NewParam("decoder.b", 6), layers.NewParam("encoder.W", 2)}
	ps[1].Data[0] = 42
	_, err := layers.LoadSafetensors(bytes.NewReader(buf.Bytes()), ps)
	want := `checkpoint: tensor "decoder.W" has shape [4 8], model wants [4 6]; missing tensor "encoder.W"; unexpected tensor "extra"`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	if ps[1].Data[0] != 42 {
		t.Fatal("a failed load modified a parameter")
	}
}

func TestWriteTensorsErrors(t *testing.T) {
	t.Parallel()
	x := tensor.New(1)
	for _, tc := range []struct {
		names []string
		ts    []*tensor.Tensor
		want  string
	}{
		{[]string{"a"}, nil, "1 names for 0 tensors"},
		{[]string{"a", "a"}, []*tensor.Tensor{x, x}, `duplicate tensor name "a"`},
		{[]string{""}, []*tensor.Tensor{x}, "tensor 0 has an empty name"},
		{[]string{"__metadata__"}, []*tensor.Tensor{x}, "reserved"},
		{[]string{"\xff"}, []*tensor.Tensor{x}, "not valid UTF-8"},
	} {
		err := layers.WriteTensors(io.Discard, tc.names, tc.ts, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("WriteTensors(%q) error = %v, want one containing %q", tc.names, err, tc.want)
		}
	}
	if err := layers.WriteTensors(failWriter{}, []string{"a"}, []*tensor.Tensor{x}, nil); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("write error = %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// file builds a checkpoint from a raw header and data.
func file(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestReadTensorsCorrupt(t *testing.T) {
	t.Parallel()
	good := save(t, model(1), map[string]string{"v": "1"})
	n := binary.LittleEndian.Uint64(good)
	data8 := make([]byte, 8)
	for _, tc := range []struct {
		name  string
		input []byte
		want  string
	}{
		{"empty", nil, "read header length: unexpected EOF"},
		{"short length", good[:5], "read header length: unexpected EOF"},
		{"huge header length", append(binary.LittleEndian.AppendUint64(nil, 1<<40), good[8:]...), "header length 1099511627776 outside"},
		{"truncated header", good[:8+n/2], "read header of"},
		{"truncated data", good[:len(good)-3], "data truncated"},
		{"trailing bytes", append(append([]byte(nil), good...), 0), "trailing bytes"},
		{"invalid JSON", file(`{"a":`, nil), "checkpoint: header:"},
		{"not an object", file(`[1,2]`, nil), "checkpoint: header:"},
		{"null header", file(`null`, nil), "not a JSON object"},
		{"bad metadata", file(`{"__metadata__":{"a":1}}`, nil), "__metadata__ is not a string→string map"},
		{"entry not an object", file(`{"a":5}`, nil), `tensor "a":`},
		{"wrong dtype", file(`{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}`, data8), `tensor "a" has dtype "F16", want F32`},
		{"no dtype", file(`{"a":{"shape":[2],"data_offsets":[0,8]}}`, data8), `tensor "a" has no dtype`},
		{"no shape", file(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, data8), `tensor "a" has no shape`},
		{"no offsets", file(`{"a":{"dtype":"F32","shape":[2]}}`, data8), `tensor "a" needs data_offsets`},
		{"negative offset", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}`, data8), `tensor "a" has data_offsets [-8, 0]`},
		{"negative dim", file(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, data8), `tensor "a" has shape [-2]`},
		{"huge shape", file(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, data8), `tensor "a" has shape`},
		{"shape vs bytes", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, data8), `tensor "a" has shape [3] (12 bytes) but data_offsets [0, 8] (8 bytes)`},
		{"out of range", file(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, data8), "data truncated: 8 of 16 bytes"},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, data8), `tensor "b" (bytes [4, 8]) overlaps tensor "a"`},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, data8), `gap of 4 bytes before tensor "a"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := layers.ReadTensors(bytes.NewReader(tc.input))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "checkpoint: ") {
				t.Fatalf("error %q lacks the checkpoint: prefix", err)
			}
		})
	}
}

// FuzzReadTensors feeds arbitrary bytes to the reader: it must return
// tensors or an error, never panic, and whatever it accepts must write back
// and read again to the same tensors.
func FuzzReadTensors(f *testing.F) {
	good := save(f, model(1), map[string]string{"attnlab": "dev"})
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(file(`{}`, nil))
	f.Add(file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}`, make([]byte, 8)))
	f.Add(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)))
	f.Add(file(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"__metadata__":{"k":"v"}}`, make([]byte, 4)))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, meta, err := layers.ReadTensors(bytes.NewReader(data))
		if err != nil {
			return
		}
		names := make([]string, 0, len(ts))
		list := make([]*tensor.Tensor, 0, len(ts))
		for name, x := range ts {
			names = append(names, name)
			list = append(list, x)
		}
		var buf bytes.Buffer
		if err := layers.WriteTensors(&buf, names, list, meta); err != nil {
			t.Fatalf("accepted tensors do not write back: %v", err)
		}
		again, meta2, err := layers.ReadTensors(&buf)
		if err != nil {
			t.Fatalf("re-reading what was written: %v", err)
		}
		if len(again) != len(ts) || len(meta2) != len(meta) {
			t.Fatalf("round trip: %d tensors, %d metadata; want %d, %d", len(again), len(meta2), len(ts), len(meta))
		}
		for name, x := range ts {
			y := again[name]
			if y == nil || !bytes.Equal(f32bytes(x.Data), f32bytes(y.Data)) {
				t.Fatalf("tensor %q changed in the round trip", name)
			}
		}
	})
}

func f32bytes(xs []float32) []byte {
	b := make([]byte, 0, 4*len(xs))
	for _, v := range xs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// TestWriteTensorsIntoABufferOnce: written into a bytes.Buffer (a
// checkpoint), the file is allocated once at its size, not grown by
// doubling (up to 4× a checkpoint's size allocated, most of it garbage
// the run's peak memory held).
func TestWriteTensorsIntoABufferOnce(t *testing.T) {
	if raceBuild {
		t.Skip("under -race bytes.Buffer.Grow allocates twice the size it grows by")
	}
	ts := []*tensor.Tensor{tensor.New(1<<20, 3), tensor.New(1 << 19)}
	var size int
	for _, x := range ts {
		size += 4 * x.Len()
	}
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	var buf bytes.Buffer
	if err := layers.WriteTensors(&buf, []string{"a", "b"}, ts, map[string]string{"step": "1"}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms1)
	if buf.Len() < size {
		t.Fatalf("wrote %d bytes, want at least %d", buf.Len(), size)
	}
	if got := ms1.TotalAlloc - ms0.TotalAlloc; got > uint64(size+size/8) {
		t.Errorf("WriteTensors into a bytes.Buffer allocated %d bytes for a %d-byte file, want about one file", got, buf.Len())
	}
}
