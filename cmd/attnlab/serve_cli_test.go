package main

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

// TestServeCLILine: the experiment page's "same table on the CLI" line,
// run as printed, is a command the CLI takes: the page drops the empty
// items of its list fields as it does when it reads them, where it used to
// print --by 'attention.name,' as typed, which the CLI refuses; and it
// names the page's database (--db), which it used to leave out.
func TestServeCLILine(t *testing.T) {
	db := sharedDB(t)
	base := startServe(t, "--db", db)
	for _, q := range []url.Values{
		{"by": {"attention.name,"}},
		{"by": {" , attention.name , "}, "pool": {"seed,"}, "metrics": {",exact_match,,"}},
	} {
		resp, err := http.Get(base + "/x/tiny?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`<p class="cli"[^>]*><code>([^<]*)</code>`).FindSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("GET /x/tiny?%s = %d, no CLI line:\n%s", q.Encode(), resp.StatusCode, body)
		}
		line := html.UnescapeString(string(m[1]))
		args := shellWords(t, line)
		if len(args) < 2 || args[0] != "attnlab" {
			t.Fatalf("CLI line %q: want attnlab ...", line)
		}
		// As printed: the line names the page's database itself.
		if r := attnlab(t, args[1:]...); r.code != exitOK {
			t.Errorf("the page's CLI line %q (for %s): %v", line, q.Encode(), r)
		}
	}
}
