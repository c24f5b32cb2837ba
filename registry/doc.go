// Package registry is a small generic plugin registry in the style of
// database/sql.Register: each entry has a name, a one-line doc, a default
// parameter struct and a factory.
//
// A package that provides plugins keeps one *Registry per kind (attention
// variants, tasks, encoders, ...) and registers each plugin from the init
// function of the file that implements it. Lookups of an unknown name return
// an *UnknownError listing the known names. A plugin's parameters are decoded
// strictly from a YAML map into a fresh copy of its defaults: an unknown key
// or a wrongly typed value is a *ParamError naming the key, the plugin and the
// known keys. Parameter structs describe themselves through struct tags
// (`yaml:"key" doc:"one line"`), so `attnlab list` can print the YAML
// vocabulary.
//
// The package imports no other attnlab package.
package registry
