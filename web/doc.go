// Package web is attnlab's dashboard, `attnlab serve`: the run database in a
// browser, live while runs train. A Server is an http.Handler over one
// store.Store (SQLite or PostgreSQL alike); it only reads the store.
//
// # Pages
//
// Every page has its own URL, so it can be shared:
//
//	/                        experiments: description, runs by status, last activity, best main metric
//	/x/NAME                  one experiment: the comparison table of attnlab compare (report.Compare,
//	                         the same code and numbers), with where/by/pool/baseline/metrics/sort/status
//	                         chosen in a form whose fields are the CLI's flags; its runs with progress
//	/x/NAME/curves           any metric of the selected runs, one line per run or the mean per group with
//	                         a min–max or ± std band; log scale (its tick labels of one format:
//	                         1e-4 … 1e0 once one needs an exponent), zoom, hover values; accuracy by length.
//	                         A group's mean is attnlab plot curves's (report.GroupCurveOf): solid over
//	                         its band only where all its runs have a value, dashed without band where
//	                         fewer do ("n=2" where their number changes; hover says it), and the legend
//	                         counts the runs that end early, diverged or are not finished
//	                         ("4 runs, 3 end early"). Accuracy by length has plot length's references
//	                         (report.LengthReferences): the buckets holding training examples shaded, the majority floor
//	                         dotted
//	/r/ID                    a run: status, timing, host, config as YAML, summaries (in
//	                         metrics.CompareKeys order, as attnlab show: len_2_9 before len_10_19), samples (a
//	                         language model's as prompts and continuations, as attnlab show: runs.LanguageModel), attention
//	                         heatmaps (SVG; hover shows source token, output token, weight), artifacts
//	/r/ID/artifacts/KIND/F   an artifact to download (the weights as safetensors)
//	/r/ID/generate           decode an input with a finished run's model (403 with Options.ReadOnly):
//	                         greedy, beam search, or sampling with attnlab generate's settings
//	                         (temperature, top-k, top-p, seed; the run's eval.decode at first,
//	                         checked by models.CheckSampling), a sample the CLI's for the same seed
//
// The pages are server-rendered html/template; the JSON behind them is under
// /api/ (compare, curves, length, attention, experiments, live).
//
// # Live
//
// A page that shows something that can still change names a live URL
// (/api/live?...) in its body; app.js polls it every Options.Poll and, when
// the version it answers changes (status, attempt, finish time or last
// metric step of any run shown), fetches the page again with
// ?fragment=NAME and swaps in each [data-fragment] part; curves.js redraws
// its chart. Polling backs off while nothing trains: the live API is
// active only while some run is running under a worker that is not gone
// (store.Abandoned). Queued or interrupted runs of an experiment none of
// whose runs trains wait for a worker, and the experiments, experiment and
// run pages say so, with the attnlab worker command that trains them: that
// no worker trains any run of the database, or which workers are busy with
// which other experiments (busyElsewhere; a worker is known only by the
// runs it holds, not by the --experiment it was started with). Runs that a
// worker handed back as too big for its --max-memory (tooBig) wait for a
// worker with more memory, and the experiment and run pages say that too.
// A queued run's page asks this of the running runs only (trainingRuns),
// not of every run of its experiment. The experiment and run pages poll
// /api/live with others=1: their version then also follows the workers busy
// elsewhere (busyVersion), so that the note naming them is refreshed.
//
// # A replaced database file
//
// With Options.Reopen (serve sets it), a request first asks the store
// whether its SQLite file is still the one at its path (store.Store.Gone:
// one stat). Once the file was replaced, the server opens the path anew,
// logs one line, and serves the new database from then on (with new
// caches: run ids now name other runs); the old store is closed. While
// nothing is at the path, or what is there cannot be opened, every page
// and API answer is 503 naming the file by its absolute path, as the
// pages' command lines do (logged once), assets still load,
// and the path is tried again at most once a second (reopenEvery): a live
// page comes back by itself, and the page that says the file is gone polls
// and loads itself again once it is back (data-reload). While the old
// file's write-ahead log, with frames in it, is still beside the path
// (store.Store.LeftLog: a process wrote the old file while the server held
// it, so the log was neither checkpointed nor deleted), the new file is not
// opened at all — SQLite would apply that log to it, and a read-write
// store would checkpoint the old pages into it — and the 503 names the log
// and says to move it away. A request that was reading the old file as it
// went answers 503 "deleted or replaced while this page was read", not
// SQLite's "malformed".
//
// # Errors
//
// A page or API answer that fails says why, with a status: 404 for what
// does not exist, 400 for what the request got wrong, 405 (with Allow)
// for a method the URL does not take (every page is GET and HEAD; only
// generate takes POST), 503 while the
// PostgreSQL server cannot be reached (stopped, restarting, full: the
// answer says so, and a live page recovers at its next poll once the
// server is back; store.Store.Unreachable tells), 500 otherwise. Under
// /api/ the answer is JSON, {"error": "..."}, for the refusals made before
// any handler too (a bad query string, another site's fetch, a path no
// handler takes, a method other than GET or HEAD: apiGetOnly, a database
// file gone: failAny); elsewhere it is a page. An experiment page whose
// form is wrong (400) shows the form, holding the values to fix, and the
// error once: not the command line of a table it has not, nor links that
// would carry the same filter again. An experiment or curves page asked
// for runs by id (?run=) links those of its experiment only, and says
// which ids are runs of another experiment and which no run has (picked).
// A query field given twice (?where=a&where=b; only a page's run=
// repeats; /api/live's run=, x= and others= do not, nor go together; nor
// do an experiment page's runs=, a run page's example=, any page's
// fragment= or an asset's v=, the hash of /static/NAME?v=HASH) is 400
// naming it, and so is a generate POST whose form has a field twice, or
// in its URL: no value is dropped without a word.
//
// # Safety
//
// Every value from the database goes through html/template escaping, and
// every page through printable.Text, so that a control character or a bidi
// override in stored text shows as its escape (\u202e), as the CLI shows it,
// instead of reordering or recolouring what is around it; form
// values reach SQL only through report.Query (bound parameters). Every
// response carries a Content-Security-Policy without inline script or
// style (CSP); scripts and styles are embedded files under static/ served
// with a content hash in their URL. Against DNS rebinding, a request's
// Host must be localhost, a name of Options.Hosts, or — unless
// LoopbackOnly — an IP address: any other name is refused (421), on
// loopback and off it. Cross-origin POSTs are refused, and so are the GETs
// a browser says another site's page made without the visitor following a
// link (Fetch Metadata: an image, script, fetch or frame), which could make
// the server load models or read artifacts for nothing. Database URLs in
// messages go through store.Redact, so a password is never shown. The
// command lines a page suggests (attnlab compare, worker, plot attention)
// name the database by store.SharedCommandDB: the page may be read in
// another directory, shell or machine, so a relative path is made absolute
// and a database from $ATTNLAB_DB is still named (without its password).
//
// # Assets
//
// static/vendor holds third-party front-end code (uPlot), unmodified from
// the npm registry at a pinned version with its licence; its README says
// how to update it and TestVendoredAssets pins each file's SHA-256.
//
// # Speed
//
// The histories of runs that are no longer running are cached (histCache);
// a curves answer is bounded by pointBudget values: long histories are
// downsampled to at most maxLinePoints buckets per line, each keeping its
// minimum and maximum (align). BenchmarkExperimentPage500 and
// BenchmarkCurvesPage500 measure a 500-run experiment with 10,000 metric
// rows per run.
//
// An experiment page lists at most maxRunRows (500) of its runs — those
// not done first, then done ones by id — and links to all (?runs=all); a
// comparison row links at most maxRowRuns (20) of its runs, and its hover
// names as many, then says how many more: 10,000 runs made a 5 MB page,
// 3.5 MB of it the runs list. The comparison keeps a row per sweep point
// (the table attnlab compare prints): 1,000 points still make 1.5 MB.
// TestBigExperimentPageBounded holds the bound.
//
// A heatmap draws at most maxHeatmapSide (100) output and source tokens,
// the first ones, and says what it left out: a stored attention map can be
// any size (1000 × 1000 tokens made a 169 MB page). A run page decodes
// the weights of the one map it draws, not of every map the run stored
// (up to 10,000). A run page does not read a samples or attention artifact
// larger than maxPageArtifact (32 MiB) at all: it says how to see it
// (attnlab show, attnlab plot attention, the download), since every view
// would read it whole, as many views at once as come; /api/r/ID/attention
// then redirects to the artifact's download.
//
// An artifact is read whole from the store before it is sent, so at most
// maxDownloads (2) are served at once: a download waits up to
// downloadWait (20 s) for its turn, then gets 503, and may take at most
// downloadTime (5 min) to write. A HEAD request reads no artifact data.
// Every other response must be written within pageWriteTime (2 min) of its
// request: a client that stops reading loses the connection.
package web
