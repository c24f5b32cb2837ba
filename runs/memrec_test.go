package runs

import (
	"sync"
	"testing"

	"github.com/attnlab/attnlab/experiments"
)

// memRecorder keeps everything in memory.
type memRecorder struct {
	mu          sync.Mutex
	metrics     map[string]map[int]float64
	checkpoints map[int][]byte
	lastCkpt    []byte
	artifacts   map[string][]byte
}

func newMemRecorder() *memRecorder {
	return &memRecorder{metrics: map[string]map[int]float64{}, checkpoints: map[int][]byte{}, artifacts: map[string][]byte{}}
}

func (m *memRecorder) Metric(step int, key string, v float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.metrics[key] == nil {
		m.metrics[key] = map[int]float64{}
	}
	m.metrics[key][step] = v
	return nil
}

func (m *memRecorder) Checkpoint(step int, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checkpoints[step] = data
	m.lastCkpt = data
	return nil
}

func (m *memRecorder) Artifact(kind, name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.artifacts[kind+"/"+name] = data
	return nil
}

func (m *memRecorder) Progress(Progress) {}

// loadConfig loads a test experiment and returns the config of its first
// run, with the given overrides.
func loadConfig(t testing.TB, path string, sets ...string) experiments.Config {
	t.Helper()
	x, err := experiments.Load(path, sets)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := x.Plan()
	if err != nil {
		t.Fatal(err)
	}
	return plan[0].Config
}
