package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/attnlab/attnlab/internal/printable"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/store"
)

//go:embed templates/*.html
var templateFS embed.FS

// DefaultPoll is how often a live page asks whether anything changed.
const DefaultPoll = 3 * time.Second

// CSP is the Content-Security-Policy of every response: scripts, styles,
// data and images from this server only, no inline script or style, no
// framing, no form posting elsewhere.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Options configure a Server.
type Options struct {
	// ReadOnly turns off every action beyond reading the store: the
	// generate page answers 403. (The server never writes the store.)
	ReadOnly bool
	// Poll is how often live pages ask for changes; 0 means DefaultPoll.
	Poll time.Duration
	// LoopbackOnly accepts only requests whose Host header names a
	// loopback address or localhost: a page on another site cannot reach
	// a server bound to loopback through DNS rebinding. Serve sets it when
	// it listens on a loopback address.
	LoopbackOnly bool
	// Hosts are the names, beyond localhost, that the Host header may
	// give (serve --host). Without LoopbackOnly, a Host that is an IP
	// address is accepted too, and any other name refused: a page on
	// another site that rebinds its own name to this server's address
	// (DNS rebinding) cannot read the dashboard through a visitor's
	// browser.
	Hosts []string
	// Version is attnlab's version, shown in the footer.
	Version string
	// Log receives one line per server-side error (never a stack), its
	// control characters escaped (package printable); nil discards them.
	Log *log.Logger
	// Reopen, when set, opens the server's SQLite database anew (serve
	// passes its own open). Before each request the server asks
	// its store whether the path still names the file it opened
	// (store.Store.Gone); once the file was replaced it serves the new one
	// through a store Reopen returns, and logs one line saying so; while
	// nothing is at the path (or what is there cannot be opened, or the
	// old file's write-ahead log is still beside it: store.Store.LeftLog)
	// every page answers 503 naming the file, and Reopen is tried again at
	// most every reopenEvery. Unused on PostgreSQL. The answers name the
	// file by its absolute path, as the pages' command lines do
	// (store.SharedCommandDB): a page may be read in another directory or
	// on another machine. An error of Reopen's own is shown as it is, so
	// Reopen should open the absolute path too (serve does).
	Reopen func() (*store.Store, error)
}

// Server is the dashboard: an http.Handler over one run database. It only
// reads the store. It is safe for concurrent use.
type Server struct {
	st      *store.Store
	opt     Options
	handler http.Handler
	pages   map[string]*template.Template
	assets  *assets
	cache   *histCache
	gen     *generator
	// downloads bounds the artifacts read into memory at once (each is
	// read whole from the store): simultaneous downloads of a large model
	// wait their turn instead of each holding a copy.
	downloads chan struct{}
	// mux routes a request to this server's pages; handler is mux behind
	// the security checks (secure, cross-origin protection), or, with
	// Options.Reopen, the dispatch to the server of the current file.
	mux  http.Handler
	live *reopener // nil without Options.Reopen
}

// maxDownloads is how many artifacts the dashboard serves at once,
// downloadWait the longest a download waits for its turn (then 503), and
// downloadTime the longest one may take to write.
const (
	maxDownloads = 2
	downloadTime = 5 * time.Minute
)

var downloadWait = 20 * time.Second // a variable for a test

// pageWriteTime is the longest any response but a download (downloadTime)
// may take, from the request to its last byte: a client that stops
// reading loses the connection instead of holding a handler and its
// buffers for ever. Generous: a generate request may wait for the decoder
// (one at a time, generateTime each) and load a model. A variable for a
// test.
var pageWriteTime = 2 * time.Minute

// New returns a dashboard over st. It fails only if the embedded templates
// or assets are broken (a bug). With Options.Reopen, the server closes st
// once its file is gone (closing it again is harmless), and Close closes
// the stores it opened since.
func New(st *store.Store, opt Options) (*Server, error) {
	s, err := build(st, opt)
	if err != nil {
		return nil, err
	}
	if opt.Reopen != nil && st.Engine() == store.SQLite {
		s.live = &reopener{open: opt.Reopen, path: absPath(st.Path()), cur: s}
		s.handler = s.guard(s.apiGetOnly(http.HandlerFunc(s.dispatch)))
	}
	return s, nil
}

// build returns the dashboard of one store.
func build(st *store.Store, opt Options) (*Server, error) {
	if opt.Poll <= 0 {
		opt.Poll = DefaultPoll
	}
	s := &Server{st: st, opt: opt, cache: newHistCache(st, defaultCachePoints), downloads: make(chan struct{}, maxDownloads)}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.pages, err = s.parseTemplates(); err != nil {
		return nil, err
	}
	s.gen = newGenerator(st)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleExperiments)
	mux.HandleFunc("GET /x/{name}", s.handleExperiment)
	mux.HandleFunc("GET /x/{name}/curves", s.handleCurves)
	mux.HandleFunc("GET /r/{id}", s.handleRun)
	mux.HandleFunc("GET /r/{id}/artifacts/{kind}/{file}", s.handleArtifact)
	mux.HandleFunc("GET /r/{id}/generate", s.handleGenerate)
	mux.HandleFunc("POST /r/{id}/generate", s.handleGenerate)
	mux.HandleFunc("GET /api/experiments", s.apiExperiments)
	mux.HandleFunc("GET /api/x/{name}/compare", s.apiCompare)
	mux.HandleFunc("GET /api/x/{name}/curves", s.apiCurves)
	mux.HandleFunc("GET /api/x/{name}/length", s.apiLength)
	mux.HandleFunc("GET /api/r/{id}/attention", s.apiAttention)
	mux.HandleFunc("GET /api/live", s.apiLive)
	mux.HandleFunc("GET /static/{file...}", s.serveAsset)
	// GET only: another method on any path is 405 with Allow (the mux's).
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		s.failAny(w, r, http.StatusNotFound, fmt.Errorf("no page %s", r.URL.Path))
	})
	s.mux = mux
	s.handler = s.guard(s.apiGetOnly(mux))
	return s, nil
}

// serveAsset serves an embedded file (assets.serve). Its ?v= (the content
// hash that lets it be cached for good) given twice is 400 naming it, as
// a page's fields are: the first value alone would be compared, the
// other dropped without a word.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	if _, err := once(r.URL.Query(), "v"); err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	s.assets.serve(w, r)
}

// guard puts next behind the security checks: secure, then the refusal
// of cross-origin POSTs.
func (s *Server) guard(next http.Handler) http.Handler {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.failAny(w, r, http.StatusForbidden, errors.New("cross-origin request refused"))
	}))
	return s.secure(csrf.Handler(next))
}

// apiGetOnly answers a request under /api/ by another method than GET or
// HEAD with a JSON 405 (the mux's own is plain text): the API is GET only.
func (s *Server) apiGetOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") && r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			s.failAny(w, r, http.StatusMethodNotAllowed, fmt.Errorf("%s %s: the API answers GET only", r.Method, r.URL.Path))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP serves the dashboard.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// secure gives every response its write deadline (pageWriteTime), sets
// the security headers, refuses a Host header that Options do not allow
// (hostAllowed), and turns a panic into a 500 with one line in the log.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// (A ResponseRecorder in tests cannot take a deadline, and says so.)
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(pageWriteTime))
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.logf("internal error serving %s: %v", r.URL.Path, p)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		if !s.hostAllowed(r.Host) {
			msg := "attnlab serve: this server answers only to localhost"
			if !s.opt.LoopbackOnly {
				msg = "attnlab serve: this server answers only to its IP addresses, localhost and the names serve --host gives"
			}
			http.Error(w, msg+" (Host "+strconv.Quote(r.Host)+" refused)", http.StatusMisdirectedRequest)
			return
		}
		if crossSiteSubresource(r) {
			s.failAny(w, r, http.StatusForbidden, errors.New("cross-site request refused: another site's page may link to this dashboard, not load its pages, models or downloads"))
			return
		}
		// A query Go's parser cannot take whole (bad escapes, more than
		// 10,000 parameters) would be read in part, its filters dropped:
		// refused instead of answered unfiltered.
		if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
			s.failAny(w, r, http.StatusBadRequest, fmt.Errorf("bad query string: %v", err))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// crossSiteSubresource reports whether a browser says (Fetch Metadata) that
// another site's page made it send a GET that is not the visitor following
// a link: an image, a script, a fetch or a frame. Such a request could make
// the server load a model (GET /r/ID/generate) or read an artifact for a
// page that cannot read the answer anyway (Cross-Origin-Resource-Policy);
// a link from another site still opens the page. Same-site requests (another
// port of this host) and clients that send no Fetch Metadata (curl, scripts,
// older browsers) are not affected; POSTs are CrossOriginProtection's.
func crossSiteSubresource(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") != "cross-site" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	return r.Header.Get("Sec-Fetch-Mode") != "navigate" || r.Header.Get("Sec-Fetch-Dest") != "document"
}

// hostAllowed reports whether a request's Host header names this server
// as Options allow: localhost, a name of Hosts, or (without LoopbackOnly)
// an IP address.
func (s *Server) hostAllowed(host string) bool {
	if loopbackHost(host) {
		return true
	}
	h := hostName(host)
	for _, name := range s.opt.Hosts {
		if strings.EqualFold(strings.TrimSuffix(name, "."), strings.TrimSuffix(h, ".")) {
			return true
		}
	}
	return !s.opt.LoopbackOnly && net.ParseIP(h) != nil
}

// hostName is a Host header without its port and brackets.
func hostName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// loopbackHost reports whether a Host header names this machine's loopback
// interface: localhost, 127.0.0.0/8 or ::1, with any port.
func loopbackHost(host string) bool {
	h := hostName(host)
	if strings.EqualFold(h, "localhost") || strings.HasSuffix(strings.ToLower(h), ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// logf logs one line, redacted, its control characters escaped: the
// request's path and stored text in an error must not start a line of
// their own or drive a terminal.
func (s *Server) logf(format string, args ...any) {
	if s.opt.Log != nil {
		s.opt.Log.Print(printable.Line(s.st.Redact(fmt.Sprintf(format, args...))))
	}
}

// send writes body with its content type, gzip-compressed when the client
// accepts it and it is worth it. Pages are never cached: they show live
// data.
func send(w http.ResponseWriter, r *http.Request, status int, ctype string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache")
	}
	h.Add("Vary", "Accept-Encoding")
	if len(body) > 1024 && acceptsGzip(r) {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
		zw.Write(body)
		zw.Close()
		body = b.Bytes()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && !strings.Contains(strings.ReplaceAll(q, " ", ""), "q=0") {
			return true
		}
	}
	return false
}

// sendJSON writes v as JSON.
func (s *Server) sendJSON(w http.ResponseWriter, r *http.Request, v any) {
	var b []byte
	var err error
	if m, ok := v.(json.Marshaler); ok {
		b, err = m.MarshalJSON()
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		s.failJSON(w, r, http.StatusInternalServerError, err)
		return
	}
	send(w, r, http.StatusOK, "application/json", b)
}

// failJSON answers an API request with {"error": message}.
func (s *Server) failJSON(w http.ResponseWriter, r *http.Request, status int, err error) {
	status, msg := s.failure(r, status, err)
	b, _ := json.Marshal(map[string]string{"error": msg})
	send(w, r, status, "application/json", b)
}

// statusOf maps an error to an HTTP status: 503 when the database server
// cannot be reached (PostgreSQL stopped or restarting: the page answers
// again once it is back) or the request was cancelled, 404 for what does
// not exist, 400 for what the request got wrong (given when the caller
// knows the request carried user input), 500 otherwise.
func (s *Server) statusOf(err error, userInput bool) int {
	switch {
	case s.st.Unreachable(err):
		return http.StatusServiceUnavailable
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	case errors.Is(err, report.ErrNoRuns), userInput:
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// render executes a page's template into a buffer (so that an error never
// sends half a page) and sends it. With ?fragment=NAME only the named part
// of the page is rendered: live pages swap it in.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t := s.pages[name]
	if t == nil {
		panic("web: no template " + name)
	}
	p.ReadOnly, p.Version, p.PollMS = s.opt.ReadOnly, s.opt.Version, int(s.opt.Poll/time.Millisecond)
	p.Engine = string(s.st.Engine())
	var b bytes.Buffer
	tmpl := "layout"
	if name != "error" {
		f, err := once(r.URL.Query(), "fragment")
		switch {
		case err != nil:
			s.fail(w, r, http.StatusBadRequest, err)
			return
		case f == "":
		case t.Lookup("frag-"+f) == nil:
			s.fail(w, r, http.StatusNotFound, fmt.Errorf("no fragment %q", f))
			return
		default:
			tmpl = "frag-" + f
		}
	}
	if err := t.ExecuteTemplate(&b, tmpl, p); err != nil {
		s.logf("render %s: %v", name, err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	// Stored text (descriptions, errors, config values, samples, host
	// names) is shown as the CLI shows it (printable.Text): a control
	// character or a bidi override (U+202E) appears as its escape, so
	// that it can neither reorder the text around it nor pass for other
	// text. The templates themselves hold none. Text returns a page that
	// needs nothing escaped as it is (escaping always lengthens it), so
	// such a page is sent from the buffer.
	page := b.Bytes()
	if esc := printable.Text(b.String()); len(esc) != len(page) {
		page = []byte(esc)
	}
	send(w, r, status, "text/html; charset=utf-8", page)
}

// failure logs a server-side failure and returns the status and the
// redacted message to answer it with. A database server that cannot be
// reached is 503, whatever status the caller chose, and says so.
func (s *Server) failure(r *http.Request, status int, err error) (int, string) {
	msg := s.st.Redact(err.Error())
	var fg *fileGoneError
	switch {
	case errors.As(err, &fg):
		// The reopener logged it once; every page says it until the file
		// is back.
		return http.StatusServiceUnavailable, printable.WithoutPackage(msg)
	case s.st.Unreachable(err):
		status = http.StatusServiceUnavailable
		msg = "the database server cannot be reached; this page answers again once it is back (" + msg + ")"
	case status >= 500 && s.st.Gone() != nil:
		// The file was deleted or replaced while the request read it:
		// what SQLite answered ("database disk image is malformed") is
		// no fault of the database at the path.
		status = http.StatusServiceUnavailable
		msg = "the database file " + s.st.Path() + " was deleted or replaced while this page was read; reload the page"
	}
	if status >= 500 {
		s.logf("%s: %s", r.URL.Path, msg) // the log keeps the package's name
	}
	return status, printable.WithoutPackage(msg)
}

// fail renders the error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	status, msg := s.failure(r, status, err)
	p := &page{Title: http.StatusText(status), Error: msg, Status: status}
	if fg := (*fileGoneError)(nil); errors.As(err, &fg) {
		// The page polls, and loads itself again once the file is back.
		p.Live, p.Reload = "/api/live", true
	}
	s.render(w, r, status, "error", p)
}

// failAny answers err as an API answer ({"error": ...}, failJSON) under
// /api/, where a script reads the answer, and as a page (fail) elsewhere:
// for the checks every request goes through before its handler.
func (s *Server) failAny(w http.ResponseWriter, r *http.Request, status int, err error) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.failJSON(w, r, status, err)
		return
	}
	s.fail(w, r, status, err)
}

// page is what every template gets.
type page struct {
	Title    string
	Crumbs   []crumb
	Live     string // URL of the live version to poll; "" on pages that never change
	LiveV    string // the live version the page shows
	Reload   bool   // load the whole page again when the live version changes (it has no fragments)
	Error    string // a message shown in an error box
	Status   int    // the error page's HTTP status
	ReadOnly bool
	Version  string
	Engine   string
	PollMS   int
	Data     any // the page's own data
}

// crumb is one step of the breadcrumb trail.
type crumb struct {
	Name, URL string
}
