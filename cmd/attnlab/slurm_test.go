package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

// TestSlurmDryRunGolden pins the sbatch script: #SBATCH lines from the
// flags, the worker command line, and no password anywhere.
func TestSlurmDryRunGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"slurm_dry_run.golden", []string{"--workers", "4", "--time", "4:00:00", "--partition", "cpu", "--cpus-per-task", "2",
			"--sbatch-arg=--mem=4G", "--sbatch-arg=--account=lab", "--idle-exit", "2m", "--max-runs", "10", "--max-memory", "3.5GiB",
			"--db", "postgres://lab:Sup3rSecret@db.example:5432/attnlab?sslmode=verify-full"}},
		{"slurm_dry_run_nopassword.golden", []string{"--workers", "1", "--db", "postgres://lab@db.example/attnlab"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			unsetenv(t, "SBATCH_EXPORT") // would override the script's --export
			args := append([]string{"slurm", "testdata/queue.yaml", "--attnlab", "/opt/attnlab/bin/attnlab", "--dry-run"}, tc.args...)
			r := attnlab(t, args...)
			wantOK(t, r)
			if strings.Contains(r.stdout+r.stderr, "Sup3rSecret") {
				t.Fatalf("the password is in the output:\n%s", r.stdout)
			}
			golden(t, tc.golden, r.stdout)
		})
	}
}

func TestSlurmUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "--workers 0: want 1 or more array tasks"},
		{[]string{"--workers", "2", "--time", "four hours"}, `--time "four hours": want minutes, H:MM:SS or D-HH:MM:SS`},
		{[]string{"--workers", "2", "--cpus-per-task", "0"}, "--cpus-per-task 0: want 1 or more"},
		{[]string{"--workers", "2", "--sbatch-arg", "mem=4G"}, `--sbatch-arg "mem=4G": want one sbatch option`},
		{[]string{"--workers", "2", "--partition", "a b"}, `--partition "a b": not a partition name`},
		{[]string{"--workers", "2", "--sbatch-arg=--array=0-5"}, `--sbatch-arg "--array=0-5": the script sets --array itself from --workers`},
		{[]string{"--workers", "2", "--sbatch-arg", "-o /dev/null"}, `--sbatch-arg "-o /dev/null": the script sets --output itself from --output-dir`},
		{[]string{"--workers", "2", "--sbatch-arg", "-pdebug"}, `the script sets --partition itself from --partition`},
		{[]string{"--workers", "2", "--sbatch-arg=--part=debug"}, `the script sets --partition itself from --partition`},
		{[]string{"--workers", "2", "--max-memory", "lots"}, `--max-memory: "lots" is not a size`},
		{[]string{"--workers", "2", "--max-memory", "1"}, "below 1 KiB"},
		{[]string{"--workers", "2", "--output-dir", "/nonexistent-attnlab-dir"}, `--output-dir "/nonexistent-attnlab-dir": no such directory`},
		// A valid --max-memory must not end the checks: a line break in
		// --partition or --output-dir would put a shell line in the script.
		{[]string{"--workers", "2", "--max-memory", "1GiB", "--partition", "cpu\ntouch /tmp/x"}, `--partition "cpu\ntouch /tmp/x": not a partition name`},
		{[]string{"--workers", "2", "--max-memory", "1GiB", "--output-dir", "/tmp\ntouch /tmp/x #"}, `--output-dir "/tmp\ntouch /tmp/x #": sbatch cannot take blanks`},
		{[]string{"--workers", "2", "--partition", "cpu\rx"}, `--partition "cpu\rx": not a partition name`},
		// --wrap would make sbatch run its command instead of the script.
		{[]string{"--workers", "2", "--sbatch-arg", "--wrap=rm -rf /"}, `--sbatch-arg "--wrap=rm -rf /": --wrap is a command-line option of sbatch, ignored in the script`},
		{[]string{"--workers", "2", "--sbatch-arg", "--wr hostname"}, `--sbatch-arg "--wr hostname": --wrap is a command-line option of sbatch, ignored in the script`},
		// sbatch reads every word of an #SBATCH line.
		{[]string{"--workers", "2", "--sbatch-arg", "--exclusive --wrap=hostname"}, `--sbatch-arg "--exclusive --wrap=hostname": --wrap is a command-line option of sbatch, ignored in the script`},
		{[]string{"--workers", "2", "--sbatch-arg", "--mem=4G --array=0-99"}, `--sbatch-arg "--mem=4G --array=0-99": the script sets --array itself from --workers`},
		{[]string{"--workers", "2", "--db", ""}, `--db "": want a SQLite file or a postgres:// URL`},
		// sbatch ends an #SBATCH line at # and reads quotes in it.
		{[]string{"--workers", "2", "--output-dir", "/tmp/logs#1"}, `--output-dir "/tmp/logs#1": sbatch cannot take blanks, %, #, quotes or backslashes`},
		{[]string{"--workers", "2", "--output-dir", "/tmp/it's"}, `--output-dir "/tmp/it's": sbatch cannot take`},
		// A # ends the #SBATCH line there: gpu#x would be partition gpu.
		{[]string{"--workers", "2", "--partition", "gpu#x"}, `--partition "gpu#x": not a partition name`},
		{[]string{"--workers", "2", "--partition", "gpu\vx"}, `--partition "gpu\vx": not a partition name`},
		{[]string{"--workers", "2", "--output-dir", "/tmp/a\fb"}, `--output-dir "/tmp/a\fb": sbatch cannot take`},
		// sbatch's getopt takes any unambiguous abbreviation (--ar, --ou,
		// --j) and short options run together after one without a value.
		{[]string{"--workers", "2", "--sbatch-arg=--ar=0-99"}, `--sbatch-arg "--ar=0-99": the script sets --array itself from --workers`},
		{[]string{"--workers", "2", "--sbatch-arg=--ou=/dev/null"}, `the script sets --output itself from --output-dir`},
		{[]string{"--workers", "2", "--sbatch-arg=--j=x"}, `the script sets --job-name itself`},
		{[]string{"--workers", "2", "--sbatch-arg=-Ha0-99"}, `--sbatch-arg "-Ha0-99": the script sets --array itself from --workers`},
		{[]string{"--workers", "2", "--sbatch-arg", "-vQp debug"}, `the script sets --partition itself from --partition`},
		// A backslash before a tab does not join two words for sbatch.
		{[]string{"--workers", "2", "--sbatch-arg", "--mem=4G\\\t--array=0-99"}, `the script sets --array itself from --workers`},
		// sbatch refuses the whole script on these (fatal in its
		// get_argument), after the runs were queued.
		{[]string{"--workers", "2", "--sbatch-arg", "--comment='it is"}, `--sbatch-arg "--comment='it is": its ' is not closed, and sbatch refuses an #SBATCH line with an unmatched quote`},
		{[]string{"--workers", "2", "--sbatch-arg", `--mem=4G --comment="a # b`}, `--sbatch-arg "--mem=4G --comment=\"a # b": its " is not closed`},
		{[]string{"--workers", "2", "--sbatch-arg", "--mem=4G :"}, `--sbatch-arg "--mem=4G :": a word starts with ':', which sbatch refuses`},
		// sbatch would return only when the whole job has ended.
		{[]string{"--workers", "2", "--sbatch-arg", "--wait"}, `--sbatch-arg "--wait": --wait would make sbatch, and attnlab slurm, wait until every worker has ended`},
		{[]string{"--workers", "2", "--sbatch-arg", "-vW"}, `--sbatch-arg "-vW": --wait would make sbatch`},
		{[]string{"--workers", "2", "--sbatch-arg", "--mem=4G -W"}, `--sbatch-arg "--mem=4G -W": --wait would make sbatch`},
		// What sbatch would refuse only after the runs are queued (checked
		// against Slurm 22.05.8's): an ambiguous abbreviation, an option
		// it lacks, a stray word, a missing or unwanted value.
		{[]string{"--workers", "2", "--sbatch-arg", "--wai"}, `--sbatch-arg "--wai": sbatch (Slurm 22.05 or 26.11) finds --wai ambiguous: it starts --wait, --wait-all-nodes; spell the option out`},
		{[]string{"--workers", "2", "--sbatch-arg", "--mem=4G", "--sbatch-arg", "--q=long"}, `--sbatch-arg "--q=long": sbatch (Slurm 22.05 or 26.11) finds --q ambiguous: it starts --qos, --quiet`},
		{[]string{"--workers", "2", "--sbatch-arg", "--clu=far"}, `--sbatch-arg "--clu=far": sbatch (Slurm 22.05 or 26.11) finds --clu ambiguous: it starts --cluster, --cluster-constraint, --clusters`},
		{[]string{"--workers", "2", "--sbatch-arg", "--exclusive foo"}, `--sbatch-arg "--exclusive foo": sbatch refuses the script at "foo", which is no option (--exclusive takes a value only as --exclusive=VALUE)`},
		{[]string{"--workers", "2", "--sbatch-arg", "--hold", "--sbatch-arg", "--mem=4G foo"}, `--sbatch-arg "--mem=4G foo": sbatch refuses the script at "foo", which is no option`},
		{[]string{"--workers", "2", "--sbatch-arg", "--hold -- --mem=4G"}, `--sbatch-arg "--hold -- --mem=4G": sbatch refuses the script at "--mem=4G", which is no option (it follows --)`},
		{[]string{"--workers", "2", "--sbatch-arg", "-"}, `--sbatch-arg "-": sbatch refuses the script at "-", which is no option`},
		{[]string{"--workers", "2", "--sbatch-arg", "---memory=4G"}, `--sbatch-arg "---memory=4G": sbatch has no option ---memory`},
		// A long option sbatch lacks passes (a site plugin's?), but not
		// what follows it.
		{[]string{"--workers", "2", "--sbatch-arg", "--container-image=x --array=0-3"}, `--sbatch-arg "--container-image=x --array=0-3": the script sets --array itself from --workers`},
		{[]string{"--workers", "2", "--sbatch-arg", "--container-image img -o x"}, `the script sets --output itself from --output-dir`},
		{[]string{"--workers", "2", "--sbatch-arg", "--container-image img --wr=x"}, `--wrap is a command-line option of sbatch`},
		{[]string{"--workers", "2", "--sbatch-arg", "--container-image img stray"}, `sbatch refuses the script at "stray", which is no option`},
		{[]string{"--workers", "2", "--sbatch-arg", "--container-image", "--sbatch-arg", "--ex=ATTNLAB_DB=x"}, `sbatch (Slurm 22.05 or 26.11) finds --ex ambiguous`},
		{[]string{"--workers", "2", "--sbatch-arg", "-Hj x"}, `--sbatch-arg "-Hj x": sbatch has no option -j`},
		{[]string{"--workers", "2", "--sbatch-arg", "--hold=1"}, `--sbatch-arg "--hold=1": --hold takes no value`},
		{[]string{"--workers", "2", "--sbatch-arg", "--mem"}, `--sbatch-arg "--mem": --mem wants a value`},
		{[]string{"--workers", "2", "--sbatch-arg", "-HA"}, `--sbatch-arg "-HA": -A (--account) wants a value`},
		// The value of -A is the next word, whatever it is: "-W" here is
		// no --wait, and "-p" after -A is no --partition.
		{[]string{"--workers", "2", "--sbatch-arg", "-A -W --wai"}, `--sbatch-arg "-A -W --wai": sbatch (Slurm 22.05 or 26.11) finds --wai ambiguous`},
	} {
		r := attnlab(t, append([]string{"slurm", "testdata/queue.yaml", "--dry-run"}, tc.args...)...)
		wantError(t, r, exitUsage, tc.want)
	}
}

// TestSlurmOutputDirAbsolute: a relative --output-dir is written as its
// absolute path, so a blank in the submission directory's name would split
// sbatch's #SBATCH --output line as much as one in the flag.
func TestSlurmOutputDirAbsolute(t *testing.T) {
	exp, err := filepath.Abs("testdata/queue.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "my jobs")
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	r := attnlab(t, "slurm", exp, "--dry-run", "--workers", "2", "--db", filepath.Join(t.TempDir(), "q.db"), "--output-dir", "logs")
	wantError(t, r, exitUsage, `--output-dir "logs": its path "`+filepath.Join(dir, "logs")+`" has a blank`)
}

// TestSlurmExportKeepsDB: with a password in the URL the script reads the
// URL from ATTNLAB_DB, so an sbatch --export that leaves it out of the job
// (by --sbatch-arg, or by $SBATCH_EXPORT, which overrides the script's
// #SBATCH lines) is refused before anything is queued; one that keeps it
// is not.
func TestSlurmExportKeepsDB(t *testing.T) {
	const withPassword = "postgres://lab:Sup3rSecret@db.example/attnlab"
	for _, tc := range []struct {
		db   string
		env  string // SBATCH_EXPORT
		args []string
		want string // "" for success
	}{
		{withPassword, "", []string{"--sbatch-arg=--export=NONE"}, `--sbatch-arg "--export=NONE": the job would not get ATTNLAB_DB`},
		{withPassword, "", []string{"--sbatch-arg", "--export PATH,HOME"}, `--sbatch-arg "--export PATH,HOME": the job would not get ATTNLAB_DB`},
		// sbatch finds any abbreviation of --export ambiguous (it starts
		// --export-file too).
		{withPassword, "", []string{"--sbatch-arg=--exp=NIL"}, `--sbatch-arg "--exp=NIL": sbatch (Slurm 22.05 or 26.11) finds --exp ambiguous: it starts --export, --export-file`},
		{withPassword, "", []string{"--sbatch-arg=--export=ALL", "--sbatch-arg=--export=NONE"}, `--sbatch-arg "--export=NONE"`},
		{withPassword, "NONE", nil, `SBATCH_EXPORT="NONE" in the environment: the job would not get ATTNLAB_DB`},
		{withPassword, "PATH", []string{"--sbatch-arg=--export=ALL"}, `SBATCH_EXPORT="PATH" in the environment`},
		{withPassword, "", []string{"--sbatch-arg=--export=PATH,ATTNLAB_DB"}, ""},
		{withPassword, "", []string{"--sbatch-arg=--export=all,FOO=1"}, ""},
		{withPassword, "", []string{"--sbatch-arg", "--export ATTNLAB_DB,PATH"}, ""},
		{withPassword, "ALL", []string{"--sbatch-arg=--export=NONE"}, ""},
		{withPassword, "", []string{"--sbatch-arg=--exclusive"}, ""},
		{"postgres://lab@db.example/attnlab", "NONE", []string{"--sbatch-arg=--export=NONE"}, ""},
		// sbatch reads every word of the #SBATCH line, quotes and
		// comments as a shell would.
		{withPassword, "", []string{"--sbatch-arg", "--mem=4G --export=NONE"}, `--sbatch-arg "--mem=4G --export=NONE": the job would not get ATTNLAB_DB`},
		{withPassword, "", []string{"--sbatch-arg", "--export=PATH#,ATTNLAB_DB"}, `--sbatch-arg "--export=PATH#,ATTNLAB_DB": the job would not get ATTNLAB_DB`},
		{withPassword, "", []string{"--sbatch-arg", `--export="ALL"`}, ""},
		{withPassword, "", []string{"--sbatch-arg", `--export='PATH,ATTNLAB_DB'`}, ""},
		// sbatch trims no blank around the items of SBATCH_EXPORT.
		{withPassword, "PATH, ATTNLAB_DB", nil, `SBATCH_EXPORT="PATH, ATTNLAB_DB" in the environment`},
		// sbatch splits the list at commas outside quotes only (its
		// find_quote_token): 'HOME,ATTNLAB_DB' is one variable's name.
		{withPassword, "", []string{"--sbatch-arg", `--export="PATH,'HOME,ATTNLAB_DB'"`}, `--sbatch-arg "--export=\"PATH,'HOME,ATTNLAB_DB'\"": the job would not get ATTNLAB_DB`},
		{withPassword, `PATH,"HOME,ATTNLAB_DB"`, nil, `SBATCH_EXPORT="PATH,\"HOME,ATTNLAB_DB\"" in the environment: the job would not get ATTNLAB_DB`},
		{withPassword, `"HOME,X",ATTNLAB_DB`, nil, ""},
		{withPassword, `'X,ATTNLAB_DB,Y'`, nil, `SBATCH_EXPORT="'X,ATTNLAB_DB,Y'" in the environment: the job would not get ATTNLAB_DB`},
		{withPassword, "", []string{"--sbatch-arg", `--export="'PATH,ALL,HOME'"`}, `the job would not get ATTNLAB_DB`},
		{withPassword, `'ALL`, nil, `SBATCH_EXPORT="'ALL" in the environment: a quote in its --export list is not closed`},
		// The workers would read another URL than the one the runs are
		// queued in.
		{withPassword, "", []string{"--sbatch-arg=--export=ALL,ATTNLAB_DB=postgres://other@db.example/x"}, `--sbatch-arg "--export=ALL,ATTNLAB_DB=postgres://other@db.example/x": ATTNLAB_DB=VALUE would write the database URL, password included, into the script`},
		{withPassword, "ALL,ATTNLAB_DB=postgres://other@db.example/x", nil, `SBATCH_EXPORT="ALL,ATTNLAB_DB=postgres://other@db.example/x" in the environment: it sets ATTNLAB_DB, which the workers read the database URL from, to another value than --db`},
		// --db's own URL in an --export line would write its password
		// into the script (and the dry run's output), even in a line a
		// later --export overrides; in $SBATCH_EXPORT it is written
		// nowhere.
		{withPassword, "", []string{"--sbatch-arg=--export=ALL,ATTNLAB_DB=" + withPassword}, `ATTNLAB_DB=VALUE would write the database URL, password included, into the script; name ATTNLAB_DB without a value`},
		{withPassword, "", []string{"--sbatch-arg", "--export 'ATTNLAB_DB=" + withPassword + "'", "--sbatch-arg=--export=ALL"}, `ATTNLAB_DB=VALUE would write the database URL`},
		{withPassword, "", []string{"--sbatch-arg", `--export="'PATH,ATTNLAB_DB=` + withPassword + `"`}, `ATTNLAB_DB=VALUE would write the database URL`},
		{withPassword, "ALL,ATTNLAB_DB=" + withPassword, nil, ""},
		// sbatch empties its environment for --export-file (abbreviated
		// down to --export-) and gives the job the file's variables only.
		{withPassword, "", []string{"--sbatch-arg=--export-file=/tmp/vars"}, `--sbatch-arg "--export-file=/tmp/vars": sbatch gives the job the variables of that file and none of its own environment, so the job would not get ATTNLAB_DB`},
		{withPassword, "ALL", []string{"--sbatch-arg", "--mem=4G --export- 3"}, `--sbatch-arg "--mem=4G --export- 3": sbatch gives the job the variables of that file`},
		{"postgres://lab@db.example/attnlab", "", []string{"--sbatch-arg=--export-file=/tmp/vars"}, ""},
		// Without a password in --db the script names --db itself: an
		// ATTNLAB_DB=VALUE would only write its value (a password with
		// it) into the script.
		{"postgres://lab@db.example/attnlab", "", []string{"--sbatch-arg=--export=ALL,ATTNLAB_DB=" + withPassword}, `ATTNLAB_DB=VALUE would be written into the script, and the workers use --db`},
		{"runs.db", "", []string{"--sbatch-arg", "--mem=4G --export=ATTNLAB_DB=other.db"}, `ATTNLAB_DB=VALUE would be written into the script`},
		{"runs.db", "", []string{"--sbatch-arg=--export=ALL,ATTNLAB_DB"}, ""},
	} {
		if tc.env == "" {
			unsetenv(t, "SBATCH_EXPORT")
		} else {
			t.Setenv("SBATCH_EXPORT", tc.env)
		}
		r := attnlab(t, append([]string{"slurm", "testdata/queue.yaml", "--dry-run", "--workers", "2", "--db", tc.db}, tc.args...)...)
		if tc.want == "" {
			wantOK(t, r)
		} else {
			wantError(t, r, exitUsage, tc.want)
		}
		if strings.Contains(r.stdout+r.stderr, "Sup3rSecret") {
			t.Fatalf("the password is in the output:\n%v", r)
		}
	}
}

// TestSlurmEmptyExportEnv: sbatch takes an SBATCH_EXPORT that is set but
// empty or blank as a list of no variable: the job would get no
// ATTNLAB_DB.
func TestSlurmEmptyExportEnv(t *testing.T) {
	for _, env := range []string{"", " "} {
		t.Setenv("SBATCH_EXPORT", env)
		r := attnlab(t, "slurm", "testdata/queue.yaml", "--dry-run", "--workers", "2", "--db", "postgres://lab:Sup3rSecret@db.example/attnlab")
		wantError(t, r, exitUsage, fmt.Sprintf("SBATCH_EXPORT=%q in the environment: the job would not get ATTNLAB_DB", env))
	}
}

// unsetenv unsets the environment variable key for the rest of the test
// (t.Setenv restores it after).
func unsetenv(t *testing.T, key string) {
	t.Setenv(key, "")
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}

// TestSlurm runs `attnlab slurm --workers 2` on a one-node Slurm cluster
// against PostgreSQL: the array's two workers finish the experiment's four
// runs and exit.
func TestSlurm(t *testing.T) {
	testenv.Slurm(t)
	url := testenv.PostgresURL(t)
	dir := t.TempDir()
	r := attnlab(t, "slurm", "testdata/queue.yaml", "--db", url, "--workers", "2",
		"--set", "seeds=[1, 2]", "--set", "sweep.grid.model.attention.name=[none, dot]", "--set", "train.steps=200",
		"--time", "10:00", "--output-dir", dir,
		// The test binary is attnlab when ATTNLAB_CLI_MAIN=1 (see TestMain).
		"--attnlab", os.Args[0], "--sbatch-arg=--export=ALL,"+cliMainEnv+"=1", "--sbatch-arg=--chdir="+dir)
	wantOK(t, r)
	if !strings.Contains(r.stdout, "queued 4 runs of queue") || !strings.Contains(r.stdout, "submitted Slurm job ") {
		t.Fatalf("attnlab slurm said:\n%s", r.stdout)
	}
	job := strings.Fields(r.stdout[strings.Index(r.stdout, "submitted Slurm job ")+len("submitted Slurm job "):])[0]
	t.Cleanup(func() { exec.Command("scancel", job).Run() })

	st, err := store.OpenExisting(url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		rs, err := st.Runs(ctx, store.RunFilter{Experiments: []string{"queue"}})
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, r := range rs {
			if r.Status == store.StatusDone {
				done++
			}
		}
		if done == 4 {
			break
		}
		if time.Now().After(deadline) {
			out, _ := exec.Command("squeue", "-j", job).CombinedOutput()
			t.Fatalf("after 5 minutes %d of 4 runs are done; squeue:\n%s\nlogs:\n%s", done, out, slurmLogs(dir))
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Both workers stop once the queue is empty.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		out, err := exec.Command("squeue", "-h", "-j", job).Output()
		if err == nil && strings.TrimSpace(string(out)) == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job's tasks did not end:\n%s", out)
		}
	}
	logs := slurmLogs(dir)
	if n := strings.Count(logs, "worker done: "); n != 2 {
		t.Fatalf("%d workers reported their end, want 2:\n%s", n, logs)
	}
	t.Logf("task logs:\n%s", logs)
}

// slurmLogs returns the text of the task log files in dir.
func slurmLogs(dir string) string {
	files, _ := filepath.Glob(filepath.Join(dir, "attnlab-*.out"))
	var b strings.Builder
	for _, f := range files {
		data, _ := os.ReadFile(f)
		b.WriteString("== " + filepath.Base(f) + "\n" + string(data))
	}
	return b.String()
}

// TestKubernetesExample checks deploy/kubernetes/workers.yaml as far as it
// can be without a cluster: it is one Indexed Job whose container runs an
// attnlab worker with flags attnlab accepts, reading its database from the
// secret through ATTNLAB_DB, with time to hand its run back on SIGTERM.
func TestKubernetesExample(t *testing.T) {
	data, err := os.ReadFile("../../deploy/kubernetes/workers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Kind string
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Template       struct {
				Spec struct {
					Grace      int `yaml:"terminationGracePeriodSeconds"`
					Containers []struct {
						Command []string
						Env     []struct {
							Name      string
							ValueFrom map[string]any `yaml:"valueFrom"`
						}
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal(data, &job); err != nil {
		t.Fatal(err)
	}
	if job.Kind != "Job" || job.Spec.CompletionMode != "Indexed" || len(job.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("workers.yaml: kind %q, completionMode %q, %d containers; want one Indexed Job container",
			job.Kind, job.Spec.CompletionMode, len(job.Spec.Template.Spec.Containers))
	}
	if job.Spec.Template.Spec.Grace < 15 {
		t.Errorf("terminationGracePeriodSeconds %d: a worker needs seconds to hand its run back", job.Spec.Template.Spec.Grace)
	}
	c := job.Spec.Template.Spec.Containers[0]
	if len(c.Command) < 2 || filepath.Base(c.Command[0]) != "attnlab" || c.Command[1] != "worker" {
		t.Fatalf("the container runs %q, not attnlab worker", c.Command)
	}
	if len(c.Env) != 1 || c.Env[0].Name != "ATTNLAB_DB" || c.Env[0].ValueFrom["secretKeyRef"] == nil {
		t.Fatalf("the container's env %+v: want ATTNLAB_DB from a secret", c.Env)
	}
	// attnlab takes the worker's flags (--help stops after parsing them).
	wantOK(t, attnlab(t, append(c.Command[1:], "--help")...))
}

// TestSlurmSbatchFails: when sbatch refuses the job, the error names the
// worker command that takes the queued runs wherever it runs: the
// database by its absolute path, even when it is this shell's
// $ATTNLAB_DB, given relative.
func TestSlurmSbatchFails(t *testing.T) {
	exp, err := filepath.Abs("testdata/queue.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fake := filepath.Join(dir, "sbatch")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'sbatch: error: Batch job submission failed: Invalid account' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv("ATTNLAB_DB", "q.db")
	r := attnlab(t, "slurm", exp, "--workers", "1", "--sbatch", fake)
	wantError(t, r, exitFailure, "sbatch failed: sbatch: error: Batch job submission failed: Invalid account (the runs stay queued: attnlab worker --db "+filepath.Join(dir, "q.db")+" --experiment queue takes them)")
}

// TestSlurmWithoutSbatch: on a machine without Slurm's sbatch, attnlab
// slurm fails in one line before it touches the database: no runs are
// queued (here: no database file is even created) for a job that cannot
// be submitted.
func TestSlurmWithoutSbatch(t *testing.T) {
	db := filepath.Join(t.TempDir(), "q.db")
	r := attnlab(t, "slurm", "testdata/queue.yaml", "--workers", "1", "--db", db, "--sbatch", "attnlab-no-such-sbatch")
	wantError(t, r, exitFailure, "attnlab-no-such-sbatch not found on PATH", "nothing was queued in "+db)
	if strings.Contains(r.stdout, "queued") {
		t.Errorf("stdout says runs were queued:\n%s", r.stdout)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the database was touched without sbatch: %v", err)
	}
}

// TestSlurmEnvOverrides: sbatch takes SBATCH_ variables of its environment
// over the script's #SBATCH lines, so those that would override a line the
// script writes from slurm's flags (the array of workers, the partition
// --partition names) are not passed to it, with a note; others (a site's
// default time limit when --time is not given, a QOS) are.
func TestSlurmEnvOverrides(t *testing.T) {
	dir := t.TempDir()
	db, envFile := filepath.Join(dir, "q.db"), filepath.Join(dir, "env")
	sbatch := filepath.Join(dir, "sbatch")
	if err := os.WriteFile(sbatch, []byte("#!/bin/sh\ncat >/dev/null\nenv >"+envFile+"\necho 4242\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SBATCH_ARRAY_INX", "0-99")
	t.Setenv("SBATCH_PARTITION", "gpu")
	t.Setenv("SBATCH_TIMELIMIT", "5")
	t.Setenv("SBATCH_QOS", "long")
	// Not overrides of a line, but as unwanted: the workers' errors away
	// from their logs, and an sbatch that waits for the whole job.
	t.Setenv("SBATCH_ERROR", "/dev/null")
	t.Setenv("SBATCH_WAIT", "1")
	r := attnlab(t, "slurm", "testdata/tiny.yaml", "--db", db, "--workers", "2", "--partition", "cpu", "--sbatch", sbatch)
	wantOK(t, r)
	for _, want := range []string{
		"note: $SBATCH_ARRAY_INX is not passed to sbatch, where it would override the script's --array line (--workers)",
		"note: $SBATCH_PARTITION is not passed to sbatch, where it would override the script's --partition line (--partition)",
		"note: $SBATCH_ERROR is not passed to sbatch, where it would send the workers' errors to other files than their --output logs",
		"note: $SBATCH_WAIT is not passed to sbatch, where it would make sbatch, and attnlab slurm, wait until every worker has ended",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "SBATCH_TIMELIMIT") || strings.Contains(r.stderr, "SBATCH_QOS") {
		t.Errorf("a note names a variable that overrides nothing the script sets:\n%s", r.stderr)
	}
	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	env := "\n" + string(b)
	for _, gone := range []string{"\nSBATCH_ARRAY_INX=", "\nSBATCH_PARTITION=", "\nSBATCH_ERROR=", "\nSBATCH_WAIT="} {
		if strings.Contains(env, gone) {
			t.Errorf("sbatch got %s", strings.TrimSpace(gone))
		}
	}
	for _, kept := range []string{"\nSBATCH_TIMELIMIT=5\n", "\nSBATCH_QOS=long\n", "\nATTNLAB_DB=" + db + "\n"} {
		if !strings.Contains(env, kept) {
			t.Errorf("sbatch did not get %s", strings.TrimSpace(kept))
		}
	}
}

// TestSbatchWords: sbatchWords cuts an #SBATCH line as sbatch's
// get_argument does (these were checked against it).
func TestSbatchWords(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"--mem=4G --array=0-9", []string{"--mem=4G", "--array=0-9"}},
		{`--comment="a b" -J x`, []string{"--comment=a b", "-J", "x"}},
		{`--comment=a\ b`, []string{"--comment=a b"}},
		{"--mem=4G\\\t--array=0-99", []string{"--mem=4G", "--array=0-99"}},
		{"--mem=4G\\\v--array=0-99", []string{"--mem=4G", "--array=0-99"}},
		{"'--mem=4G\\\t--array=0-99'", []string{"--mem=4G\t--array=0-99"}},
		{`a\\ b`, []string{`a\`, "b"}},
		{"--mem=4G#--array=1", []string{"--mem=4G"}},
		{"--mem=4G \\# --array=1", []string{"--mem=4G", "#", "--array=1"}},
		{`--mem=4G '' --array=1`, []string{"--mem=4G"}},
		{"--mem=4G \\\t--array=1", []string{"--mem=4G"}},
		{"  ", nil},
	} {
		if got := sbatchWords(tc.line); !slices.Equal(got, tc.want) {
			t.Errorf("sbatchWords(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

// TestSlurmDryRunNothingToTrain: --dry-run says, as a submission would,
// that there is nothing to train when every run is stored done, or failed
// without --retry-failed, and prints no script; it changes nothing.
func TestSlurmDryRunNothingToTrain(t *testing.T) {
	dir := t.TempDir()
	done, failed := filepath.Join(dir, "done.db"), filepath.Join(dir, "failed.db")
	dry := func(db string, extra ...string) result {
		return attnlab(t, append([]string{"slurm", "testdata/tiny.yaml", "--db", db, "--workers", "1", "--dry-run"}, extra...)...)
	}
	// No database yet: every run is left, and none is created.
	r := dry(done)
	wantOK(t, r)
	if !strings.HasPrefix(r.stdout, "#!/bin/bash\n") {
		t.Fatalf("dry run without a database:\n%s", r.stdout)
	}
	if _, err := os.Stat(done); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the dry run touched the database: %v", err)
	}
	wantOK(t, attnlab(t, "run", "testdata/tiny.yaml", "--db", done))
	r = dry(done)
	wantOK(t, r)
	if want := "nothing to train: every run of tiny is stored in " + done + " already; no Slurm job would be submitted\n"; r.stdout != want {
		t.Errorf("dry run with every run done:\n%s\nwant:\n%s", r.stdout, want)
	}
	wantOK(t, attnlab(t, "submit", "testdata/tiny.yaml", "--db", failed))
	r = dry(failed)
	wantOK(t, r)
	if !strings.HasPrefix(r.stdout, "#!/bin/bash\n") {
		t.Fatalf("dry run with every run queued:\n%s", r.stdout)
	}
	failAll(t, failed)
	r = dry(failed)
	wantOK(t, r)
	if !strings.HasPrefix(r.stdout, "4 failed runs stay failed: attnlab show RUN says why; --retry-failed queues them again\nnothing to train: ") || strings.Contains(r.stdout, "#SBATCH") {
		t.Errorf("dry run with every run failed:\n%s", r.stdout)
	}
	r = dry(failed, "--retry-failed")
	wantOK(t, r)
	if !strings.HasPrefix(r.stdout, "#!/bin/bash\n") {
		t.Errorf("dry run --retry-failed with every run failed:\n%s", r.stdout)
	}
	// Read only: the failed runs are not requeued by it.
	r = attnlab(t, "submit", "testdata/tiny.yaml", "--db", failed)
	wantOK(t, r)
	if !strings.Contains(r.stdout, "4 failed runs stay failed") {
		t.Errorf("after the dry run, submit says:\n%s", r.stdout)
	}
}

// TestSlurmEnvOverridesSbatchArg: an SBATCH_ variable would override an
// --sbatch-arg's line as much as one the script writes from its own flags
// (SBATCH_ACCOUNT over --account=lab): it is not passed to sbatch, with a
// note; one whose option no --sbatch-arg gives still is.
func TestSlurmEnvOverridesSbatchArg(t *testing.T) {
	dir := t.TempDir()
	db, envFile := filepath.Join(dir, "q.db"), filepath.Join(dir, "env")
	sbatch := filepath.Join(dir, "sbatch")
	if err := os.WriteFile(sbatch, []byte("#!/bin/sh\ncat >/dev/null\nenv >"+envFile+"\necho 4242\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SBATCH_ACCOUNT", "other")
	t.Setenv("SBATCH_QOS", "long")
	t.Setenv("SBATCH_MEM_PER_NODE", "1G")
	r := attnlab(t, "slurm", "testdata/tiny.yaml", "--db", db, "--workers", "1", "--sbatch", sbatch,
		"--sbatch-arg=--account=lab", "--sbatch-arg", "-Oqshort")
	wantOK(t, r)
	for _, want := range []string{
		"note: $SBATCH_ACCOUNT is not passed to sbatch, where it would override the script's --account line (--sbatch-arg)",
		"note: $SBATCH_QOS is not passed to sbatch, where it would override the script's --qos line (--sbatch-arg)",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "SBATCH_MEM_PER_NODE") {
		t.Errorf("a note names a variable whose option no --sbatch-arg gives:\n%s", r.stderr)
	}
	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	env := "\n" + string(b)
	for _, gone := range []string{"\nSBATCH_ACCOUNT=", "\nSBATCH_QOS="} {
		if strings.Contains(env, gone) {
			t.Errorf("sbatch got %s", strings.TrimSpace(gone))
		}
	}
	if !strings.Contains(env, "\nSBATCH_MEM_PER_NODE=1G\n") {
		t.Errorf("sbatch did not get SBATCH_MEM_PER_NODE")
	}
}

// TestSbatchEnvLong: an --sbatch-arg gives an option of sbatchEnvOptions
// however getopt_long lets sbatch read its name: whole, or abbreviated to
// a start of that name alone.
func TestSbatchEnvLong(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"--account", "--account"},
		{"--acco", "--account"},
		{"--acc", ""}, // --acctg-freq too
		{"--acct", "--acctg-freq"},
		{"--mem", "--mem"}, // whole, though --mem-bind starts with it
		{"--mem-per-c", "--mem-per-cpu"},
		{"--mem-per", ""},
		{"--cluster", "--cluster"},
		{"--clust", ""},
		{"--q", ""}, // --quiet too: sbatch finds it ambiguous
		{"--qo", "--qos"},
		{"--runt", "--runtime"},
		{"--", ""},
		{"-A", ""},
		{"--nodes", ""},
	} {
		if got := sbatchEnvLong(tc.name); got != tc.want {
			t.Errorf("sbatchEnvLong(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestSlurmEnvOverridesAbbreviated: an --sbatch-arg that abbreviates its
// option's name (--acco=lab) is overridden by the SBATCH_ variable as much
// as one that spells it whole: the variable is not passed to sbatch.
func TestSlurmEnvOverridesAbbreviated(t *testing.T) {
	dir := t.TempDir()
	db, envFile := filepath.Join(dir, "q.db"), filepath.Join(dir, "env")
	sbatch := filepath.Join(dir, "sbatch")
	if err := os.WriteFile(sbatch, []byte("#!/bin/sh\ncat >/dev/null\nenv >"+envFile+"\necho 4242\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SBATCH_ACCOUNT", "other")
	t.Setenv("SBATCH_CLUSTERS", "far")
	t.Setenv("SBATCH_MEM_BIND", "local")
	r := attnlab(t, "slurm", "testdata/tiny.yaml", "--db", db, "--workers", "1", "--sbatch", sbatch,
		"--sbatch-arg=--acco=lab", "--sbatch-arg", "--cluster near --mem 1G")
	wantOK(t, r)
	for _, want := range []string{
		"note: $SBATCH_ACCOUNT is not passed to sbatch, where it would override the script's --account line (--sbatch-arg)",
		"note: $SBATCH_CLUSTERS is not passed to sbatch, where it would override the script's --cluster line (--sbatch-arg)",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	env := "\n" + string(b)
	for _, gone := range []string{"\nSBATCH_ACCOUNT=", "\nSBATCH_CLUSTERS="} {
		if strings.Contains(env, gone) {
			t.Errorf("sbatch got %s", strings.TrimSpace(gone))
		}
	}
	if !strings.Contains(env, "\nSBATCH_MEM_BIND=local\n") {
		t.Errorf("sbatch did not get SBATCH_MEM_BIND, whose option --mem is not")
	}
}

// TestSlurmValueStartsWithDash: sbatch takes the word after an option
// that wants a value as that value, even one that starts with "-" (-A -W
// is account "-W", not --wait): attnlab slurm reads it so too and accepts
// it, and the line reaches the script as given.
func TestSlurmValueStartsWithDash(t *testing.T) {
	for _, arg := range []string{"-A -W", "--account -p", "-A", "--mem=4G -x"} {
		args := []string{"slurm", "testdata/queue.yaml", "--dry-run", "--workers", "2", "--sbatch-arg", arg}
		if arg == "-A" {
			args = append(args, "--sbatch-arg", "-W") // the next line's word
		}
		if arg == "--mem=4G -x" {
			args = append(args, "--sbatch-arg", "-a")
		}
		r := attnlab(t, args...)
		wantOK(t, r)
		if !strings.Contains(r.stdout, "\n#SBATCH "+arg+"\n") {
			t.Errorf("--sbatch-arg %q: the script lacks its line:\n%s", arg, r.stdout)
		}
	}
}

// TestSlurmPluginOption: a long option sbatch's own table lacks, such as
// a SPANK plugin's (pyxis's --container-image), reaches the script as
// written, with a note on stderr that says so and names the value it was
// given.
func TestSlurmPluginOption(t *testing.T) {
	r := attnlab(t, "slurm", "testdata/queue.yaml", "--dry-run", "--workers", "2",
		"--sbatch-arg", "--container-image nvcr.io/nvidia/pytorch:24.01 --container-mounts=/data:/data", "--sbatch-arg", "--mem=4G")
	wantOK(t, r)
	if !strings.Contains(r.stdout, "\n#SBATCH --container-image nvcr.io/nvidia/pytorch:24.01 --container-mounts=/data:/data\n#SBATCH --mem=4G\n") {
		t.Errorf("the script lacks the plugin's options:\n%s", r.stdout)
	}
	for _, want := range []string{
		`attnlab slurm: note: --sbatch-arg "--container-image nvcr.io/nvidia/pytorch:24.01 --container-mounts=/data:/data": --container-image is not one of sbatch's own options (Slurm 22.05/26.11): passed to sbatch as is, with the next word "nvcr.io/nvidia/pytorch:24.01" as its value (a site plugin's option? sbatch refuses the script if not)` + "\n",
		`attnlab slurm: note: --sbatch-arg "--container-image nvcr.io/nvidia/pytorch:24.01 --container-mounts=/data:/data": --container-mounts is not one of sbatch's own options (Slurm 22.05/26.11): passed to sbatch as is (a site plugin's option? sbatch refuses the script if not)` + "\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "--mem ") {
		t.Errorf("stderr notes --mem, one of sbatch's own options:\n%s", r.stderr)
	}
}

// TestParseSbatchArgs: parseSbatchArgs reads --sbatch-arg lines as
// sbatch's getopt_long reads #SBATCH lines (each case was checked against
// Slurm 22.05.8's sbatch).
func TestParseSbatchArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // the settings as name=value, or the error's tail
	}{
		{[]string{"-A -W"}, "account=-W"},
		{[]string{"-A", "-W"}, "account=-W"},
		{[]string{"-Alab -vW"}, "account=lab verbose wait"},
		{[]string{"-Hp debug"}, "hold partition=debug"},
		{[]string{"-kfoo"}, "no-kill=foo"},
		{[]string{"-k --mem 4G"}, "no-kill mem=4G"},
		{[]string{"--acco=lab --mem-b local"}, "account=lab mem-bind=local"},
		{[]string{"--tasks=3"}, "ntasks-per-node=3"},
		{[]string{"--exclusive=user --nice"}, "exclusive=user nice"},
		{[]string{"--requeue=1"}, "requeue=1"},
		{[]string{"--mem=4G --"}, "mem=4G"},
		{[]string{"--lic=x"}, "licenses=x"},
		{[]string{"--clu=x"}, "sbatch (Slurm 22.05 or 26.11) finds --clu ambiguous: it starts --cluster, --cluster-constraint, --clusters; spell the option out"},
		{[]string{"--ntasks-per=3"}, "sbatch (Slurm 22.05 or 26.11) finds --ntasks-per ambiguous: it starts --ntasks-per-core, --ntasks-per-gpu, --ntasks-per-node, --ntasks-per-socket, --ntasks-per-tres; spell the option out"},
		{[]string{"--=x"}, "sbatch (Slurm 22.05 or 26.11) finds -- ambiguous"},
		{[]string{"---x"}, "sbatch has no option ---x"},
		{[]string{"--nice -5"}, "sbatch has no option -5"},
		{[]string{"--no-kill foo"}, `sbatch refuses the script at "foo", which is no option (--no-kill takes a value only as --no-kill=VALUE)`},
		{[]string{"--hold foo"}, `sbatch refuses the script at "foo", which is no option (--hold takes no value)`},
		{[]string{"-- foo"}, `sbatch refuses the script at "foo", which is no option (it follows --)`},
		// A long option sbatch's own table lacks (a SPANK plugin's): its
		// value after = or in the next word, unless that is an option.
		{[]string{"--container-image=nvcr.io/x:1 --mem=4G"}, "container-image=nvcr.io/x:1 mem=4G"},
		{[]string{"--container-image img -p debug"}, "container-image=img partition=debug"},
		{[]string{"--container-image", "img"}, "container-image=img"},
		{[]string{"--container-mount-home --hold"}, "container-mount-home hold"},
		{[]string{"--no-container-entrypoint -- x"}, `sbatch refuses the script at "x", which is no option (it follows --)`},
		{[]string{"--contain=x"}, "sbatch (Slurm 22.05 or 26.11) finds --contain ambiguous"},
		{[]string{"--x.y=1"}, "sbatch has no option --x.y"},
		{[]string{"--_x"}, "sbatch has no option --_x"},
	} {
		settings, err := parseSbatchArgs(tc.args)
		var got []string
		for _, s := range settings {
			if s.hasValue {
				got = append(got, s.name+"="+s.value)
			} else {
				got = append(got, s.name)
			}
		}
		if err != nil {
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseSbatchArgs(%q) = %v, want an error with %q", tc.args, err, tc.want)
			}
			continue
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("parseSbatchArgs(%q) = %q, want %q", tc.args, g, tc.want)
		}
	}
}

// TestSlurmDryRunSaysWhatSubmitWould: --dry-run counts and warns as the
// submission would: runs training on live workers are not left to train
// for a new job (nothing to start, unless the job starts later), a run
// handed back as too big is told of (on stderr, the script on stdout),
// and an experiment new to an existing database is simply all to train.
func TestSlurmDryRunSaysWhatSubmitWould(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "q.db")
	dry := func(extra ...string) result {
		return attnlab(t, append([]string{"slurm", "testdata/tiny.yaml", "--db", db, "--workers", "1", "--dry-run"}, extra...)...)
	}
	wantOK(t, attnlab(t, "submit", "testdata/tiny.yaml", "--db", db))
	// An experiment the database does not have yet.
	r := attnlab(t, "slurm", "testdata/queue.yaml", "--db", db, "--workers", "1", "--dry-run")
	wantOK(t, r)
	if r.stderr != "" || !strings.HasPrefix(r.stdout, "#!/bin/bash\n") {
		t.Errorf("dry run of a new experiment:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	st := openDB(t, db)
	ctx := context.Background()
	live := store.Owner{Host: "elsewhere", PID: os.Getpid()}
	var claimed []int64
	for range 4 {
		res, err := st.ClaimNext(ctx, live, store.QueueFilter{}, time.Hour)
		if err != nil || !res.Claimed {
			t.Fatalf("claim: %+v, %v", res, err)
		}
		claimed = append(claimed, res.Run.ID)
	}
	r = dry()
	wantOK(t, r)
	if want := "nothing to start: its 4 running runs are training on live workers; no Slurm job would be submitted (one with --sbatch-arg=--dependency=afterany:JOB resumes them after that job)\n"; r.stdout != want {
		t.Errorf("dry run with every run training:\n%s\nwant:\n%s", r.stdout, want)
	}
	r = dry("--sbatch-arg=--dependency=afterany:4242")
	wantOK(t, r)
	if !strings.HasPrefix(r.stdout, "#!/bin/bash\n") {
		t.Errorf("dry run --dependency with every run training:\n%s", r.stdout)
	}
	if _, err := st.FinishRun(ctx, claimed[0], live, store.Ending{Status: store.StatusInterrupted, Untrained: true, Error: runs.TooBigPrefix + "x"}); err != nil {
		t.Fatal(err)
	}
	r = dry()
	wantOK(t, r)
	const tooBig = "1 run handed back by workers without the memory for it: only a worker with a larger --max-memory takes it"
	if !strings.HasPrefix(r.stdout, "#!/bin/bash\n") || !strings.Contains(r.stderr, tooBig) || strings.Contains(r.stdout, tooBig) {
		t.Errorf("dry run with a run too big:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	// The submission says the same.
	sbatch := filepath.Join(dir, "sbatch")
	if err := os.WriteFile(sbatch, []byte("#!/bin/sh\ncat >/dev/null\necho 4242\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = attnlab(t, "slurm", "testdata/tiny.yaml", "--db", db, "--workers", "1", "--sbatch", sbatch)
	wantOK(t, r)
	if !strings.Contains(r.stdout, tooBig) || !strings.Contains(r.stdout, "submitted Slurm job 4242") {
		t.Errorf("submission with a run too big:\n%s", r.stdout)
	}
}

// TestSlurmDryRunSilentServer: a dry run against a PostgreSQL server that
// never answers gives up after dryRunConnectWait (not the 30 s commands
// that need the database wait), with a note, and prints the script.
func TestSlurmDryRunSilentServer(t *testing.T) {
	addr := testenv.SilentServer(t)
	old := dryRunConnectWait
	dryRunConnectWait = 100 * time.Millisecond
	t.Cleanup(func() { dryRunConnectWait = old })
	db := "postgres://lab:Sup3rSecret@" + addr + "/attnlab?sslmode=disable"
	done := make(chan result, 1)
	go func() {
		done <- attnlab(t, "slurm", "testdata/tiny.yaml", "--db", db, "--workers", "1", "--dry-run")
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(20 * time.Second): // a hang guard, far above the wait
		t.Fatal("the dry run still waits for a server that never answers, 20 s on")
	}
	wantOK(t, r)
	if !strings.HasPrefix(r.stdout, "#!/bin/bash\n") || !strings.Contains(r.stderr, "cannot see what is left to train (store postgres://lab:xxxxx@"+addr+"/attnlab?sslmode=disable: cannot connect: no answer within 100ms): the script is printed all the same") {
		t.Errorf("dry run against a silent server:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "Sup3rSecret") {
		t.Errorf("the password is in the output")
	}
}

// TestSlurmQuotedURLFaithful: an error that quotes an --sbatch-arg with
// %q shows its URL as given, escapes and all, but the password: the
// output scrubber does not re-render it (\\ as %5C%5C).
func TestSlurmQuotedURLFaithful(t *testing.T) {
	unsetenv(t, "SBATCH_EXPORT")
	arg := `--export=ALL,ATTNLAB_DB=postgres://lab:Sup3rSecret@db/x\y?b=1&a=2`
	r := attnlab(t, "slurm", "testdata/tiny.yaml", "--workers", "1", "--dry-run", "--db", "postgres://lab:Sup3rSecret@db.example/attnlab", "--sbatch-arg", arg)
	wantError(t, r, exitUsage, `--sbatch-arg "--export=ALL,ATTNLAB_DB=postgres://lab:xxxxx@db/x\\y?b=1&a=2": ATTNLAB_DB=VALUE would write`)
}
