// Package registry is a small generic plugin registry in the style of
// database/sql.Register, with a non-generic catalog view of it: each entry
// has a name, a one-line doc, a default parameter struct, a factory, its
// capabilities and the nested plugin blocks it reads.
//
// A package that provides plugins keeps one *Registry per kind (attention
// variants, tasks, encoders, ...) and registers each plugin from the init
// function of the file that implements it. Lookups of an unknown name return
// an *UnknownError listing the known names. [Build] is the one way a package
// turns a name and its YAML parameters into a plugin: look the name up,
// decode the parameters, call the factory.
//
// # Parameters
//
// A plugin's parameters are decoded strictly from a YAML map into a fresh
// copy of its defaults: every unknown key and every wrongly typed value is a
// *ParamError naming the key, the plugin and the known keys, all of them
// returned together as a ParamErrors value; the struct's own Validate method
// runs only when there are none (and not at all with
// DecodeOptions.NoValidate). A Lint method ([Linter]) holds the checks that
// only new experiments get ([Info.Lint], which plan, run and submit call),
// not a stored run's configuration when it is rebuilt: a setting an earlier
// version accepted must not make the runs stored with it unusable.
// Parameter structs describe themselves through
// struct tags (`yaml:"key" doc:"one line"`), so `attnlab list` can print the
// YAML vocabulary; a `range:"[1,65536]"` tag ([Range]) bounds a number,
// checked with the types, and `attnlab list` shows it. A field of type Plugin is a nested plugin block, such as
// the attention of each head of a multi-head attention; [Values] turns a
// decoded struct back into plain values ([PlainValue] one value).
//
// # Catalog
//
// Every Registry is a Catalog: the entries seen as [Info] values, without
// their factory type. Capabilities ([Capability], declared as constants by
// the package that gives them meaning: models.LanguageModel) are what other
// packages ask of an entry instead of comparing names. A [Sites] table maps
// the paths of a configuration format to catalogs; the experiments package
// holds the one of attnlab's experiment format, and validation, `attnlab
// list` and the documentation read it.
//
// The package imports no other attnlab package.
package registry
