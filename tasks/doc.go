// Package tasks provides the data of attnlab: vocabularies and tokenizers,
// the built-in generated tasks, file-backed corpora, splits, and batching
// with padding.
//
// # Vocabularies and tokenizers
//
// Every [Vocab] reserves the same four ids, [seq.PadID] 0, [seq.BOSID] 1,
// [seq.EOSID] 2 and [seq.UnkID] 3, as the tokens "<pad>", "<bos>", "<eos>"
// and "<unk>"; the other tokens follow from id 4. A data file may not
// contain "<pad>", "<bos>" or "<eos>" as a token (as its tokenizer splits
// it: with [Char], "<eos>" is five ordinary characters): the file task
// refuses the line, since the token would train as <unk> while the
// reference kept it, so that no output could match it. A token "<unk>" is
// allowed and means the unknown token, as in the Penn Treebank corpus: it
// gets [seq.UnkID], never an id of its own. A file task whose min_count leaves
// none of the training data's tokens in a vocabulary (data all <unk>) is
// refused, on min_count. [BuildVocab] builds a vocabulary from the training split only, in a
// deterministic order (count descending, then token), so the ids depend on
// nothing but the training data. Tasks with a closed alphabet fixed by their
// parameters (copy, reverse, sort, addition, listops) use [NewVocab] with the
// alphabet in its natural order instead, so every symbol has an id even if
// a small training split misses it. A Vocab marshals to JSON and is saved
// with each run, inside a [Spec], so that `attnlab generate` decodes with the
// ids the model was trained on.
//
// A [Tokenizer] splits text into tokens and joins them back: [Char] (one
// token per Unicode code point; Join concatenates) and [Word] (whitespace
// separated; Join uses single spaces). [TokenizerByName] finds them by the
// name saved in a Spec.
//
// # Datasets and tasks
//
// A task is a [Factory] registered in [Registry] from the init function of
// its own file, with its own parameter struct whose defaults are complete;
// [Build] decodes a YAML map strictly into it and runs the factory. Every
// number parameter has a range tag (registry.Range: checked when decoded,
// shown by attnlab list) but pairs' valid_fraction and test_fraction,
// which Validate ignores when valid_path and test_path are set. A factory
// returns a [Dataset]: vocabularies, tokenizers, and the Train, Valid and
// Test splits of [Example] values holding token ids without BOS or EOS, and
// the target as text (Example.Ref) that decoded outputs are scored against:
// the line as the file has it for pairs (words outside the vocabulary kept,
// so an <unk> output never matches them), the target tokens joined by the
// target tokenizer for generated tasks. A language-modelling dataset (LM
// true) has empty sources and the sequence as the target. A split is an
// [Examples]: a list of examples ([ListOf]), or a language model's
// [Windows] over a stream of int32 ids (the text task's), whose examples
// are built, each with its own []int, only when a batch asks for them. Every task is deterministic: the same parameters and
// [Options].Seed give the same dataset; all randomness comes from
// math/rand/v2's PCG.
//
// Generated tasks (copy, reverse, sort, addition, dates, scan, listops) keep
// their splits disjoint: train is drawn i.i.d. and may repeat an example;
// valid and test hold distinct sources that occur in no other split (dates
// goes further and holds out whole dates, scan splits its finite command
// set). Where it makes sense, test_min_len/test_max_len (addition:
// test_min_digits/test_digits) give the test split other lengths than
// training, to measure length generalisation. Default sizes: train 10000,
// valid 500, test 1000. Validate refuses valid and test sizes larger than
// the distinct sources their lengths allow (copy, reverse, sort, addition,
// dates), so that plan says so instead of a run failing its draws; and
// since copy, reverse, sort and addition draw train first, their Lint
// methods refuse valid and test sizes clearly beyond what train_size's
// draws are expected to leave (coverage.go: the mean plus three standard
// deviations; 10000 draws leave about 145 of the 1364 strings of 1 to 5
// of 4 symbols). ListOps
// checks its lengths and sizes in its Lint method (registry.Linter: new experiments only,
// so stored runs still load): it computes which lengths max_depth and
// max_args make (listops_shapes.go: max_depth 3 and max_args 2 make only
// 1, 4, 7 and 10 tokens) and refuses a length range with none of them,
// and counts the distinct expressions of a split's lengths.
//
//   - copy, reverse, sort: random strings over `symbols` symbols (a-z, A-Z,
//     0-9 as characters; beyond 62, the words s0..sN-1) to themselves,
//     reversed, or sorted; Dataset.Alignment is "copy", "reverse" and "".
//   - addition: "123+45" → "168", characters, optionally reversed digits.
//   - dates: a date in one of 14 human formats (templates, configurable) →
//     ISO 8601, characters.
//   - scan: the SCAN command language, word tokens, with the simple, length,
//     addprim_jump and addprim_turn_left splits of Lake & Baroni (2018).
//   - listops: Long Range Arena ListOps expressions → their value digit.
//   - text: a UTF-8 text file as a language-modelling corpus (LM), split
//     contiguously, windows of context+1 tokens with stride context.
//   - pairs: a TSV file or two aligned files of source/target lines, split
//     by a seeded shuffle of distinct sources (or given split files). There
//     is no header line: every non-empty line is a pair, the first too.
//
// File tasks resolve relative paths against Options.BaseDir, the directory
// of the experiment file. Their errors are one line naming the task, the
// file as written and, where it applies, the line:
// `pairs: data/train.tsv:17: no tab between source and target`. A data file
// must be a regular file of at most [MaxFileSize] bytes (a FIFO or a device
// is refused at once, without blocking) of UTF-8 text: a line with invalid
// UTF-8 or a NUL byte is refused with its line number, and a file that
// starts with a UTF-16 byte-order mark or has NUL bytes in its first line
// is refused as UTF-16 from its first 64 KiB, before the rest is read. The
// lines of a pairs file end in "\n" or "\r\n"; one whose lines end in a
// lone "\r" (classic Mac OS: more lone "\r" than "\n") is refused as such. The parameters of a file task
// implement [FileParams], listing the files it reads (and [HeldOutFiles]
// when a held-out split may have a file of its own); [FingerprintFile]
// gives each one's [Fingerprint] (SHA-256, size, lines), which experiments
// record in a run's configuration ([FingerprintFileContext] stops once its
// context is done, asking it at least every safein.ReadChunk bytes it
// reads or hashes: Ctrl-C during plan's data check of a corpus of a
// gigabyte; a text corpus is then counted and indexed [TokenPiece] bytes
// at a time, and a done Options.Context stops that too), and a factory
// given those fingerprints
// (Options.Data) refuses a file that changed since. A pairs file reports
// every bad line, not only the first (a [DataError]; lines longer than
// [MaxLineBytes] included, whose text is never copied out of the file's
// bytes: a file of one line of a gigabyte takes its size once to be
// refused, as the file is read into one buffer of its size), and [CheckData] builds a file task's data to
// list them before any run (plan does). In one process each file is read
// once: FingerprintFile keeps the bytes it read for the CheckData that
// follows, and CheckData, given the fingerprints and the first run's seed,
// keeps the dataset for that run's Build (memo.go; each entry is taken
// once, and a few at most are kept). A text corpus is measured instead:
// CheckData finds its vocabulary and splits without building its ids (4
// bytes a token, which plan would hold for nothing) and leaves the bytes
// for the run's Build, which tokenizes them again.
//
// A file task never holds its data as one string per token: it walks the
// tokens of its text (eachToken) to count them, to build the vocabulary and
// to encode them (text numbers its distinct tokens in one pass, tokenIndex,
// and turns the numbers into ids in place), so what stays is, for text,
// 4 bytes a token (its int32 stream, whose windows are built a batch at a
// time: a 200 MB character corpus peaked at 1.04 GiB of RSS in a run,
// 1.91 GiB with 8-byte ids and an Example a window), and for pairs 8
// bytes a token and 64 bytes a pair; for pairs of short lines the examples
// weigh more than the tokens: 1.5 million pairs of 6 words (a 46 MB TSV)
// keep 204 MiB, 143 bytes a pair. Building takes more for a while: the
// file's bytes twice (once for lines over MaxLineBytes, and for text,
// whose string shares the bytes it was read into), a string header per line, 48 bytes a pair for each
// copy of the pairs and about 256 a distinct source for the split (that
// TSV: 764 MiB allocated in all, 462 MiB of peak RSS). While it builds, it
// charges what it allocates to a budget (budget.go; Dataset.Bytes reports
// the total, which plan adds to a run's memory estimate: an upper bound,
// since part of it is garbage before the rest is allocated), and stops
// with one line naming the file when the total passes Options.Memory
// (OverMemoryError: attnlab plan and run refuse such an experiment before
// training; a worker, which may have less memory than the machine that
// submitted the run, hands it back to the queue for one with more).
//
// # Capabilities and lengths
//
// The parameters of a generated task implement [SplitSized]: the examples
// of its splits follow from them (train_size, ...; scan's from its
// partition), so that a run's memory estimate bounds a batch by its split
// as it does a file task's measured one.
//
// A language-modelling task registers with the [LanguageModel] capability,
// and [Build] checks that its datasets agree. The parameters of a task whose
// longest sequences follow from them implement [Lengths]; [BatchLengths]
// turns those into the shapes of its batches, so that a model too short for
// them is refused when an experiment is validated. A file task's lengths
// come from its data instead: [CheckData] returns them
// ([Dataset.Longest]), with the splits' sizes ([DataSizes]: a language
// model's test stream bounds the contexts its loss is measured at).
//
// # Batches
//
// [MakeBatch] pads examples into a [seq.Batch], right-padded with PadID: the
// sources as they are; the decoder input BOS y1..yn and the target y1..yn
// EOS for seq2seq; the input w[0..n-2] and target w[1..n-1] for LM. A
// [Batcher] yields shuffled training batches epoch after epoch, bucketed by
// length to limit padding, reproducibly from its seed, and saves and
// restores its position ([BatcherState]) so that a resumed run sees the same
// batches as an uninterrupted one. [InOrder] yields a split's batches in
// order for evaluation.
//
// The package imports no attnlab package but registry, seq and
// internal/safein.
package tasks
