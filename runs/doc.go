// Package runs trains and evaluates: Train runs one resolved configuration
// end to end (data, model, masked-loss training with checkpoints, validation,
// early stopping, test evaluation with decoding, samples and attention maps),
// and Execute runs every run of an experiment with a pool of workers over the
// run store, with resume after interruption or a crash. Execute reports
// progress to a Reporter (and a GaveUpReporter of each run of the plan its
// claims gave up on, a FailedBeforeReporter of the runs that had failed
// before it, a DivergedBeforeReporter of the runs stored done with a ±Inf
// loss or perplexity by an old build, which count as failed) and prints
// nothing itself; package progress has
// the bars and log lines the CLI shows, and package bench the benchmark
// harness.
//
// Execute shares the machine's cores between runs and threads: with
// train.threads 0 (the default) it trains one run per core, no more runs
// at once than there are to train, and gives the cores left over to each
// run as intra-op threads (tensor.SetThreads) — a single run uses them
// all; an explicit train.threads sets the threads, and the runs at once
// are the cores divided by it (ExecOptions.Workers overrides either). A
// queue worker (Work: attnlab worker, a Slurm array task) gives each of its
// WorkOptions.Workers runs its share of the CPUs the process may use
// (runtime.NumCPU follows Slurm's CPU mask) unless WorkOptions.Threads is
// set. The number of threads never changes a run's results; the CPU's
// kind does (tensor's AVX-512, AVX2+FMA and Go kernels round differently),
// so a run is reproduced, or resumed, bit for bit only on machines of one
// kind; its summaries perf/steps_KIND (tensor.Kernels) count the steps
// each kind trained.
//
// # The queue
//
// The run store is the queue; there is no scheduler of attnlab's own.
// Submit records an experiment and queues its runs without training them.
// Work is a worker: it takes runs one at a time (store.ClaimNext: queued
// runs, runs handed back, and runs whose worker died — judged by the
// database's clock, or at once on the same host when the pid is gone),
// trains each with checkpoints, resuming from the last one when the run was
// started before, and goes on until nothing is left for it. It tells its
// caller of each run it resumes after taking it over from a dead or
// silent worker, whose attempt is lost (WorkOptions.OnTakeover; never a
// run another worker of the same Work trains, however late its
// heartbeats: both would train it), and of each run its claims
// failed because its lost attempts reached train.max_attempts (OnGaveUp,
// WorkReport.GaveUp). Any number of
// workers, in any number of processes on any number of machines, may share
// one store (PostgreSQL for many machines). Execute, behind `attnlab run`,
// is Submit plus in-process workers restricted to the plan's runs, which
// also wait for runs of the plan that other processes hold; a run that
// another process ended is "done by host:pid" or "failed by host:pid" in
// its Outcome.Note — but NoteGaveUpElsewhere when another process's claim
// gave up on it, never "failed by" the dead worker it was taken from.
//
// While a run trains, its worker heartbeats every 5 s (ExecOptions and
// WorkOptions.Heartbeat); a heartbeat — or a checkpoint or other artifact
// write, or a metric flush, which are guarded by the owner too
// (store.PutOwnedArtifact, store.NewOwnedMetricWriter) — that
// finds the run taken over by another worker (this one was judged stale)
// stops the training without recording anything more. A metric row reaches the store within
// MetricsEvery (5 s) of being logged, whether or not more are logged after
// it, and at every checkpoint, so other processes see a run's progress
// live. Cancelling the context (SIGTERM, Ctrl-C) checkpoints the
// running runs that are training (not those in an evaluation: see
// Interruption) and hands them all back (status interrupted, error
// HandedBack): any worker resumes them from their last checkpoint. A
// fresh start (a requeued run) first drops the checkpoint and the metric
// history of the run's earlier attempts, and a resume the history after
// its checkpoint — only while the run is still the worker's
// (store.DeleteOwnedArtifacts, store.TruncateOwnedMetrics), so a worker
// that stalled after its claim and lost the run meanwhile deletes nothing
// of the new owner's and drops the run as lost. A done run's intermediate checkpoint is deleted
// unless train.keep_checkpoints; its final weights stay. If the store
// reports store.ErrDatabaseGone (the SQLite file was deleted or replaced),
// every run stops and the error is returned: nothing is reported as stored
// that is not (the Reporter is told each such run was interrupted, not
// that it failed: no database records it failed); the runs it did not
// start are not skipped one by one (their Outcome.Note is NotRunGone) —
// the error says why for all of them.
//
// A PostgreSQL outage (a restart, a failover, a network cut) is the
// store's to ride out: it retries every write for up to its outage budget
// of 2 minutes, and the training does not notice. A longer one fails the
// write with store.ErrUnavailable (and every write after it at once, while
// the server stays unreachable: the budget is the outage's, so a worker
// gives up about 2 minutes into an outage): a heartbeat that fails so is tried again
// at the next tick, while a metric or checkpoint write that fails so stops
// the run without failing it: the worker tries once to hand it back
// (HandedBackOutage) and, the server still unreachable, leaves it running
// in the database (a run whose end cannot be recorded is left so at once) for another worker to take over from its last
// checkpoint (Outcome.Status running, Outcome.Err a *LeftError), and Work
// returns the store's error. A claimed run that cannot start because the
// server is unreachable (its checkpoint not read, an earlier attempt's
// history not dropped) did not fail either: it is handed back so, its
// claim uncounted (store.Ending.Untrained), or left running — never
// recorded failed once the server answers again.
//
// # Which weights the summaries describe
//
// The test split is scored with the weights training ends with: the last
// step's, or with early stopping (patience > 0) the best evaluation's,
// restored. The summaries' valid/* are the evaluation of those same
// weights (the last one, or the best one), so that valid/* and test/*
// always describe one model; best/valid/* are the best evaluation's by
// train.early_stopping.metric, at best/step, whether or not its weights
// were restored. (Until 2026-12 valid/* were the best evaluation's even
// when the test split was scored with the last weights.)
//
// A language model's test/loss@N (eval.context) is the loss on the test
// stream cut into windows of N+1 tokens. A stream of T tokens gives at
// most T−1 tokens of context; plan refuses a longer N when it measured the
// task's data, and a run that still asks for one (queued before that
// check) measures T−1 and records it as test/loss@(T−1), under the
// context it was measured at, never under N.
//
// # What a step costs
//
// The loop takes every training step through [Stepper.Step], the function
// `attnlab bench` times, and adds nothing to its arithmetic (a test steps a
// Stepper by hand and gets the run's parameters bit for bit). A step
// splits its batch (of two examples or more) in two halves of about as
// many tokens, each run forward and backward by its own copy of the model
// (the same parameter memory, gradients apart, summed before clipping):
// with two threads the halves run side by side, one core each, so the
// passes too small or too memory-bound to gain from splitting each op
// across the cores (a recurrent model's time steps, LayerNorm, softmax)
// keep both busy. `attnlab bench --threads 2`, medians of six alternations
// with the build before: W3 32.9k → 37.2k tokens/s, W4 38.5k → 42.2k;
// BenchmarkStep, two threads ÷ one: W1 1.15 → 1.68, W2 1.09 → 1.86 (one
// thread: within noise). With one thread, or three or more, the halves run
// one after the other, each using every thread. The split depends on the
// batch alone, and the copy's dropout streams and teacher-forcing coins are
// split from the model's at each step, so results do not depend on the
// threads, and a resumed run matches an uninterrupted one, bit for bit
// (TestThreadsBitwise, TestExecuteInterruptAndResume). Metric rows
// cost the loop an append under an uncontended lock: the storeRecorder
// stamps each row with the time it was logged and hands full batches (512
// rows, or the rows of the last MetricsEvery, which a ticker hands over
// when nothing more is logged) to a writer goroutine through a channel of 4 batches — a
// bounded buffer, so a database slower than the training holds the steps
// back instead of growing memory — and only a checkpoint and the run's end
// wait for the writer, so that no row is lost or written twice (a test
// checks that no row reaches the store from the training goroutine). The
// summaries say where the time went: perf/tokens_per_s and
// perf/train_seconds count the steps alone (as bench does),
// perf/loop_tokens_per_s the whole loop without its evaluations and the
// checkpoints they save (batches, steps, logging, progress), and
// perf/loop_seconds the loop with them; a resumed run's times include its
// earlier attempts up to the checkpoint. BenchmarkLoopW4 compares the loop
// with the bare step at bench W4's shape (examples/w4_run.yaml).
//
// # Scores of decoded outputs
//
// Decoded outputs are scored as text: a hypothesis's tokens joined by the
// target tokenizer, against the example's reference text (tasks.Example.Ref:
// for a file the target as written, so a word outside the vocabulary is
// never matched by an <unk> output). A [Scorer] computes sacreBLEU's BLEU
// (eval.bleu: tokenizer, auto meaning 13a for word targets and char for
// character targets; case), chrF2, chrF++ and exact match (the same tokens
// when the target tokenizer splits output and reference). Each evaluation
// that decodes the validation split (eval.valid_exact_match) records
// valid/exact_match, valid/bleu, valid/chrf and valid/chrf++; the test
// evaluation records test/exact_match (and per length bucket), test/bleu,
// test/chrf and test/chrf++, all but exact match on sacreBLEU's 0–100
// scale, and stores the three corpus scores with their sacreBLEU
// signatures (artifact.KindScores). Every registered metrics.TextMetric is computed
// on the same outputs and references and recorded as test/NAME.
// `attnlab eval` scores a stored model on any file with the same Scorer.
//
// # Runs that diverge
//
// A run whose numbers stop being numbers is recorded as failed, with the
// step and the reason as its error (a FailedError), never as done: the
// stored statuses are the store's (there is no "diverged" status), and
// compare lists a failed run beside the row of its setting ("3 (+1
// failed)") and leaves it out of the means, where a done run's
// overflowed loss would be averaged with the seeds that trained. The
// policy, in the order a run meets it:
//
//   - a training step whose loss or gradient norm is NaN or ±Inf: "step
//     N: training loss is NaN", "step N: gradient norm is +Inf" (the
//     parameters are left as they were before the step);
//   - an evaluation whose validation loss is NaN or ±Inf ("step N:
//     validation loss is NaN"), or whose perplexity is ±Inf — a loss
//     that diverged to a finite value beyond about 709.78 nats per token,
//     whose perplexity exp overflows: "step N: valid/ppl is +Inf:
//     valid/loss diverged to 2.417e+30 nats per token"; nothing of that
//     evaluation is recorded;
//   - the test: a test loss NaN or ±Inf ("step N: test loss is NaN"), a
//     test/ppl that overflows (checked before decoding, so no samples of
//     the diverged model are stored), a language model's test/loss@N
//     that is NaN ("step N: test/loss@8 is NaN (test/loss is 2.327)":
//     every context measured has a target, so a NaN there is the model's
//     arithmetic failing at that context, never a loss over nothing) or
//     ±Inf (both checked before its samples are stored), and finally
//     any loss or perplexity summary (SPLIT/loss, SPLIT/ppl, test/loss@N
//     and their best/ forms) that is ±Inf, the same way.
//
// Only losses and perplexities are checked for ±Inf: another metric may
// be +Inf and healthy — a registered metrics.TextMetric whose Scale.Max
// is +Inf, such as a length ratio over empty references — and leaves the
// run done.
//
// A NaN anywhere else is not a divergence but a measure of nothing (an
// empty split: an exact match over no example; an empty length bucket is
// not recorded at all, and test/loss@N always has targets) and is
// stored as such; compare counts it apart (report.Cell.NaN). A loss that
// is huge but keeps a finite perplexity (say 400 nats per token, where a
// model that guesses uniformly scores the log of its vocabulary) is
// stored: it is a number, and compare shows it. No finite threshold
// tells such a loss from a real result, so none is applied:
//
//   - a multiple of ln(vocabulary) is crossed by healthy runs: a small
//     Transformer LM (runs/testdata/lm_text.yaml, sinusoidal positions,
//     lr 0.01, 600 steps) scores test/loss 0.073 but test/loss@194, six
//     times its training context, 2.72 nats, above ln 13 = 2.56, the
//     uniform guess —
//     length extrapolation and out-of-distribution test lengths are what
//     such losses measure, and a model trained towards zero loss with
//     Adam (steps of about lr whatever the gradient's size) keeps growing
//     its logits, and so the losses of its confident mistakes;
//   - a perplexity beyond float32 (a loss above ln(3.4e38) ≈ 88.7) bounds
//     nothing the model computes: the loss is taken from float32
//     log-probabilities, finite up to about 3.4e38 nats per token, and
//     the perplexity is computed in float64 from the mean loss.
//
// Runs stored done with an infinite perplexity before 2026-12-06 stay
// done in the store and load as before (ls lists them done), but count as
// failed, as today's builds store them: compare (and run's table) leaves
// such a run out of every cell of its row and names it in a note
// (report.Comparison.Diverged), rather than average a +Inf with the seeds
// that trained, and run exits 1. Execute skips them as done, but does not
// tell its Reporter they are: Start's done leaves them out, and a
// DivergedBeforeReporter is told how many there are (metrics.InfiniteLoss
// is the one test of such a run). To count them it reads only the ±Inf
// summaries of the done runs whose keys may be losses or perplexities
// (store.InfiniteSummaries), not all their summaries, and only when it has a
// Reporter to tell (run -q has none); if that read fails, Execute returns
// its error and runs nothing.
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
// goes stale. An owner on this host is seen dead by its pid, at once; but
// if the system has already given that pid to another process, the pid
// looks alive and the run is taken over only when its heartbeat goes stale
// (ExecOptions.StaleAfter, a minute by default). A process that must exit
// before its runs stop (the CLI after its grace period: one teacher-forced
// batch can outlast it) records the runs it has in flight as interrupted
// first (Abandon), rather than leave them "running".
//
// A run resumes only under its own hash, which covers every setting: after
// a setting changed (an evaluation setting, the steps, what a sweep
// variant sets) the run of the same sweep point and seed is another run,
// started from step 0, and the interrupted one keeps its history and
// checkpoint. Diverged finds such pairs before training, so that `attnlab
// run` can say so. A stored point holds a variant by its name only
// (experiments.Run.StoredPoint); points stored before 2026-12-06 also hold
// the variant's settings, and match only while those are unchanged.
package runs
