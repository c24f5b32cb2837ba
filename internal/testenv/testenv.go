// Package testenv gives tests the outside services they need — a
// PostgreSQL server, a Slurm cluster, a Chromium binary, pdflatex — as .ci/run
// provides them, through environment variables (and PATH):
//
//	ATTNLAB_TEST_POSTGRES  URL of a database the tests may create databases beside
//	ATTNLAB_TEST_SLURM     1 when sbatch/squeue reach a working cluster
//	ATTNLAB_TEST_CHROMIUM  path of a Chromium binary
//	(pdflatex on PATH)     TeX with booktabs, for compare --format latex
//	ATTNLAB_CI             1 in CI: a missing service fails the test instead of skipping it
//
// Outside CI a test whose service is missing is skipped with a message that
// says how to provide it (bash .ci/run starts them all); in CI it fails, so
// a green CI run never hides a skipped check. SilentServer is a fake one:
// a port that accepts connections and never answers.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// InCI reports whether ATTNLAB_CI=1, under which missing services are failures.
func InCI() bool { return os.Getenv("ATTNLAB_CI") == "1" }

func missing(tb testing.TB, what string) {
	tb.Helper()
	msg := what + " (bash .ci/run installs and starts it)"
	if InCI() {
		tb.Fatal("testenv: CI needs " + msg)
	}
	tb.Skip("testenv: skipped, needs " + msg)
}

// PostgresURL returns the URL of a fresh, empty PostgreSQL database made for
// this test alone and dropped when it ends, or skips (fails in CI) when
// ATTNLAB_TEST_POSTGRES is not set.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv("ATTNLAB_TEST_POSTGRES")
	if admin == "" {
		missing(tb, "a PostgreSQL server in ATTNLAB_TEST_POSTGRES")
	}
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("testenv: ATTNLAB_TEST_POSTGRES: %v", err)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		tb.Fatalf("testenv: open PostgreSQL: %v", err)
	}
	defer db.Close()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "attnlab_t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("testenv: create database: %v", err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u.Path = "/" + name
	return u.String()
}

// ForEachDatabase runs f as two subtests, "sqlite" on a new file in a
// temporary directory and "postgres" on PostgresURL's database (skipped,
// or failed in CI, without a server).
func ForEachDatabase(t *testing.T, f func(t *testing.T, target string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { f(t, filepath.Join(t.TempDir(), "runs.db")) })
	t.Run("postgres", func(t *testing.T) { f(t, PostgresURL(t)) })
}

// Slurm skips (fails in CI) unless ATTNLAB_TEST_SLURM=1 and sbatch is on PATH.
func Slurm(tb testing.TB) {
	tb.Helper()
	if os.Getenv("ATTNLAB_TEST_SLURM") != "1" {
		missing(tb, "a Slurm cluster (ATTNLAB_TEST_SLURM=1)")
	}
	if _, err := exec.LookPath("sbatch"); err != nil {
		missing(tb, "sbatch on PATH")
	}
}

// Chromium returns the path of a Chromium binary, or skips (fails in CI).
func Chromium(tb testing.TB) string {
	tb.Helper()
	p := os.Getenv("ATTNLAB_TEST_CHROMIUM")
	if p == "" {
		if lp, err := exec.LookPath("chromium"); err == nil {
			return lp
		}
		missing(tb, "Chromium (ATTNLAB_TEST_CHROMIUM)")
	}
	if _, err := os.Stat(p); err != nil {
		missing(tb, "Chromium at "+p)
	}
	return p
}

// PDFLaTeX returns the path of pdflatex, or skips (fails in CI).
func PDFLaTeX(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("pdflatex")
	if err != nil {
		missing(tb, "pdflatex with booktabs (Debian: texlive-latex-base, texlive-latex-recommended)")
	}
	return p
}
