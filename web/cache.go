package web

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"

	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/store"
)

// defaultCachePoints bounds the metric points the history cache keeps (8
// bytes each).
const defaultCachePoints = 8 << 20

// histCache keeps the metric histories of runs that are not running: they
// no longer change (a run that is claimed again changes status and
// attempt, and so its version), so curves pages read each once. The
// histories of running runs are read anew every time. It also keeps, per
// set of such runs, the metric keys they logged. Safe for concurrent use.
type histCache struct {
	st  *store.Store
	max int // points

	mu      sync.Mutex
	points  int
	lru     *list.List // of *histEntry, most recent first
	entries map[histKey]*list.Element
	keys    map[string][]string // runs' version → their metric keys (small: a few entries)
}

type histKey struct {
	run    int64
	metric string
}

type histEntry struct {
	key     histKey
	version string
	steps   []int32
	values  []float32
}

func newHistCache(st *store.Store, maxPoints int) *histCache {
	return &histCache{st: st, max: maxPoints, lru: list.New(), entries: map[histKey]*list.Element{}, keys: map[string][]string{}}
}

// runVersion identifies the state of a run's stored metrics: they change
// only while it runs, and a new claim changes the attempt.
func runVersion(r store.Run) string {
	return string(r.Status) + "/" + strconv.Itoa(r.Attempt) + "/" + strconv.FormatInt(r.Finished.UnixNano(), 36)
}

// settled reports whether a run's metrics can no longer change until it
// is claimed again.
func settled(r store.Run) bool { return r.Status != store.StatusRunning }

// history returns the history of metric for each run (run id → steps and
// values in step order; runs without it are absent).
func (c *histCache) history(ctx context.Context, runs []store.Run, metric string) (map[int64]curve, error) {
	out := make(map[int64]curve, len(runs))
	var read []int64
	c.mu.Lock()
	for _, r := range runs {
		if !settled(r) {
			read = append(read, r.ID)
			continue
		}
		el, ok := c.entries[histKey{r.ID, metric}]
		if ok && el.Value.(*histEntry).version == runVersion(r) {
			c.lru.MoveToFront(el)
			e := el.Value.(*histEntry)
			if len(e.steps) > 0 {
				out[r.ID] = curve{steps: e.steps, values: e.values}
			}
			continue
		}
		read = append(read, r.ID)
	}
	c.mu.Unlock()
	if len(read) == 0 {
		return out, nil
	}
	hist, err := c.st.MetricHistory(ctx, read, metric)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]store.Run, len(runs))
	for _, r := range runs {
		byID[r.ID] = r
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range read {
		pts := hist[id]
		cv, ok := newCurve(pts)
		if len(pts) > 0 {
			out[id] = cv
		}
		if r := byID[id]; ok && settled(r) {
			c.put(&histEntry{key: histKey{id, metric}, version: runVersion(r), steps: cv.steps, values: cv.values})
		}
	}
	return out, nil
}

// put adds an entry, dropping the least recently used ones beyond the
// cache's size. c.mu is held.
func (c *histCache) put(e *histEntry) {
	if el, ok := c.entries[e.key]; ok {
		c.points -= len(el.Value.(*histEntry).steps)
		c.lru.Remove(el)
	}
	if len(e.steps) > c.max {
		delete(c.entries, e.key)
		return
	}
	c.entries[e.key] = c.lru.PushFront(e)
	c.points += len(e.steps)
	for c.points > c.max {
		last := c.lru.Back()
		old := last.Value.(*histEntry)
		c.lru.Remove(last)
		delete(c.entries, old.key)
		c.points -= len(old.steps)
	}
}

// metricKeys returns the metric keys the runs logged, in
// metrics.CompareKeys order (len_2 before len_10): those of
// settled runs cached per set of runs, those of running runs read anew.
func (c *histCache) metricKeys(ctx context.Context, runs []store.Run) ([]string, error) {
	var settledIDs, running []int64
	h := sha256.New()
	for _, r := range runs {
		if settled(r) {
			settledIDs = append(settledIDs, r.ID)
			fmt.Fprintf(h, "%d:%s;", r.ID, runVersion(r))
		} else {
			running = append(running, r.ID)
		}
	}
	version := hex.EncodeToString(h.Sum(nil))
	c.mu.Lock()
	keys, ok := c.keys[version]
	c.mu.Unlock()
	if !ok && len(settledIDs) > 0 {
		var err error
		if keys, err = c.st.MetricKeys(ctx, settledIDs); err != nil {
			return nil, err
		}
		slices.SortFunc(keys, metrics.CompareKeys)
		c.mu.Lock()
		if len(c.keys) >= 16 {
			clear(c.keys)
		}
		c.keys[version] = keys
		c.mu.Unlock()
	}
	if len(running) > 0 {
		more, err := c.st.MetricKeys(ctx, running)
		if err != nil {
			return nil, err
		}
		keys = append(slices.Clone(keys), more...)
		slices.SortFunc(keys, metrics.CompareKeys)
		keys = slices.Compact(keys)
	}
	return keys, nil
}

// curve is one run's history of one metric, compact: 8 bytes a point.
// Values are float32 (what training computes); NaN and ±Inf are kept.
type curve struct {
	steps  []int32
	values []float32
}

// newCurve converts a history; ok is false when a step does not fit in
// 32 bits (such a history is not cached, and its steps are clamped).
func newCurve(pts []store.MetricPoint) (curve, bool) {
	cv := curve{steps: make([]int32, len(pts)), values: make([]float32, len(pts))}
	ok := true
	for i, p := range pts {
		s := p.Step
		if s > math.MaxInt32 || s < math.MinInt32 {
			ok = false
			s = max(min(s, math.MaxInt32), math.MinInt32)
		}
		cv.steps[i] = int32(s)
		cv.values[i] = float32(p.Value)
	}
	return cv, ok
}
