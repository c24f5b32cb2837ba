// Package runs trains and evaluates: Train runs one resolved configuration
// end to end (data, model, masked-loss training with checkpoints, validation,
// early stopping, test evaluation with decoding, samples and attention maps),
// and Execute runs every run of an experiment with a pool of workers over the
// run store, with resume after interruption or a crash.
//
// # Panics
//
// A run that panics with a tensor.Error (a misuse of a tensor op that a
// configuration can cause, such as a sequence longer than a Transformer's
// max_len) is recorded as failed with the error's one-line message, and the
// other runs go on. Any other panic is a bug: the executor re-raises it as a
// *Bug holding the original value and the stack where it happened, in one
// place (onBug), and does not record it as the run's error.
package runs
