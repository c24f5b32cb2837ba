package main

import (
	"io"
	"os"
	"strings"

	"github.com/attnlab/attnlab/store"
)

// commandSecrets returns the passwords of the PostgreSQL URLs on the
// command line (--db URL, --db=URL, --from, --to, or anywhere else) and in
// $ATTNLAB_DB: whatever a command prints is scrubbed of them, the last net
// under the store's own masking (errors, Path, the sbatch script).
func commandSecrets(args []string) []string {
	var out []string
	for _, a := range append(args, os.Getenv("ATTNLAB_DB")) {
		l := strings.ToLower(a)
		i := strings.Index(l, "postgres://")
		if j := strings.Index(l, "postgresql://"); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i >= 0 {
			out = append(out, store.Secrets(a[i:])...)
		} else {
			out = append(out, store.Secrets(a)...) // "host=… password=…", given by mistake
		}
	}
	return out
}

// scrubWriter replaces secrets in everything written through it by xxxxx.
// The writers above it (printable's) write whole lines, so a secret, which
// holds no newline, is never split across two writes.
type scrubWriter struct {
	w       io.Writer
	secrets []string
}

func (s scrubWriter) Write(p []byte) (int, error) {
	text := string(p)
	clean := store.Scrub(text, s.secrets)
	if clean == text {
		return s.w.Write(p)
	}
	if _, err := io.WriteString(s.w, clean); err != nil {
		return 0, err
	}
	return len(p), nil
}
