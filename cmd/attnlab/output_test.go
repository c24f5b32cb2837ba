package main

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/attnlab/attnlab/store"
)

func fileHash(t testing.TB, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// TestOutputNeverClobbers runs every command that writes a file against
// destinations it must refuse: the run database under several names, an
// existing file without --force, a FIFO, a device, a dangling symlink.
func TestOutputNeverClobbers(t *testing.T) {
	db := sharedDB(t)
	dir := t.TempDir()
	dbLink := filepath.Join(dir, "db-link")
	if err := os.Symlink(db, dbLink); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(dir, "old.png")
	if err := os.WriteFile(existing, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	haveFifo := testenv.Mkfifo(t, fifo)
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink("missing/x.png", dangling); err != nil {
		t.Fatal(err)
	}
	run := runOf(t, db, "tiny", `"additive"`)
	before := fileHash(t, db)
	commands := [][]string{
		{"export", "tiny"},
		{"plot", "curves", "tiny"},
		{"plot", "attention", id(run)},
		{"plot", "length", "tiny"},
	}
	for _, c := range commands {
		for _, tc := range []struct {
			out  string
			want string
		}{
			{db, "is the run database"},
			{dbLink, "is the run database"},
			{filepath.Join(filepath.Dir(db), ".", "lab.db"), "is the run database"},
			{existing, "file exists (--force replaces it)"},
			{fifo, "is a FIFO"},
			{"/dev/full", "is a character device"},
			{dangling, "does not resolve"},
			{dir, "is a directory"},
		} {
			if tc.out == fifo && !haveFifo {
				continue // no FIFOs on this platform (logged below)
			}
			args := append(append([]string(nil), c...), "-o", tc.out, "--force", "--db", db)
			if tc.out == existing {
				args = args[:len(args)-3]
				args = append(args, "--db", db)
			}
			r := attnlab(t, args...)
			wantError(t, r, exitUsage, tc.want)
		}
	}
	if fileHash(t, db) != before {
		t.Errorf("the run database changed")
	}
	if got, _ := os.ReadFile(existing); string(got) != "old" {
		t.Errorf("the existing file changed: %q", got)
	}
	if !haveFifo {
		t.Log("no FIFOs on this platform: the FIFO destination was not tried")
	} else if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced")
	}
	if fi, err := os.Lstat("/dev/full"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("/dev/full is no longer a device")
	}
}

// TestOutputForce: --force replaces an existing file (keeping a symlink a
// symlink) and "-o -" writes to stdout.
func TestOutputForce(t *testing.T) {
	db := sharedDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "tiny.csv")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink("tiny.csv", link); err != nil {
		t.Fatal(err)
	}
	wantOK(t, attnlab(t, "export", "tiny", "-o", link, "--force", "--db", db))
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("--force replaced the symlink instead of its target")
	}
	stdout := attnlab(t, "export", "tiny", "-o", "-", "--db", db)
	wantOK(t, stdout)
	if got, _ := os.ReadFile(path); string(got) != stdout.stdout {
		t.Errorf("export -o link --force wrote %q, want what -o - printed", got)
	}
	png := attnlab(t, "plot", "curves", "tiny", "-o", "-", "--db", db)
	wantOK(t, png)
	if !bytes.HasPrefix([]byte(png.stdout), []byte("\x89PNG")) {
		t.Errorf("plot -o - did not write a PNG to stdout: %q", png.stdout[:min(20, len(png.stdout))])
	}
}

// TestOutputNeverReplacesADatabase: --force replaces an existing file, but
// never another attnlab run database than --db (nor the WAL beside it), and
// never a command's own input: eval's FILE.tsv, --src and --ref, bench's
// --compare file.
func TestOutputNeverReplacesADatabase(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	dir := t.TempDir()
	other := filepath.Join(dir, "other.db")
	st, err := store.Open(other)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	wal := writeIn(t, dir, "other.db-wal", "\x37\x7f\x06\x83 frames")
	tsv := writeIn(t, dir, "x.tsv", "abc\tcba\n")
	src := writeIn(t, dir, "x.src", "abc\n")
	ref := writeIn(t, dir, "x.ref", "cba\n")
	torch, err := os.ReadFile("testdata/torch.json")
	if err != nil {
		t.Fatal(err)
	}
	compare := writeIn(t, dir, "torch.json", string(torch))
	protected := []string{other, wal, tsv, src, ref, compare}
	hashes := map[string][32]byte{}
	for _, p := range protected {
		hashes[p] = fileHash(t, p)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "tiny", "-o", other}, "is an attnlab run database (SQLite): never overwritten"},
		{[]string{"plot", "curves", "tiny", "-o", other}, "is an attnlab run database"},
		{[]string{"eval", id(run), tsv, "--out", other}, "is an attnlab run database"},
		{[]string{"export", "tiny", "-o", wal}, "is a SQLite write-ahead log"},
		{[]string{"bench", "W2", "--steps", "1", "--json", other}, "is an attnlab run database"},
		{[]string{"bench", "W2", "--steps", "1", "--compare", compare, "--json", compare}, "is a --compare file"},
		{[]string{"eval", id(run), tsv, "--out", tsv}, "is the input file"},
		{[]string{"eval", id(run), "--src", src, "--ref", ref, "--out", src}, "is the --src file"},
		{[]string{"eval", id(run), "--src", src, "--ref", ref, "--out", ref}, "is the --ref file"},
	} {
		args := append(tc.args, "--force")
		if tc.args[0] != "bench" {
			args = append(args, "--db", db)
		}
		r := attnlab(t, args...)
		wantError(t, r, exitUsage, tc.want)
	}
	for _, p := range protected {
		if fileHash(t, p) != hashes[p] {
			t.Errorf("%s changed", p)
		}
	}
	st, err = store.OpenExisting(other)
	if err != nil {
		t.Fatalf("the other run database: %v", err)
	}
	st.Close()
}
