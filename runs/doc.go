// Package runs trains and evaluates: Train runs one resolved configuration
// end to end (data, model, masked-loss training with checkpoints, validation,
// early stopping, test evaluation with decoding, samples and attention maps),
// and Execute runs every run of an experiment with a pool of workers over the
// run store, with resume after interruption or a crash. Execute reports
// progress to a Reporter and prints nothing itself; package progress has
// the bars and log lines the CLI shows, and package bench the benchmark
// harness.
//
// # Panics
//
// A run that panics with a tensor.Error (a misuse of a tensor op that a
// configuration can cause, such as a sequence longer than a Transformer's
// max_len) is recorded as failed with the error's one-line message, and the
// other runs go on. Any other panic is a bug: the run is recorded as failed
// with the one-line message "internal error: VALUE" (never the stack), and
// its Outcome carries a *Bug holding the original value and the stack where
// it happened, for the caller to report (the CLI writes it to a crash log
// and exits 3); the other runs go on.
//
// # Interruption and liveness
//
// Cancelling Execute's context stops training at the next step (with a
// checkpoint) and an evaluation or decoding within one batch or decoding
// step (without one: the run resumes from its last checkpoint). A run whose
// test evaluation completed is done even if the context was cancelled
// meanwhile. Runs that another live process holds are waited for, and taken
// over when their owner dies — a zombie counts as dead — or its heartbeat
// goes stale.
package runs
