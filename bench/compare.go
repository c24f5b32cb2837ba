package bench

import (
	"encoding/json"
	"fmt"

	"github.com/attnlab/attnlab/internal/safein"
)

// TorchRow is one row of the JSON that bench/reference/torch_ref.py writes
// with --json: a training workload (kind "train", tok_per_s), a W5 point
// (kind "w5", ms and peak_mib) or a W6 variant (kind "w6", per_s).
type TorchRow struct {
	Kind     string  `json:"kind"`
	Workload string  `json:"workload"`
	Variant  string  `json:"variant"`
	N        int     `json:"n"`
	Dtype    string  `json:"dtype"`
	Threads  int     `json:"threads"`
	OMPWait  string  `json:"omp_wait"`
	TokPerS  float64 `json:"tok_per_s"`
	Ms       float64 `json:"ms"`
	MsMin    float64 `json:"ms_min"`
	PeakMiB  float64 `json:"peak_mib"`
	PerS     float64 `json:"per_s"`
	Unit     string  `json:"unit"`
	Error    string  `json:"error"`
}

// Reference holds PyTorch's figures read from one or more JSON files of
// torch_ref.py. With several files (the same sitting, PyTorch configured
// differently, e.g. with another memory allocator) every comparison takes
// PyTorch's best figure, so a ratio never flatters attnlab because one
// configuration of PyTorch was slow.
type Reference struct {
	Paths []string
	Rows  []TorchRow
}

// maxReference bounds the size of a file of PyTorch figures (16 MiB).
const maxReference = 16 << 20

// ReadReference reads the rows torch_ref.py wrote with --json, from one
// file or several (see Reference). It fails on a file that is not such a
// list of rows.
func ReadReference(paths ...string) (*Reference, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("bench: no file of PyTorch figures given")
	}
	ref := &Reference{Paths: paths}
	for _, path := range paths {
		data, err := safein.ReadFile(path, maxReference)
		if err != nil {
			return nil, fmt.Errorf("bench: read PyTorch figures: %s: %w", path, err)
		}
		var rows []TorchRow
		if err := json.Unmarshal(data, &rows); err != nil {
			return nil, fmt.Errorf("bench: %s: not the JSON rows of torch_ref.py --json: %w", path, err)
		}
		for i, r := range rows {
			if r.Kind == "" {
				return nil, fmt.Errorf("bench: %s: row %d has no kind: not the JSON rows of torch_ref.py --json", path, i+1)
			}
		}
		ref.Rows = append(ref.Rows, rows...)
	}
	return ref, nil
}

// pick returns the float32 row of kind with the given thread count that
// match accepts: with one thread the default OpenMP wait policy, with more
// the fastest of the rows (torch_ref.py measures "2" and "2 passive", and
// the passive one is the better on these machines), by better. Among the
// rows of several files it takes the best.
func (r *Reference) pick(kind string, threads int, match func(TorchRow) bool, better func(a, b TorchRow) bool) (TorchRow, bool) {
	var best TorchRow
	found := false
	for _, row := range r.Rows {
		if row.Kind != kind || row.Error != "" || (row.Dtype != "" && row.Dtype != "float32") || row.Threads != max(threads, 1) || !match(row) {
			continue
		}
		if threads <= 1 && row.OMPWait == "PASSIVE" {
			continue
		}
		if !found || better(row, best) {
			best, found = row, true
		}
	}
	return best, found
}

// Train returns PyTorch's tokens/s for torch_ref.py's workload name
// ("W1-loop", "W2", …) at the given thread count.
func (r *Reference) Train(name string, threads int) (float64, bool) {
	row, ok := r.pick("train", threads, func(x TorchRow) bool { return x.Workload == name },
		func(a, b TorchRow) bool { return a.TokPerS > b.TokPerS })
	return row.TokPerS, ok
}

// Attention returns PyTorch's W5 row for the variant at length n.
func (r *Reference) Attention(variant string, n, threads int) (TorchRow, bool) {
	return r.pick("w5", threads, func(x TorchRow) bool { return x.Variant == variant && x.N == n },
		func(a, b TorchRow) bool { return a.Ms < b.Ms })
}

// Decode returns PyTorch's W6 rate (sentences/s or tokens/s) for the
// variant.
func (r *Reference) Decode(variant string, threads int) (float64, bool) {
	row, ok := r.pick("w6", threads, func(x TorchRow) bool { return x.Variant == variant },
		func(a, b TorchRow) bool { return a.PerS > b.PerS })
	return row.PerS, ok
}
