package experiments

import (
	"slices"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/optim"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
)

// Sites is the table of the experiment format's plugin sites: every YAML
// path whose block names a registry entry, with that registry. Validation,
// merging, `attnlab list` and the configuration reference all read it, so
// a new site is one line here (a nested site, such as an attention's
// per-head block, also needs the entries that read it to say so: a
// registry.Plugin parameter or registry.Entry.Uses).
var Sites = registry.Sites{
	{Path: "task", Catalog: tasks.Registry, List: "tasks"},
	{Path: "model", Catalog: models.Registry, List: "models"},
	{Path: "model.encoder", Catalog: models.Encoders, List: "encoders"},
	{Path: "model.attention", Catalog: attention.Registry, List: "attention"},
	{Path: "model.attention.score", Catalog: attention.Scores, List: "scores"},
	{Path: "model.attention.head", Catalog: attention.Heads, List: "heads"},
	{Path: "model.attention.head.score", Catalog: attention.Scores, List: "head-scores"},
	{Path: "train.optimizer", Catalog: optim.Registry, List: "optimizers"},
	{Path: "train.schedule", Catalog: optim.Schedules, List: "schedules"},
}

// modelBlocks are the nested blocks of the model block that Config holds in
// fields of its own (Model.Encoder, Model.Attention): a model entry's Uses
// may name only these.
var modelBlocks = []string{"encoder", "attention"}

// pluginParams returns the entry's parameter keys that are not nested
// plugin blocks.
func pluginParams(info registry.Info) []string {
	var out []string
	for _, p := range info.Params {
		if !slices.Contains(info.Uses, p.Name) {
			out = append(out, p.Name)
		}
	}
	return out
}
