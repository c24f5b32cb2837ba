package runs

import (
	"context"
	"sync"

	"github.com/attnlab/attnlab/store"
)

// inFlight holds the runs this process has claimed and not yet ended, so
// that a process forced to exit — a command that did not stop within its
// grace period after Ctrl-C, held up by a long evaluation — can record
// them as interrupted (Abandon) instead of leaving them "running" until
// their heartbeats go stale.
var inFlight struct {
	mu   sync.Mutex
	runs map[int64]flight
}

type flight struct {
	st    *store.Store
	owner store.Owner
}

// track records run id as in flight until the returned function is called.
func track(id int64, st *store.Store, owner store.Owner) (untrack func()) {
	inFlight.mu.Lock()
	defer inFlight.mu.Unlock()
	if inFlight.runs == nil {
		inFlight.runs = map[int64]flight{}
	}
	inFlight.runs[id] = flight{st, owner}
	return func() {
		inFlight.mu.Lock()
		defer inFlight.mu.Unlock()
		delete(inFlight.runs, id)
	}
}

// Abandon records every run this process still has in flight as
// interrupted (HandedBack: it resumes from its last checkpoint), within
// ctx, for a process about to exit without waiting for them; it returns
// how many it recorded. A run that ends meanwhile keeps the end it
// records first (the store takes one end per attempt).
func Abandon(ctx context.Context) int {
	inFlight.mu.Lock()
	runs := make(map[int64]flight, len(inFlight.runs))
	for id, f := range inFlight.runs {
		runs[id] = f
	}
	inFlight.mu.Unlock()
	n := 0
	for id, f := range runs {
		if _, err := f.st.FinishRun(ctx, id, f.owner, store.Ending{Status: store.StatusInterrupted, Error: HandedBack}); err == nil {
			n++
		}
	}
	return n
}
