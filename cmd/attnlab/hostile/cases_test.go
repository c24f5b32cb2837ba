package hostile

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"
)

// Experiment files of the cases.
var (
	tiny  = map[string]string{"tiny.yaml": tinyYAML}
	tinyT = map[string]string{"t.yaml": tinyTransformer}
	lm    = map[string]string{"lm.yaml": lmYAML, "lm.txt": lmText}
)

// setTiny returns the command line "VERB tiny.yaml --set k=v ..." with
// tiny.yaml written.
func setTiny(verb string, sets ...string) func(*env) []string {
	a := []string{verb, "tiny.yaml"}
	for _, s := range sets {
		a = append(a, "--set", s)
	}
	if verb == "run" {
		a = append(a, "-q", "--db", "lab.db")
	}
	return withFiles(tiny, a...)
}

func setTransformer(verb string, sets ...string) func(*env) []string {
	a := []string{verb, "t.yaml"}
	for _, s := range sets {
		a = append(a, "--set", s)
	}
	if verb == "run" {
		a = append(a, "-q", "--db", "lab.db")
	}
	return withFiles(tinyT, a...)
}

// pairsWith writes pairs.yaml (with extra task keys) and pairs.tsv.
func pairsWith(tsv string, taskKeys string, verb string) func(*env) []string {
	y := pairsYAML
	if taskKeys != "" {
		y = strings.Replace(y, "test_fraction: 0.2}", "test_fraction: 0.2, "+taskKeys+"}", 1)
	}
	a := []string{verb, "pairs.yaml"}
	if verb == "run" {
		a = append(a, "-q", "--db", "lab.db")
	}
	return withFiles(map[string]string{"pairs.yaml": y, "pairs.tsv": tsv}, a...)
}

// evilDescription is a description that drives a terminal: colours, a
// window title, NUL, BEL, a carriage return and a right-to-left override.
const evilDescription = `"\e[31mRED\e[0m \e]0;pwned\a \0nul \rover \u202eevil"`

func corpus() []tcase {
	var cs []tcase
	add := func(c ...tcase) { cs = append(cs, c...) }

	// ── Outputs never clobber ─────────────────────────────────────────
	add(
		tcase{name: "export-over-db", bullet: clobber, owner: "H7",
			setup: withDB(nil, "export", "tiny", "-o", "lab.db", "--force"),
			code:  2, want: []string{"lab.db", "is the run database"}, keep: []string{"lab.db"}},
		tcase{name: "export-over-db-symlink", bullet: clobber, owner: "H7",
			setup: func(e *env) []string {
				e.labDB("lab.db")
				e.symlink("lab.db", "results.csv")
				return []string{"export", "tiny", "-o", "results.csv", "--force", "--db", "lab.db"}
			},
			code: 2, want: []string{"is the run database"}, keep: []string{"lab.db", "results.csv"}},
		tcase{name: "export-over-db-hardlink", bullet: clobber, owner: "H7",
			setup: func(e *env) []string {
				e.labDB("lab.db")
				e.hardlink("lab.db", "copy.csv")
				return []string{"export", "tiny", "-o", "copy.csv", "--force", "--db", "lab.db"}
			},
			code: 2, want: []string{"is the run database"}, keep: []string{"lab.db", "copy.csv"}},
		tcase{name: "export-over-db-other-path", bullet: clobber, owner: "H7",
			setup: func(e *env) []string {
				e.labDB("lab.db")
				e.mkdir("sub", 0o755)
				return []string{"export", "tiny", "-o", "sub/../lab.db", "--force", "--db", e.path("lab.db")}
			},
			code: 2, want: []string{"is the run database"}, keep: []string{"lab.db"}},
		tcase{name: "export-over-existing", bullet: clobber, owner: "H7",
			setup: withDB(map[string]string{"old.csv": "precious"}, "export", "tiny", "-o", "old.csv"),
			code:  2, want: []string{"old.csv", "file exists (--force replaces it)"}, keep: []string{"old.csv", "lab.db"}},
		tcase{name: "export-force-keeps-mode", bullet: clobber, owner: "H7",
			setup: func(e *env) []string {
				a := withDB(map[string]string{"old.csv": "old"}, "export", "tiny", "-o", "old.csv", "--force")(e)
				os.Chmod(e.path("old.csv"), 0o600)
				return a
			},
			code: 0, keep: []string{"lab.db"}, check: func(e *env, r result) error {
				data, _ := os.ReadFile(e.path("old.csv"))
				if !bytes.HasPrefix(data, []byte("id,")) {
					return fmt.Errorf("old.csv holds %q, want the CSV export", clip(string(data)))
				}
				return isMode("old.csv", 0o600)(e, r)
			}},
		tcase{name: "export-new-file-umask", bullet: clobber, owner: "H7",
			setup: withDB(nil, "export", "tiny", "-o", "new.csv"), umask: 0o027,
			code: 0, keep: []string{"lab.db"}, check: isMode("new.csv", 0o640)},
		tcase{name: "export-to-dev-full", bullet: clobber, owner: "H7",
			setup: withDB(nil, "export", "tiny", "-o", "/dev/full", "--force"),
			code:  2, want: []string{"/dev/full", "character device"}, keep: []string{"/dev/full", "lab.db"}},
		tcase{name: "export-to-fifo", bullet: clobber, owner: "H7", timeout: 10 * time.Second,
			setup: func(e *env) []string {
				e.fifo("out.fifo")
				return withDB(nil, "export", "tiny", "-o", "out.fifo", "--force")(e)
			},
			code: 2, want: []string{"out.fifo", "FIFO"}, keep: []string{"out.fifo", "lab.db"}},
		tcase{name: "export-to-dangling-symlink", bullet: clobber, owner: "H7",
			setup: func(e *env) []string {
				e.symlink("nowhere/x.csv", "dangling.csv")
				return withDB(nil, "export", "tiny", "-o", "dangling.csv", "--force")(e)
			},
			code: 2, want: []string{"dangling.csv", "symlink"}, keep: []string{"dangling.csv", "lab.db"}},
		tcase{name: "export-through-symlink-force", bullet: clobber, owner: "H7",
			setup: func(e *env) []string {
				e.mkdir("real", 0o755)
				e.write("real/data.csv", "old")
				e.symlink("real/data.csv", "link.csv")
				return withDB(nil, "export", "tiny", "-o", "link.csv", "--force")(e)
			},
			code: 0, keep: []string{"link.csv", "lab.db"}, check: func(e *env, _ result) error {
				data, _ := os.ReadFile(e.path("real/data.csv"))
				if !bytes.HasPrefix(data, []byte("id,")) {
					return fmt.Errorf("the symlink's target holds %q, want the export", clip(string(data)))
				}
				return nil
			}},
		tcase{name: "export-to-directory", bullet: clobber, owner: "H7",
			setup: func(e *env) []string {
				e.mkdir("outdir", 0o755)
				return withDB(nil, "export", "tiny", "-o", "outdir", "--force")(e)
			},
			code: 2, want: []string{"outdir", "is a directory"}},
		tcase{name: "export-missing-directory", bullet: clobber, owner: "H7",
			setup: withDB(nil, "export", "tiny", "-o", "no/such/dir/x.csv"),
			code:  1, want: []string{"no such file or directory"}, check: noFile("no")},
		tcase{name: "export-read-only-directory", bullet: clobber, owner: "H7", nobody: true,
			setup: func(e *env) []string {
				a := withDB(nil, "export", "tiny", "-o", "ro/x.csv")(e)
				e.mkdir("ro", 0o555)
				return a
			},
			code: 1, want: []string{"ro/x.csv", "permission denied"}, check: noFile("ro/x.csv")},
		tcase{name: "export-to-stdout", bullet: clobber, owner: "H7",
			setup: withDB(nil, "export", "tiny", "-o", "-"),
			code:  0, out: []string{"id,", "tiny"}, keep: []string{"lab.db"}},
		tcase{name: "plot-curves-over-db", bullet: clobber, owner: "H7",
			setup: withDB(nil, "plot", "curves", "tiny", "-o", "lab.db", "--force"),
			code:  2, want: []string{"is the run database"}, keep: []string{"lab.db"}},
		tcase{name: "plot-attention-to-dev-null", bullet: clobber, owner: "H7",
			setup: withDB(nil, "plot", "attention", "1", "-o", "/dev/null", "--force"),
			code:  2, want: []string{"/dev/null", "character device"}, keep: []string{"/dev/null"}},
		tcase{name: "plot-length-over-existing", bullet: clobber, owner: "H7",
			setup: withDB(map[string]string{"length.png": "my own picture"}, "plot", "length", "tiny"),
			code:  2, want: []string{"length.png", "file exists"}, keep: []string{"length.png"}},
		tcase{name: "bench-json-to-dev-full", bullet: clobber, owner: "H7", setup: args("bench", "W4", "--steps", "1", "--json", "/dev/full", "--force"),
			code: 2, want: []string{"/dev/full", "character device"}, keep: []string{"/dev/full"}},
		tcase{name: "bench-json-over-existing", bullet: clobber, owner: "H7",
			setup: withFiles(map[string]string{"bench.json": "[]\n"}, "bench", "W4", "--steps", "1", "--json", "bench.json"),
			code:  2, want: []string{"bench.json", "file exists"}, keep: []string{"bench.json"}},
		tcase{name: "bench-compare-dev-zero", bullet: files, owner: "H1/H6", timeout: 10 * time.Second, rss: 256 << 20,
			setup: args("bench", "W4", "--steps", "1", "--compare", "/dev/zero"),
			code:  2, want: []string{"/dev/zero"}},
		tcase{name: "eval-out-over-db", bullet: clobber, owner: "H7",
			setup: withDB(map[string]string{"t.tsv": evalTSV(4)}, "eval", "1", "t.tsv", "--out", "lab.db", "--force"),
			code:  2, want: []string{"is the run database"}, keep: []string{"lab.db"}},
		tcase{name: "eval-out-fifo", bullet: clobber, owner: "H7", timeout: 10 * time.Second,
			setup: func(e *env) []string {
				e.fifo("hyps.txt")
				return withDB(map[string]string{"t.tsv": evalTSV(4)}, "eval", "1", "t.tsv", "--out", "hyps.txt", "--force")(e)
			},
			code: 2, want: []string{"hyps.txt", "FIFO"}, keep: []string{"hyps.txt"}},
		tcase{name: "plot-curves-to-stdout", bullet: clobber, owner: "H7",
			setup: withDB(nil, "plot", "curves", "tiny", "-o", "-"),
			code:  0, out: []string{"\x89PNG"}, keep: []string{"lab.db"}},
	)

	// ── The database is watched; foreign and read-only databases ──────
	foreign := func(e *env) {
		e.write("foreign.sqlite", "")
		makeForeignSQLite(e.t, e.path("foreign.sqlite"))
	}
	add(
		tcase{name: "ls-foreign-sqlite", bullet: watched, owner: "H8",
			setup: func(e *env) []string { foreign(e); return []string{"ls", "runs", "--db", "foreign.sqlite"} },
			code:  1, want: []string{"foreign.sqlite", "not an attnlab database"}, keep: []string{"foreign.sqlite"},
			check: noFile("foreign.sqlite-wal")},
		tcase{name: "run-on-foreign-sqlite", bullet: watched, owner: "H8",
			setup: func(e *env) []string {
				foreign(e)
				return withFiles(tiny, "run", "tiny.yaml", "-q", "--db", "foreign.sqlite")(e)
			},
			code: 1, want: []string{"not an attnlab database"}, keep: []string{"foreign.sqlite"}},
		tcase{name: "show-foreign-sqlite", bullet: watched, owner: "H8",
			setup: func(e *env) []string { foreign(e); return []string{"show", "1", "--db", "foreign.sqlite"} },
			code:  1, want: []string{"not an attnlab database"}, keep: []string{"foreign.sqlite"}},
		tcase{name: "ls-db-in-read-only-directory", bullet: watched, owner: "H8", nobody: true,
			setup: func(e *env) []string {
				e.mkdir("ro", 0o755)
				e.labDB("ro/lab.db")
				os.Chmod(e.path("ro"), 0o555)
				return []string{"ls", "runs", "--db", "ro/lab.db"}
			},
			code: 0, out: []string{"tiny"}, keep: []string{"ro/lab.db"}},
		tcase{name: "run-db-in-read-only-directory", bullet: watched, owner: "H8", nobody: true,
			setup: func(e *env) []string {
				e.mkdir("ro", 0o755)
				e.labDB("ro/lab.db")
				e.write("tiny.yaml", tiny["tiny.yaml"])
				os.Chmod(e.path("ro"), 0o555)
				return []string{"run", "tiny.yaml", "-q", "--db", "ro/lab.db"}
			},
			code: 1, want: []string{"ro/lab.db", "read-only to this user", "commands that only read it work"}, keep: []string{"ro/lab.db"}},
		tcase{name: "run-new-db-in-read-only-directory", bullet: watched, owner: "H8", nobody: true,
			setup: func(e *env) []string {
				e.mkdir("ro", 0o555)
				e.write("tiny.yaml", tiny["tiny.yaml"])
				return []string{"run", "tiny.yaml", "-q", "--db", "ro/new.db"}
			},
			code: 1, want: []string{"ro/new.db", "cannot be created: this user may not write its directory ro"},
			check: noFile("ro/new.db")},
		tcase{name: "show-read-only-db-file", bullet: watched, owner: "H8", nobody: true,
			setup: func(e *env) []string {
				e.labDB("lab.db")
				os.Chmod(e.path("lab.db"), 0o444)
				return []string{"show", "1", "--db", "lab.db"}
			},
			code: 0, out: []string{"run 1"}, keep: []string{"lab.db"}},
		tcase{name: "db-is-fifo", bullet: watched, owner: "H8", timeout: 10 * time.Second,
			setup: func(e *env) []string { e.fifo("lab.db"); return []string{"ls", "runs", "--db", "lab.db"} },
			code:  1, want: []string{"lab.db"}, keep: []string{"lab.db"}},
		tcase{name: "db-is-symlink-to-fifo", bullet: watched, owner: "H8", timeout: 10 * time.Second,
			setup: func(e *env) []string {
				e.fifo("pipe")
				e.symlink("pipe", "lab.db")
				return withFiles(tiny, "run", "tiny.yaml", "-q", "--db", "lab.db")(e)
			},
			code: 1, want: []string{"lab.db"}, keep: []string{"pipe", "lab.db"}},
		tcase{name: "db-is-dev-zero", bullet: watched, owner: "H8", timeout: 10 * time.Second,
			setup: args("ls", "runs", "--db", "/dev/zero"),
			code:  1, want: []string{"/dev/zero"}},
		tcase{name: "run-db-is-dev-full", bullet: watched, owner: "H8", timeout: 10 * time.Second,
			setup: withFiles(tiny, "run", "tiny.yaml", "-q", "--db", "/dev/full"),
			code:  1, want: []string{"/dev/full"}, keep: []string{"/dev/full"}},
		tcase{name: "db-is-directory", bullet: watched, owner: "H8",
			setup: func(e *env) []string { e.mkdir("dir.db", 0o755); return []string{"ls", "runs", "--db", "dir.db"} },
			code:  1, want: []string{"dir.db", "directory"}},
		tcase{name: "db-is-text", bullet: watched, owner: "H8",
			setup: withFiles(map[string]string{"notes.db": "my notes, not a database\n"}, "ls", "experiments", "--db", "notes.db"),
			code:  1, want: []string{"notes.db", "not a"}, keep: []string{"notes.db"}},
		tcase{name: "db-truncated", bullet: watched, owner: "H8",
			setup: func(e *env) []string {
				data, err := os.ReadFile(fixtureDB(e.t))
				if err != nil {
					e.t.Fatal(err)
				}
				e.write("cut.db", string(data[:len(data)/3]))
				return []string{"show", "1", "--db", "cut.db"}
			},
			code: 1, want: []string{"cut.db"}, keep: []string{"cut.db"}},
		tcase{name: "db-deleted-during-run", bullet: watched, owner: "H8", code: 1, multi: true, drive: deletedDuringRun(false)},
		tcase{name: "db-replaced-during-run", bullet: watched, owner: "H8", code: 1, multi: true, drive: deletedDuringRun(true)},
	)

	// ── Resource limits checked before allocation ──────────────────────
	big := "1000000000"
	add(
		tcase{name: "size-embed", bullet: limits, owner: "H1", setup: setTiny("plan", "model.embed="+big),
			code: 2, want: []string{"embed"}},
		tcase{name: "size-encoder-hidden", bullet: limits, owner: "H1", setup: setTiny("run", "model.encoder.hidden="+big),
			code: 2, want: []string{"hidden"}, check: noFile("lab.db")},
		tcase{name: "size-decoder-hidden", bullet: limits, owner: "H1", setup: setTiny("plan", "model.hidden="+big),
			code: 2, want: []string{"hidden"}},
		tcase{name: "size-d-model", bullet: limits, owner: "H1", setup: setTransformer("plan", "model.d_model="+big),
			code: 2, want: []string{"d_model"}},
		tcase{name: "size-ff", bullet: limits, owner: "H1", setup: setTransformer("run", "model.ff="+big),
			code: 2, want: []string{"ff"}},
		tcase{name: "size-heads", bullet: limits, owner: "H1", setup: setTransformer("plan", "model.attention.heads=1000000"),
			code: 2, want: []string{"heads"}},
		tcase{name: "size-multi-head-dim", bullet: limits, owner: "H1", setup: setTransformer("plan", "model.attention.dim="+big),
			code: 2, want: []string{"dim"}},
		tcase{name: "size-additive-dim", bullet: limits, owner: "H1", setup: setTiny("run", "model.attention.dim="+big),
			code: 2, want: []string{"dim"}},
		tcase{name: "size-location-max-len", bullet: limits, owner: "H1",
			setup: setTiny("run", "model.attention={name: location, max_len: "+big+"}"),
			code:  2, want: []string{"max_len"}},
		tcase{name: "size-local-window", bullet: limits, owner: "H1",
			setup: setTiny("run", "model.attention={name: local, window: "+big+"}"),
			code:  2, want: []string{"window"}},
		tcase{name: "size-score-dim", bullet: limits, owner: "H1",
			setup: setTransformer("run", "model.attention={name: multi-head, heads: 2, head: {name: additive, dim: 100000}}"),
			code:  2, want: []string{"dim"}},
		tcase{name: "size-encoder-layers", bullet: limits, owner: "H1", setup: setTiny("run", "model.encoder.layers=1000000"),
			code: 2, want: []string{"layers"}},
		tcase{name: "size-chunked-block", bullet: limits, owner: "H1",
			setup: setTransformer("run", "model.attention={name: chunked, block: "+big+"}"),
			code:  2, want: []string{"block"}},
		tcase{name: "size-lm-max-len", bullet: limits, owner: "H1",
			setup: withFiles(lm, "run", "lm.yaml", "-q", "--db", "lab.db", "--set", "model={name: lm-transformer, d_model: 8, ff: 8, decoder_layers: 1, max_len: "+big+", attention: {name: multi-head, heads: 2}}"),
			code:  2, want: []string{"max_len"}},
		tcase{name: "size-eval-beam", bullet: limits, owner: "H1",
			setup: setTiny("plan", "eval.decode={strategy: beam, beam: "+big+"}"),
			code:  2, want: []string{"beam"}},
		tcase{name: "size-eval-max-len", bullet: limits, owner: "H1", setup: setTiny("run", "eval.decode.max_len="+big),
			code: 2, want: []string{"max_len"}},
		tcase{name: "size-batch", bullet: limits, owner: "H1", setup: setTiny("run", "train.batch_size="+big),
			code: 2, want: []string{"batch_size"}},
		tcase{name: "size-train-split", bullet: limits, owner: "H1", setup: setTiny("run", "task.train_size=1000000000000"),
			code: 2, want: []string{"train_size"}},
		tcase{name: "memory-estimate", bullet: limits, owner: "H1",
			setup: setTiny("plan", "model.embed=4096", "model.encoder.hidden=16384", "model.encoder.layers=4"),
			code:  2, want: []string{"memory"}},
		tcase{name: "memory-estimate-transformer", bullet: limits, owner: "H1",
			setup: setTransformer("plan", "model.d_model=16384"),
			code:  2, want: []string{"memory"}},
		// 64 MB of text (written a line at a time, so that this process
		// does not hold it, which its children's peak RSS would inherit;
		// a sparse file of NULs is refused as not text) takes about 11
		// bytes a character to build: refused at the limit while it is
		// built, not by the allocator.
		tcase{name: "text-dataset-memory", bullet: limits, owner: "H1",
			setup: func(e *env) []string {
				e.write("lm.yaml", lmYAML)
				e.repeated("lm.txt", lmText+"\n", 64<<20)
				return []string{"plan", "lm.yaml", "--max-memory", "256MiB"}
			},
			code: 2, want: []string{"lm.txt", "building its dataset takes more than --max-memory 256 MiB"}},
		tcase{name: "huge-sweep", bullet: limits, owner: "H1",
			setup: func(e *env) []string {
				vals := make([]string, 1000)
				for i := range vals {
					vals[i] = fmt.Sprint(i + 1)
				}
				list := "[" + strings.Join(vals, ", ") + "]"
				e.write("sweep.yaml", tinyYAML+"sweep:\n  grid:\n    train.steps: "+list+"\n    train.log_every: "+list+"\n    train.batch_size: "+list+"\n")
				return []string{"plan", "sweep.yaml"}
			},
			code: 2, want: []string{"sweep"}},
		tcase{name: "heads-not-dividing", bullet: limits, owner: "H1",
			setup: setTransformer("plan", "model.d_model=10", "model.attention.heads=3"),
			code:  2, want: []string{"heads"}},
		tcase{name: "negative-size", bullet: limits, owner: "H1", setup: setTiny("run", "model.encoder.hidden=-5"),
			code: 2, want: []string{"hidden"}},
		tcase{name: "infinite-size", bullet: limits, owner: "H1", setup: setTiny("plan", "model.embed=1e999"),
			code: 2, want: []string{"embed"}},
		tcase{name: "eval-huge-beam", bullet: limits, owner: "H7",
			setup: withDB(map[string]string{"t.tsv": evalTSV(4)}, "eval", "1", "t.tsv", "--beam", "1000000"),
			code:  2, want: []string{"--beam 1000000", "at most"}},
		tcase{name: "generate-huge-beam", bullet: limits, owner: "H7", setup: withDB(nil, "generate", "1", "--input", "abc", "--beam", "1000000"),
			code: 2, want: []string{"--beam 1000000", "at most"}},
		tcase{name: "generate-huge-max-len", bullet: limits, owner: "H7", setup: withDB(nil, "generate", "2", "--input", "the", "--max-len", big),
			code: 2, want: []string{"--max-len", "at most"}},
	)

	// ── Files: regular only, bounded size and lines ────────────────────
	add(
		tcase{name: "plan-dev-zero", bullet: files, owner: "H1", timeout: 10 * time.Second, rss: 256 << 20,
			setup: args("plan", "/dev/zero"), code: 2, want: []string{"/dev/zero"}},
		tcase{name: "plan-fifo", bullet: files, owner: "H1", timeout: 10 * time.Second,
			setup: func(e *env) []string { e.fifo("exp.yaml"); return []string{"plan", "exp.yaml"} },
			code:  2, want: []string{"exp.yaml"}, keep: []string{"exp.yaml"}},
		tcase{name: "plan-symlink-to-fifo", bullet: files, owner: "H1", timeout: 10 * time.Second,
			setup: func(e *env) []string {
				e.fifo("pipe")
				e.symlink("pipe", "exp.yaml")
				return []string{"plan", "exp.yaml"}
			},
			code: 2, want: []string{"exp.yaml"}},
		tcase{name: "extends-dev-zero", bullet: files, owner: "H1", timeout: 10 * time.Second, rss: 256 << 20,
			setup: withFiles(map[string]string{"exp.yaml": "extends: /dev/zero\nname: x\n"}, "plan", "exp.yaml"),
			code:  2, want: []string{"/dev/zero"}},
		tcase{name: "extends-fifo", bullet: files, owner: "H1", timeout: 10 * time.Second,
			setup: func(e *env) []string {
				e.fifo("base.yaml")
				e.write("exp.yaml", "extends: base.yaml\nname: x\n")
				return []string{"run", "exp.yaml", "-q", "--db", "lab.db"}
			},
			code: 2, want: []string{"base.yaml"}, check: noFile("lab.db")},
		tcase{name: "extends-directory", bullet: files, owner: "H1",
			setup: func(e *env) []string {
				e.mkdir("base", 0o755)
				e.write("exp.yaml", "extends: base\nname: x\n")
				return []string{"plan", "exp.yaml"}
			},
			code: 2, want: []string{"base"}},
		tcase{name: "extends-cycle", bullet: files, owner: "H1",
			setup: withFiles(map[string]string{"a.yaml": "extends: b.yaml\nname: a\n", "b.yaml": "extends: a.yaml\nname: b\n"}, "plan", "a.yaml"),
			code:  2, want: []string{"a.yaml"}},
		tcase{name: "extends-too-deep", bullet: files, owner: "H1",
			setup: func(e *env) []string {
				for i := 0; i < 40; i++ {
					e.write(fmt.Sprintf("e%d.yaml", i), fmt.Sprintf("extends: e%d.yaml\n", i+1))
				}
				e.write("e40.yaml", tinyYAML)
				return []string{"plan", "e0.yaml"}
			},
			code: 2, want: []string{"32"}},
		tcase{name: "plan-directory", bullet: files, owner: "H1",
			setup: func(e *env) []string { e.mkdir("exp.yaml", 0o755); return []string{"plan", "exp.yaml"} },
			code:  2, want: []string{"exp.yaml"}},
		tcase{name: "plan-missing-file", bullet: files, owner: "H1", setup: args("plan", "nope.yaml"),
			code: 2, want: []string{"nope.yaml"}},
		tcase{name: "plan-unreadable-file", bullet: files, owner: "H1", nobody: true,
			setup: func(e *env) []string {
				e.write("exp.yaml", tinyYAML)
				os.Chmod(e.path("exp.yaml"), 0o000)
				return []string{"plan", "exp.yaml"}
			},
			code: 2, want: []string{"exp.yaml", "permission denied"}},
		tcase{name: "plan-huge-sparse-yaml", bullet: files, owner: "H1", rss: 128 << 20,
			setup: func(e *env) []string {
				e.sparse("huge.yaml", tinyYAML+"# padding\n", 300<<20)
				return []string{"plan", "huge.yaml"}
			},
			code: 2, want: []string{"huge.yaml"}},
		tcase{name: "plan-yaml-bomb", bullet: files, owner: "H1", timeout: 10 * time.Second,
			setup: withFiles(map[string]string{"bomb.yaml": yamlBomb()}, "plan", "bomb.yaml"),
			code:  2, want: []string{"bomb.yaml"}},
		tcase{name: "plan-deep-nesting", bullet: files, owner: "H1", timeout: 10 * time.Second,
			setup: withFiles(map[string]string{"deep.yaml": "name: x\ndescription: " + strings.Repeat("[", 200000) + "\n"}, "plan", "deep.yaml"),
			code:  2, want: []string{"deep.yaml"}},
		tcase{name: "plan-binary-garbage", bullet: files, owner: "H1",
			setup: withFiles(map[string]string{"bin.yaml": "name: x\n\xff\xfe\x00\x01garbage\x9b[2J\n"}, "plan", "bin.yaml"),
			code:  2, want: []string{"bin.yaml"}, check: controlFreeOutput},
		tcase{name: "text-task-dev-zero", bullet: files, owner: "H1", timeout: 10 * time.Second, rss: 256 << 20,
			setup: withFiles(map[string]string{"lm.yaml": strings.Replace(lmYAML, "path: lm.txt", "path: /dev/zero", 1)}, "run", "lm.yaml", "-q", "--db", "lab.db"),
			code:  2, want: []string{"/dev/zero"}},
		tcase{name: "pairs-fifo", bullet: files, owner: "H1", timeout: 10 * time.Second,
			setup: func(e *env) []string {
				a := pairsWith("", "", "run")(e)
				os.Remove(e.path("pairs.tsv"))
				e.fifo("pairs.tsv")
				return a
			},
			code: 2, want: []string{"pairs.tsv"}, keep: []string{"pairs.tsv"}},
		tcase{name: "pairs-huge-sparse", bullet: files, owner: "H1", timeout: 15 * time.Second, rss: 256 << 20,
			setup: func(e *env) []string {
				a := pairsWith(pairsTSV(50), "", "plan")(e)
				e.sparse("pairs.tsv", pairsTSV(50), 4<<30)
				return a
			},
			code: 2, want: []string{"pairs.tsv"}},
		tcase{name: "pairs-long-line", bullet: files, owner: "H1", timeout: 15 * time.Second, rss: 256 << 20,
			setup: pairsWith(pairsTSV(2)+strings.Repeat("tok ", 200000)+"\tz\n"+pairsTSV(20), "", "plan"),
			code:  2, want: []string{"pairs.tsv:3"}},
		tcase{name: "eval-src-dev-zero", bullet: files, owner: "H1/H5", timeout: 10 * time.Second, rss: 256 << 20,
			setup: withDB(map[string]string{"ref.txt": "cba\n"}, "eval", "1", "--src", "/dev/zero", "--ref", "ref.txt"),
			code:  2, want: []string{"/dev/zero"}},
		tcase{name: "eval-tsv-fifo", bullet: files, owner: "H1/H5", timeout: 10 * time.Second,
			setup: func(e *env) []string {
				e.fifo("t.tsv")
				return withDB(nil, "eval", "1", "t.tsv")(e)
			},
			code: 2, want: []string{"t.tsv"}, keep: []string{"t.tsv"}},
		tcase{name: "text-task-directory", bullet: files, owner: "H1",
			setup: func(e *env) []string {
				e.mkdir("lm.txt", 0o755)
				return withFiles(map[string]string{"lm.yaml": lmYAML}, "plan", "lm.yaml")(e)
			},
			code: 2, want: []string{"lm.txt"}},
	)

	// ── Validate the data and the experiment at plan ───────────────────
	add(
		tcase{name: "multi-document-yaml", bullet: planData, owner: "H1",
			setup: withFiles(map[string]string{"two.yaml": tinyYAML + "---\nname: second\n"}, "plan", "two.yaml"),
			code:  2, want: []string{"two.yaml"}},
		tcase{name: "early-stopping-unknown-metric", bullet: planData, owner: "H1",
			setup: setTiny("plan", "train.early_stopping={metric: valid/los, patience: 2}"),
			code:  2, want: []string{"valid/los"}},
		tcase{name: "pairs-three-bad-lines", bullet: planData, owner: "H1", multi: true,
			setup: pairsWith("a b\tc\nno tab here\nd e\tf\nstill none\ng h\ti\nnor here\n"+pairsTSV(30), "", "plan"),
			code:  2, want: []string{"pairs.tsv:2", "pairs.tsv:4", "pairs.tsv:6"}},
		tcase{name: "pairs-invalid-utf8", bullet: planData, owner: "H1",
			setup: pairsWith(pairsTSV(4)+"bad \xff\xfe\tx\n"+pairsTSV(20), "", "plan"),
			code:  2, want: []string{"pairs.tsv:5"}},
		tcase{name: "pairs-missing-file", bullet: planData, owner: "H1",
			setup: func(e *env) []string {
				a := pairsWith("", "", "plan")(e)
				os.Remove(e.path("pairs.tsv"))
				return a
			},
			code: 2, want: []string{"pairs.tsv"}},
		tcase{name: "pairs-empty-file", bullet: planData, owner: "H1", setup: pairsWith("", "", "plan"),
			code: 2, want: []string{"pairs.tsv"}},
		tcase{name: "pairs-too-few-sources", bullet: planData, owner: "H1", setup: pairsWith(pairsTSV(3), "", "plan"),
			code: 2, want: []string{"pairs.tsv"}},
		tcase{name: "impossible-distinct-split", bullet: planData, owner: "H1", timeout: 10 * time.Second, rss: 256 << 20,
			setup: setTiny("plan", "task={name: reverse, symbols: 2, min_len: 1, max_len: 2, train_size: 10, valid_size: 500, test_size: 500}"),
			code:  2, want: []string{"valid_size"}},
	)

	// ── Signals everywhere ─────────────────────────────────────────────
	add(
		tcase{name: "sigterm-during-training", bullet: signals, owner: "H7", code: 130, multi: true, want: []string{"interrupted"}, drive: signalDuringTraining},
		tcase{name: "stdout-closed-during-training", bullet: signals, owner: "H7", code: 130, multi: true, want: []string{"interrupted"}, drive: stdoutClosedDuringTraining},
		tcase{name: "sigint-during-test-evaluation", bullet: signals, owner: "H7", code: 130, multi: true, want: []string{"interrupted"}, drive: signalDuringTestEvaluation},
		tcase{name: "sigterm-generate-blocked-stdin", bullet: signals, owner: "H7", code: 130, want: []string{"interrupted"}, drive: signalGenerateBlockedStdin},
		tcase{name: "sigterm-blocked-read", bullet: signals, owner: "H7", code: anyCode, drive: signalBlockedRead},
		tcase{name: "sigint-during-eval", bullet: signals, owner: "H7", code: 130, want: []string{"interrupted"}, drive: signalDuringEval},
		tcase{name: "sigint-generate-long-decoding", bullet: signals, owner: "H7", code: 130, want: []string{"interrupted"}, drive: signalGenerateDecoding},
		tcase{name: "crash-test", bullet: exitCodes, owner: "H7", setup: args("crash-test"),
			code: 3, want: []string{"internal error: crash-test: deliberate bug", "report written to"}, check: crashReport},
	)

	// ── Liveness ───────────────────────────────────────────────────────
	add(
		tcase{name: "kill9-restart-zombie", bullet: liveness, owner: "H7", code: 0, multi: true, drive: killAndRestart},
		tcase{name: "second-run-waits", bullet: liveness, owner: "H7", code: 0, multi: true, drive: secondRunWaits},
		tcase{name: "second-run-interrupted-while-waiting", bullet: liveness, owner: "H7", code: 130, multi: true, want: []string{"interrupted"}, drive: secondRunInterrupted},
	)

	// ── Exit codes ─────────────────────────────────────────────────────
	add(
		tcase{name: "failed-run-first-line", bullet: exitCodes, owner: "H7", multi: true,
			setup: setTiny("run", "train.optimizer.lr=1.0e+38", "train.clip=0"),
			code:  1, want: []string{"tiny/seed=1 (run 1) failed: ", "1 of 1 run failed"},
			check: func(_ *env, r result) error {
				ls := lines(r.stderr)
				if !strings.Contains(ls[0], "failed") || strings.Contains(r.stderr, "nothing to compare") {
					return fmt.Errorf("the first line does not name the failure: %q", ls[0])
				}
				return nil
			}},
		tcase{name: "unknown-run", bullet: exitCodes, owner: "H7", setup: withDB(nil, "show", "99"),
			code: 2, want: []string{"99"}},
		tcase{name: "unknown-flag", bullet: exitCodes, owner: "H7", setup: args("plan", "--nope"),
			code: 2, want: []string{"--nope"}},
		tcase{name: "done-run-exits-0", bullet: exitCodes, owner: "H7", multi: true,
			setup: withFiles(tiny, "run", "tiny.yaml", "-q", "--db", "lab.db"),
			code:  0, out: []string{"tiny"}},
	)

	// ── Terminal safety ────────────────────────────────────────────────
	evil := map[string]string{"evil.yaml": strings.Replace(tinyYAML, "description: a tiny reversal", "description: "+evilDescription, 1)}
	add(
		tcase{name: "description-plan", bullet: terminal, owner: "H7", setup: withFiles(evil, "plan", "evil.yaml"),
			code: 0, out: []string{`\x1b[31mRED`, `\x00nul`}, check: controlFreeOutput},
		tcase{name: "description-ls-and-show", bullet: terminal, owner: "H7", drive: evilListing},
		tcase{name: "sweep-value-escape", bullet: terminal, owner: "H7",
			setup: setTiny("plan", "model.attention.name=\"\\e[2J\\e[Hgotcha\""),
			code:  2, multi: true, want: []string{`\x1b[2J`}, check: controlFreeOutput},
		tcase{name: "path-with-escape", bullet: terminal, owner: "H7", setup: args("plan", "\x1b[2Jexp.yaml"),
			code: 2, want: []string{`\x1b[2Jexp.yaml`}, check: controlFreeOutput},
		tcase{name: "where-with-escape", bullet: terminal, owner: "H7", setup: withDB(nil, "ls", "runs", "--where", "seed = \x1b]0;title\x07"),
			code: 2, check: controlFreeOutput},
		tcase{name: "generate-input-escape", bullet: terminal, owner: "H7", setup: withDB(nil, "generate", "1", "--input", "ab\x1b[31mc"),
			code: 2, want: []string{`\x1b`}, check: controlFreeOutput},
		tcase{name: "eval-escapes", bullet: terminal, owner: "H7",
			setup: withDB(map[string]string{"t.tsv": "ab\x1b[31mc\tc\x1b]0;x\x07ba\n" + evalTSV(3)}, "eval", "1", "t.tsv", "--out", "-"),
			code:  0, check: controlFreeOutput},
		tcase{name: "data-with-escapes", bullet: terminal, owner: "H7", drive: evilData},
	)
	return cs
}

// yamlBomb is a "billion laughs" document: nine levels of nine aliases.
func yamlBomb() string {
	var b strings.Builder
	b.WriteString("name: bomb\na0: &a0 [\"lol\"]\n")
	for i := 1; i <= 9; i++ {
		refs := make([]string, 9)
		for j := range refs {
			refs[j] = fmt.Sprintf("*a%d", i-1)
		}
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.Join(refs, ", "))
	}
	b.WriteString("description: *a9\n")
	return b.String()
}

// evalTSV returns n source<TAB>reference lines of the tiny reversal task.
func evalTSV(n int) string {
	var b strings.Builder
	syms := "abcde"
	for i := 0; i < n; i++ {
		src := []byte{syms[i%5], syms[(i/5)%5], syms[(i/25)%5]}
		ref := []byte{src[2], src[1], src[0]}
		fmt.Fprintf(&b, "%s\t%s\n", src, ref)
	}
	return b.String()
}
