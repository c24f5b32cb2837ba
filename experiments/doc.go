// Package experiments reads attnlab's YAML experiment files: it merges
// their layers, fills every default, validates everything against the
// plugin registries with one-line file:line errors, and expands the sweep
// into a deterministic plan of runs, each with a resolved configuration and
// a stable identity. It trains nothing.
//
// # The format
//
//	name: quickstart                  # required; 1 to 100 of [a-z0-9_.-], not starting with -, not . or ..
//	description: attention vs none    # free text (not part of any run's identity)
//	extends: base.yaml                # optional; relative to this file
//	task: {name: reverse, max_len: 20}                    # tasks.Registry; required
//	model:
//	  name: seq2seq-rnn               # models.Registry, its own keys flat beside name
//	  embed: 64
//	  encoder: {name: lstm, hidden: 128}                  # models.Encoders, if the model's entry Uses "encoder"
//	  attention: {name: additive, dim: 128}               # attention.Registry, if the model's entry Uses "attention"
//	train:
//	  optimizer: {name: adam, lr: 1.0e-3}                 # optim.Registry
//	  schedule: {name: constant}                          # optim.Schedules
//	  batch_size: 64
//	  steps: 2000                     # optimizer steps; 0: train for epochs
//	  epochs: 0                       # exactly one of steps and epochs is positive
//	  clip: 1.0                       # global gradient-norm clipping; 0: off
//	  eval_every: 250                 # steps between evaluations and checkpoints; 0: at the end only
//	  log_every: 25                   # steps between train/loss, train/lr and perf/tokens_per_s records
//	  teacher_forcing: 1.0            # probability of feeding the gold token, [0, 1]
//	  label_smoothing: 0.0            # [0, 1)
//	  early_stopping: {metric: valid/loss, patience: 0, mode: auto}
//	  threads: 0                      # intra-op threads of one run; 0: what the executor leaves free
//	  keep_checkpoints: false         # keep the last checkpoint of done runs
//	  max_attempts: 3                 # attempts lost to dead workers before a run fails
//	eval:
//	  decode: {strategy: greedy, beam: 5, length_penalty: 0.6, temperature: 1.0, top_k: 0, top_p: 1.0, max_len: 0}
//	  max_examples: 0                 # test examples decoded; 0: all
//	  samples: 8                      # decoded test examples stored with the run
//	  attention_maps: 4               # attention maps stored with the run
//	  valid_exact_match: true         # decode the validation split at each evaluation
//	  length_buckets: [10, 20, 40, 80, 160]
//	  context: [64, 128, 256, 512]    # language models: also test/loss@N at these context lengths
//	  bleu: {tokenize: auto, lowercase: false}  # sacreBLEU's tokenizer (auto, 13a, intl, char, none) and case
//	seeds: [1, 2, 3]                  # every sweep point runs once per seed
//	sweep: {...}                      # see Sweeps
//
// A plugin block names a registry entry with name and holds that entry's own
// parameters flat beside it. The parameters start from the entry's defaults
// and are decoded strictly by the registry (registry.Info.Decode), so
// `attnlab list` documents every key a block accepts. [Sites] is the one
// table of plugin sites, the YAML paths whose blocks name an entry (task,
// model, model.encoder, model.attention, model.attention.score,
// model.attention.head, model.attention.head.score, train.optimizer,
// train.schedule) with their registries: validation, merging and `attnlab list` read it. A
// site nested in another (model.attention inside model) is read by the
// entries whose registry.Info.Uses names it.
//
// [Reference] documents every key of this format but the plugins' own
// parameters, generated from what Load validates against: the tables of
// top-level and sweep keys, the Train and Eval structs with their doc,
// range and enum tags (a range such as `range:"[1,]"` or an enum is checked
// by Load, and shown by the reference), the site table, and [Defaults].
// `attnlab list` prints it (`attnlab list train`), and README.md's
// configuration reference is `attnlab list --markdown`, kept current by a
// test.
//
// # Defaults
//
// Defaults are complete and live in one place, [Defaults] (and
// [DefaultSeeds]): a file with only
//
//	name: minimal
//	task: {name: reverse}
//	model: {attention: {name: dot}}
//
// is a whole experiment. The task has no default. The model defaults to
// seq2seq-rnn with an lstm encoder and additive attention; the optimizer to
// adam, the schedule to constant, the seeds to [1]. Train: batch_size 64,
// steps 2000, epochs 0, clip 1.0, eval_every 250, log_every 25,
// teacher_forcing 1.0, label_smoothing 0, early stopping off (metric
// valid/loss, patience 0, mode auto), threads 0, keep_checkpoints false,
// max_attempts 3 (these two are queue settings, outside the run's identity:
// changing them does not make new runs). threads 0 gives each run the
// cores the executor leaves free: one run alone uses every core, a sweep
// runs one run per core (runs.ExecOptions); a queue worker (attnlab
// worker) does not read it, its own --threads decide; results do not depend on the
// number of threads, bit for bit, so it never changes a run's identity
// either (its canonical JSON records threads 1 whatever the setting: the
// identity runs had when it still counted). Eval: greedy decoding
// (beam 5, length_penalty 0.6, temperature 1, top_k 0, top_p 1, max_len 0
// meaning "chosen by the runner from the task"), max_examples 0 (the whole
// test split), samples 8, attention_maps 4 (lowered to what fits when
// the maps of the task's longest examples would keep more than
// artifact.MaxAttentionWeights weights; a number written above that is an
// error), valid_exact_match true,
// length_buckets [10, 20, 40, 80, 160], bleu tokenize auto (sacreBLEU's
// default 13a for word targets, char for character targets: see
// [BLEUAuto]) and lowercase false, context [] (none; an empty list stays
// out of the run's identity, so runs stored before the key existed keep
// theirs). Every plugin's parameters default to its registry entry's.
//
// eval.context needs a language-modelling task, and its lengths must
// increase; a model whose parameters bound its inputs
// (models.LengthChecker: learned positions) refuses any beyond what it was
// trained on (task.context, tasks.Windowed) or its max_len. A context of
// N tokens is measured on windows of N+1 tokens of the test split, so
// when the task's data was measured (a file task: tasks.DataSizes) a
// context beyond its test tokens − 1 is refused ("eval.context[2]: 4096:
// longer than the test split allows: its 2400 tokens give at most 2399
// tokens of context; ..."), as is eval.context when the split is empty;
// it would otherwise be measured at a shorter context than the key
// test/loss@N says.
//
// In a resolved [Config], early_stopping.mode auto becomes max for metrics
// that metrics.Describe says improve upwards (accuracies, exact match, BLEU, chrF),
// and min otherwise.
//
// A model whose entry does not read an encoder (or attention) block
// (registry.Info.Uses) has no such block in its resolved Config; a block
// the user wrote there is an error ("model.encoder: not used by model
// "seq2seq-transformer""), while the default blocks are dropped silently.
// The same holds for every nested site: a nested block an entry reads
// through a registry.Plugin parameter that the file leaves out starts from
// the parameter's default.
//
// Models and tasks go together by their entries' capabilities, never by
// name: a model with the models.LanguageModel capability needs a task with
// tasks.LanguageModel (text), and any other model a task without it;
// train.teacher_forcing below 1 needs a model with models.RNNDecoder
// (seq2seq-rnn).
//
// # Layers and merging
//
// The configuration is merged from layers with koanf (github.com/knadh/koanf/v2),
// each later one winning key by key: the defaults (a confmap layer built
// from [Defaults]), the extends chain from its deepest base up (each file a
// rawbytes layer parsed by koanf's YAML parser), the experiment file, the
// --set overrides (a confmap layer), and finally, for each run, the sweep
// point's overrides. Maps merge key by key and lists are replaced. A custom
// koanf merge function adds three rules:
//
//   - extends is not inherited: each file names its own base. extends is a
//     path relative to the file that names it; chains may be up to 32 files
//     long, and a cycle is an error.
//   - Under sweep, a file replaces each of grid, zip, variants, random and
//     exclude as a whole (an experiment extending a base with a sweep gets
//     the base's sweep kinds it does not redefine). --set merges into grid,
//     zip and random.params entry by entry.
//   - When a layer names a different plugin in a plugin block than the
//     layers under it, the lower layers' keys that the new plugin does not
//     take are dropped, and those it takes are kept: switching attention
//     from additive to dot drops dim; switching the encoder from lstm to gru
//     keeps hidden; switching to a model that reads no encoder or no
//     attention drops those blocks. So sweeping model.attention.name over
//     [dot, additive] needs no special care when the file configures
//     additive, and an lm-rnn experiment may extend a seq2seq base.
//
// A --set override is "key.path=value", the value parsed as YAML, so 4,
// true, 3e-4 and [a, b] keep their types and "4" stays a string. --set may
// set any key, seeds and the sweep included: seeds=[1,2],
// sweep.grid.model.embed=[32,64], sweep.random.samples=16. The overrides
// apply in order, each merged map by map over the ones before it: a key set
// twice takes the last value, and train={steps: 3} after
// train.optimizer.lr=0.1 keeps the learning rate. A relative file
// path set so (task.path, task.valid_path, ...) is relative to the working
// directory, where the shell user typed it, while one in a file is
// relative to that file.
//
// # Sweeps
//
// Sweep keys are dotted paths into the configuration, under task, model,
// train or eval (a whole block may be swept too: model.attention: [{name:
// dot}, {name: multi-head, heads: 4}]).
//
//	sweep:
//	  grid: {model.encoder.name: [lstm, gru], train.optimizer.lr: [1.0e-3, 3.0e-4]}
//	  zip: {model.encoder.hidden: [64, 128], model.embed: [32, 64]}
//	  variants:
//	    - {name: mha4, model.attention.name: multi-head, model.attention.heads: 4}
//	    - {name: luong-feed, model.wiring: luong, model.input_feeding: true}
//	  random: {samples: 8, seed: 0, params: {train.optimizer.weight_decay: {log_uniform: [1.0e-5, 1.0e-3]},
//	           train.batch_size: {choice: [32, 64]}, train.clip: {uniform: [0.5, 5]}, model.encoder.layers: {int: [1, 3]}}}
//	  exclude: [{variant: mha4, train.optimizer.lr: 3.0e-4}]
//
// (with the task and model of the format above: 96 runs per seed, the 128
// points less the 32 that pair mha4 with the smaller learning rate)
//
// grid is the cartesian product of its lists; zip's lists (all of one
// length) advance together; variants are named override maps; random draws
// samples points, each parameter from its distribution: uniform [lo, hi),
// log_uniform (0 < lo < hi), int (lo..hi inclusive) or choice. The kinds
// combine as a product. The points come in a fixed order: variants
// outermost, then the grid keys in sorted order, the zip rows, and the
// random samples, the last varying fastest. Random draws are reproducible
// (PCG seeded by random.seed), rounded to four significant digits, and
// distinct. exclude drops every point that matches all the keys of one of
// its maps (numbers compare by value; "variant" matches a variant's name);
// exclude keys must be swept keys, and an exclude map that matches nothing
// is an error. A key may be swept by one kind only.
//
// Every point runs once per seed, seeds outermost: the plan holds every
// point for the first seed, then every point for the next, so an interrupted
// plan has seen each point before it repeats one. A plan is limited to
// [MaxRuns] runs, and two points that resolve to the same configuration are
// an error (they would be one run). Expanding and checking a sweep takes
// time and memory linear in its points and values (each point is resolved
// on its own, without a copy of the sweep; repeated values are found by
// key, not by comparing pairs, and so are the points exclude drops: its
// maps are grouped by the keys they name, and each group is matched by a
// hash lookup per point or, when cheaper, by going through the points
// that have the value of each map's key that the fewest points have; the
// time stays below points × distinct key sets of its maps, and is linear
// when they name a few sets of keys or each names a value few points
// share).
// A load given a context (LoadOptions.Context) asks it at each point,
// each run and each of the exclude's sets of keys, and stops when it is
// done (Ctrl-C), returning its error rather than a partial plan.
//
// Every point is resolved and validated on its own, so a key is valid in a
// point when the plugin named at that point takes it (model.attention.heads
// with multi-head). A problem found in some points but not all names the
// first such point: `exp.yaml:7: model.attention.heads: unknown key:
// attention "dot" takes no parameters (sweep point
// model.attention.heads=2 model.attention.name=dot and 1 more)`. A
// parameter the file or --set wrote for a plugin that every point replaces
// by one that does not take it (heads under a grid of dot and additive)
// would be ignored by every run: it is an error ("set for nothing").
//
// # Errors
//
// Everything is checked before anything runs: YAML syntax, empty files (or files of comments only),
// duplicate keys, unknown keys at every depth (plugin parameters included),
// types (no weak typing: "64" is not an int, 1.5 is not an int, but 64.0
// is; the hint for "64" says to drop the quotes, for !!str 64 the tag), registry names (listing the known ones), ranges, NaN and infinities,
// extends targets and cycles, the sweep's shape and keys, seeds. Every
// problem is a [*ConfigError] {File, Line, Key, Msg}, one line:
//
//	exp.yaml:12: model.attention.heds: unknown key for attention "multi-head" (known: name, heads, dim, bias, head): did you mean heads?
//	exp.yaml:3: task.name: unknown task "revers" (known: addition, copy, ...): did you mean reverse?
//	base.yaml:6: train.batch_size: must be in [1, 65536], got -1
//	--set: train.batch_size: want int, got string "many"
//	exp.yaml: name: required: the experiment's name, 1 to 100 characters among a-z, 0-9, _, . and -, not starting with -
//
// Load returns all the problems of an experiment at once as [Errors],
// sorted by file (the experiment file, its bases, then --set) and line;
// the line is that of the key in the YAML (a key inherited from a base names
// the base; a missing key names the nearest block written). Each key gets
// one complaint. Within a plugin block every unknown key and every mistyped
// value is reported; the plugin's own range checks (its Validate) run when
// there are none, and report their first problem. When the sweep section
// itself is malformed, the configuration is checked without it, and each
// well-formed grid or zip key at its first value (an unknown swept key is
// said with the sweep's other problems).
//
// Settings that only new experiments must avoid — a plugin's Lint
// (registry.Linter), an eval.context beyond a file task's measured test
// split, early stopping without a validation split, a held-out split's file
// (tasks.HeldOutFiles: pairs' valid_path, test_path) that is a training
// file, or a test file that is the valid file, by path or by contents ("task.test_path: "d.tsv" is the same file
// as task.path ("d.tsv"): the test split would be training examples
// only; ...") — are ConfigError.Lint
// (settings that made runs fail or store NaN weights, such as adam's eps 0,
// stay plain errors). An experiment refused for those alone
// ([OnlyLint]) loads with LoadOptions.NoLint: run, submit and slurm do so
// when every run of its plan is stored already (rerunning the command
// resumes them, as a worker would), and say so in a note.
//
// # Runs and identity
//
// [Experiment.Plan] returns a [Run] per point and seed with its resolved
// [Config]. A Config marshals to canonical JSON: the YAML keys, sorted,
// plugin blocks flat, every default filled, the seed included, and
// Description and BaseDir left out (editing prose or moving the directory
// does not change a run). Run.Hash, the first 16 hex digits of the SHA-256
// of that JSON, is the run's identity within its experiment: key order,
// number spelling (1e-3 or 0.001, 64 or 64.0) and comments do not change it;
// any resolved value does. Run.Params lists every leaf of it, and
// [VaryingKeys] the keys that differ between runs.
//
// The data are part of that identity. Load reads every file a task reads
// (tasks.FileParams: text's path, pairs' path, src_path, tgt_path,
// valid_path, test_path) and records its tasks.Fingerprint in Config.Data,
// so the canonical JSON of such a run holds a data block
// ("data": {"path": {"sha256": ..., "size": ..., "lines": ...}}) and a
// changed file makes a new run; a file that cannot be read is an error on
// its key. Tasks without files have no data block (their identity is
// unchanged). Load also builds the dataset of each distinct file task
// (tasks.CheckData; a text corpus is measured as it would be built) and reports every problem with the data on the task
// key, one line each: every bad line of a file with its number, an empty
// file, too few distinct sources for the splits. Data without problems
// gives its longest source and target (Config.DataLengths, not part of
// the identity), which the length checks and the memory estimate below use
// where the task's parameters cannot declare its lengths, and the memory
// its dataset took (Config.DataBytes), which the estimate adds. LoadWith
// bounds that memory (LoadOptions.Memory; plan and run pass --max-memory):
// a file whose dataset would take more is reported on the task key while
// it is being built, before the machine runs out of memory.
//
// Experiment files and the bases they extend are read through
// internal/safein: regular files of at most [MaxFileSize] bytes, one YAML
// document each, nested at most 100 levels deep (a --set value too), with
// at most 100,000 values once their aliases are expanded. Every integer setting and plugin parameter has a range
// tag with a finite upper bound. [EstimateMemory] estimates a run's
// training memory from its configuration, its data's lengths and its
// dataset: a training step at the training splits' lengths (values and
// gradients), or an evaluation when that is more — a forward pass at the
// longest lengths of any split, the test split's decoding (every beam
// hypothesis), a language model's eval.context losses, and the stored
// attention maps (one 30,000-character line of a pairs file
// asks hundreds of GiB of a Transformer with additive attention, and is
// refused at plan time); plan and run refuse a run
// above --max-memory with it. A batch counts at most the examples of its
// split (tasks.Batcher): a file task's, measured, or a generated task's
// (tasks.SplitSized), so that batch_size 65,536 over 50 examples is
// estimated as a batch of 50; the Batcher's order of the training
// examples (tasks.BatcherBytes: 8 bytes an example, held all run) is added,
// as it weighs more than a text stream of 4 bytes a token at a context of
// 1 or 2. The formulas are the models' own: each
// model's decoded parameters implement models.MemoryEstimator (asking the
// attention of attention.EstimateMemory and the encoder of
// models.EstimateEncoderMemory); a model whose parameters do not is
// estimated at 0 and never refused. train.early_stopping.metric must be one of
// [EvalMetrics].
//
// A model whose length is bounded by a parameter (models.LengthLimited,
// max_len) is checked against the task's batches when the task's lengths
// follow from its parameters (tasks.Lengths) or from its data files:
// `model.max_len: 4 is shorter than task "copy"'s sequences ...`. For a
// sequence-to-sequence task, eval.decode.max_len 0 decodes up to the
// longest target + [DecodeSlack] tokens, which must stay within
// models.MaxDecodeLen: `eval.decode.max_len: 0 decodes up to the longest
// target + 10 = 20010 tokens, above the limit of 10000 ...`.
package experiments
