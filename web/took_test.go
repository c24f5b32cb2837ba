package web

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/store"
)

// TestRunPageLastAttempt: the run page of a run claimed more than once
// says that its duration is its last attempt's, in the words of the CLI's
// show (store.Run.TookLabel); a run claimed once says "took".
func TestRunPageLastAttempt(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, rs, err := st.Submit(ctx, store.ExperimentSpec{Name: "again"}, []store.RunSpec{
			{Hash: "h1", Seed: 1, Config: `{"seed":1}`}, {Hash: "h2", Seed: 2, Config: `{"seed":2}`}})
		if err != nil {
			t.Fatal(err)
		}
		twice, once := rs[0].ID, rs[1].ID
		claim(t, st, twice)
		if err := st.Finish(ctx, twice, fixOwner, store.StatusInterrupted, "handed back"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{twice, once} {
			claim(t, st, id)
			if err := st.Finish(ctx, id, fixOwner, store.StatusDone, ""); err != nil {
				t.Fatal(err)
			}
		}
		s := newServer(t, st, Options{ReadOnly: true})
		for _, tc := range []struct {
			id        int64
			want, not string
		}{
			{twice, " (its last attempt took ", " (took "},
			{once, " (took ", "its last attempt"},
		} {
			path := "/r/" + strconv.FormatInt(tc.id, 10)
			r := get(t, s, path)
			if r.status != 200 {
				t.Fatalf("GET %s: status %d\n%s", path, r.status, shortBody(r.body))
			}
			mustContain(t, "GET "+path, r.body, "<dt>finished</dt>", tc.want)
			if strings.Contains(r.body, tc.not) {
				t.Errorf("GET %s says %q:\n%s", path, tc.not, shortBody(r.body))
			}
		}
	})
}
