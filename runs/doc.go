// Package runs trains and evaluates: Train runs one resolved configuration
// end to end (data, model, masked-loss training with checkpoints, validation,
// early stopping, test evaluation with decoding, samples and attention maps),
// and Execute runs every run of an experiment with a pool of workers over the
// run store, with resume after interruption or a crash.
package runs
