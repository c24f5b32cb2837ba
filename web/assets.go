package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
)

// static holds the pages' scripts and styles and the vendored front-end
// libraries (static/vendor: each with its licence and the npm version it
// came from; see static/vendor/README.md).
//
//go:embed static
var staticFS embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	body, gz []byte // gz is nil when compression does not pay
	ctype    string
	hash     string // first 12 hex digits of its SHA-256: the ?v= of its URL
}

// assets are the embedded static files by path under static/.
type assets struct {
	files map[string]*asset
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]*asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		f := &asset{body: body, hash: hex.EncodeToString(sum[:6])}
		f.ctype = mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".js":
			f.ctype = "text/javascript; charset=utf-8"
		case ".css":
			f.ctype = "text/css; charset=utf-8"
		case ".md", "":
			f.ctype = "text/plain; charset=utf-8"
		}
		if f.ctype == "" {
			f.ctype = "application/octet-stream"
		}
		if len(body) > 1024 {
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			zw.Write(body)
			zw.Close()
			if b.Len() < len(body) {
				f.gz = b.Bytes()
			}
		}
		a.files[p[len("static/"):]] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: embedded assets: %w", err)
	}
	return a, nil
}

// url returns the URL of an asset with its content hash, which lets
// browsers keep it for good; it panics on an unknown name (a template bug).
func (a *assets) url(name string) string {
	f := a.files[name]
	if f == nil {
		panic("web: no asset " + name)
	}
	return "/static/" + name + "?v=" + f.hash
}

func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	f := a.files[r.PathValue("file")]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", `"`+f.hash+`"`)
	h.Add("Vary", "Accept-Encoding")
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if r.Header.Get("If-None-Match") == `"`+f.hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gz != nil && acceptsGzip(r) {
		body = f.gz
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
