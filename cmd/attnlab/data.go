package main

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/attnlab/attnlab/experiments"
)

// dataRows describes the data files a run's stored configuration
// fingerprinted (experiments.Config.Data), one line each:
// "task.path = data/pairs.tsv: 4000 lines, 120 KiB, sha256 1a2b3c4d5e6f7a8b".
// A config that does not parse, or has no data block, gives none.
func dataRows(configJSON string) []string {
	var c experiments.Config
	if err := json.Unmarshal([]byte(configJSON), &c); err != nil || len(c.Data) == 0 {
		return nil
	}
	keys := make([]string, 0, len(c.Data))
	for k := range c.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		f := c.Data[k]
		path, _ := c.Task.Params[k].(string)
		out = append(out, fmt.Sprintf("task.%s = %s: %d lines, %s, sha256 %s", k, path, f.Lines, experiments.FormatBytes(f.Size), f.SHA256))
	}
	return out
}
