// Package progress shows the progress of an execution (runs.Execute) to a
// person: Bars on a terminal, Log lines elsewhere. Both implement
// runs.Reporter; package runs itself prints nothing.
//
// # Bars
//
// One bar per running run and an overall bar below them, at 80 columns:
//
//	quickstart/additive/seed=1    700/1500 [==============] loss 0.0412   ETA 9s
//	quickstart/multi-head/seed=3    0/1500 [==============]
//	runs                              3/18 [==============] 48s  ETA 3m54s
//
// A run's line is its name (store.Run.Name), step/total, the bar, the last
// training loss, the throughput (tok/s) and the run's ETA,
// (total − step)·t/(step − from), where t is the time since the run began
// at step from. Every line shares one layout, so the bars line up, and no
// line is wider than the terminal: the bar keeps at least MinBar columns
// (at most MaxBar), and what does not fit is given up in this order — the
// throughput, the names' width down to 16 columns (a name keeps its end,
// after "…"), the loss, the names' width down to 8, the ETA. The overall
// line shows how many runs failed, if any ("2 failed": in training, given
// up on by a claim, or before this execution, which skips them:
// runs.FailedBeforeReporter — or stored done with a ±Inf loss or
// perplexity by an old build, which count as failed:
// runs.DivergedBeforeReporter), the time elapsed and the overall ETA, giving
// up the time elapsed first, then the failures; an execution that stops
// short (a run interrupted or skipped: an interrupt, or its database file
// gone; or a run another process held, waited for, whose steps this one
// never trained) leaves it without the ETA. One whose runs all ended,
// some failed, leaves it as a finished one, the failures counted.
//
// The overall ETA is remaining · t/trained: remaining is the training steps
// the plan's runs still need (Start's steps, less the steps each run
// resumed from, trained since, or will not train because it stopped early,
// failed, was skipped or was given up on by a claim after too many lost
// attempts: runs.GaveUpReporter; a run begun again after another worker
// took it over needs its steps from where it resumes once more), trained
// the steps trained since Start, t the time since Start. It is unknown
// ("ETA ?") until a step has been trained, unless no step is left to
// train ("ETA 0s"): a rerun whose runs were all done, failed or stored
// done with a ±Inf loss before, which said "ETA ?" on its last line. Early
// stopping can make a run end before its total, so the ETA is an upper
// bound when runs stop early.
//
// # Log
//
// A first line announces the plan ("runs: 3 planned, 1 already done"),
// with the counts the bars' overall line shows: the runs that failed
// before this execution, which it skips (", 1 failed before":
// runs.FailedBeforeReporter), and those stored done with a ±Inf loss or
// perplexity by an old build counted apart, in the words of run's note
// (", 2 stored done with a loss or perplexity of ±Inf by a build before
// 2026-12-06, so counted as failed"): they are not done. The line is
// printed when runs.Execute tells how many failed before, right after
// Start (or, for a caller that does not, before the next line). Then one
// line per run start,
// evaluation, end and skip, each stamped with the time; a run's end also
// says how many runs are done, how many failed so far as the bars'
// overall line counts them (ended failed, given up on, failed before or
// stored done with a ±Inf loss: "(2/5 runs done, 1 failed, ETA 3m)"),
// and the overall ETA (not after an interrupted run: the others stop
// too). Of consecutive
// skips for one reason only the first is named; the others are counted on
// one line ("13 more runs not run: interrupted").
// Names and errors go through internal/printable: stored text never drives
// the terminal.
package progress
