package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// vendored pins every third-party file under static/vendor to the SHA-256
// of the same file in the npm tarball named in static/vendor/README.md
// (uplot@1.6.32, integrity sha512-KIMVnG68…). Updating a library means
// changing both.
var vendored = map[string]string{
	"vendor/uplot/uPlot.iife.min.js": "19c8d4c6ad88929a79f4ae49d6f7161566dfd0ba3d15cc495e974f787eb78f1f",
	"vendor/uplot/uPlot.min.css":     "df630c6a8d6f8eeaff264b50f73ce5b114f646ffd9a0bb74f049b0a00135fa04",
	"vendor/uplot/LICENSE":           "8f989229699b4fe2f1a0432d0e9edc338a8a911e250e2d1b01ecd770a5f5b1bd",
}

// TestVendoredAssets checks that the vendored libraries are the pinned,
// unmodified files with their licences, that nothing else sits under
// static/vendor unpinned, and that no embedded file loads anything from
// another host.
func TestVendoredAssets(t *testing.T) {
	seen := map[string]bool{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(name, "vendor/") && name != "vendor/README.md" {
			sum := sha256.Sum256(body)
			want, ok := vendored[name]
			switch {
			case !ok:
				t.Errorf("%s is vendored but not pinned in vendor_test.go", name)
			case hex.EncodeToString(sum[:]) != want:
				t.Errorf("%s: SHA-256 %x, want %s (the file from the pinned npm tarball)", name, sum, want)
			}
			seen[name] = true
		}
		if strings.HasSuffix(name, ".css") || strings.HasSuffix(name, ".js") {
			// A stylesheet or script of ours must not import from elsewhere.
			if !strings.HasPrefix(name, "vendor/") && remoteRef.Match(body) {
				t.Errorf("%s refers to another host: %s", name, remoteRef.Find(body))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range vendored {
		if !seen[name] {
			t.Errorf("%s is pinned but not embedded", name)
		}
	}
	readme, err := staticFS.ReadFile("static/vendor/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "1.6.32") || !strings.Contains(string(readme), "LICENSE") {
		t.Errorf("static/vendor/README.md does not name uPlot's version and licence")
	}
}

var remoteRef = regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/|@import|importScripts`)

// TestTemplatesLoadNothingElsewhere checks that no page template names a
// script, stylesheet or image of another host (the CSP would block it, and
// the dashboard must work offline).
func TestTemplatesLoadNothingElsewhere(t *testing.T) {
	ents, err := templateFS.ReadDir("templates")
	if err != nil {
		t.Fatal(err)
	}
	src := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`)
	for _, e := range ents {
		b, _ := templateFS.ReadFile("templates/" + e.Name())
		if m := src.Find(b); m != nil {
			t.Errorf("templates/%s loads from another host: %s", e.Name(), m)
		}
	}
}
