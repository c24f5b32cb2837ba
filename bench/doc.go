// Package bench measures attnlab on the reference workloads of
// reference/BENCHMARKS.md, so that its speed can be compared with
// PyTorch's (reference/torch_ref.py, a copy of the reference script)
// measured in the same sitting.
//
// W1–W4 (Train) train small sequence-to-sequence models and a character
// GPT through the model registry with runs.Stepper, the training step every
// run takes — forward, masked cross-entropy, finiteness checks, backward,
// gradient clipping, the schedule's learning rate, the optimizer's update —
// so a figure measured here is what a run of that shape gets. W5
// (Attention) times one multi-head self-attention layer against sequence
// length for softmax, chunked and linear attention, with torch_ref.py's
// run_w5 protocol (what a timed repeat contains, how many, the median). W6
// (Decode) decodes with models.Decode: a GRU translation model, greedy and beam 5, and a GPT
// generating text with its key/value caches (lm-cache) and re-running the
// prefix (lm-nocache); TestW6LMCacheIsUsed counts the rows each GPT layer
// runs in both, so that lm-cache cannot silently lose its cache.
//
// Every figure is measured: nothing here holds PyTorch's numbers.
// ReadReference reads the JSON rows torch_ref.py writes with --json, and
// `attnlab bench --compare` prints the ratios. Given several files (PyTorch
// measured with different memory allocators in one sitting) every ratio is
// against PyTorch's best figure: on a VM that returns freed memory to its
// host, glibc's default allocator makes PyTorch fault its tensors in afresh
// every step, and a ratio against that would flatter attnlab. Timings on a shared machine
// are noisy; Result.CPUSeconds next to Result.Seconds shows how much of the
// wall time the process actually ran.
package bench
