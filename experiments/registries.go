package experiments

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/optim"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
)

// LMTasks names the tasks that are language-modelling tasks. The tasks
// registry does not say which tasks are LM (a dataset's LM flag is only
// known once it is built), so the experiments package keeps this list: a
// model whose models.Kind is LM needs one of these tasks, and every other
// model needs a task that is not here. Add a task here when it registers
// as an LM task.
var LMTasks = []string{"text"}

// catalog is one registry seen without its factory type: what validation
// needs (names, parameter structs, strict decoding).
type catalog struct {
	kind   string
	names  func() []string
	lookup func(name string) (registry.Entry[any], bool)
}

func catalogOf[F any](r *registry.Registry[F]) catalog {
	return catalog{
		kind:  r.Kind(),
		names: r.Names,
		lookup: func(name string) (registry.Entry[any], bool) {
			e, err := r.Lookup(name)
			if err != nil {
				return registry.Entry[any]{}, false
			}
			return registry.Entry[any]{Name: e.Name, Doc: e.Doc, Params: e.Params, New: struct{}{}}, true
		},
	}
}

func (c catalog) unknown(name string) string {
	return fmt.Sprintf("unknown %s %q (known: %s)", c.kind, name, strings.Join(c.names(), ", "))
}

// registries are the plugin registries an experiment is validated against:
// the package's globals for Load, fresh ones in tests.
type registries struct {
	tasks, models, encoders, attention, optimizers, schedules catalog
	kind                                                      func(model string) (models.Kind, bool)
	lmTasks                                                   []string
}

func globalRegistries() *registries {
	return &registries{
		tasks:      catalogOf(tasks.Registry),
		models:     catalogOf(models.Registry),
		encoders:   catalogOf(models.Encoders),
		attention:  catalogOf(attention.Registry),
		optimizers: catalogOf(optim.Registry),
		schedules:  catalogOf(optim.Schedules),
		kind:       kindIn(models.Registry),
		lmTasks:    LMTasks,
	}
}

func kindIn(r *registry.Registry[models.Kind]) func(string) (models.Kind, bool) {
	return func(name string) (models.Kind, bool) {
		e, err := r.Lookup(name)
		return e.New, err == nil
	}
}

// site returns the registry of the plugin block at a dotted path, and the
// keys of that block that are not the plugin's parameters.
func (r *registries) site(path string) (catalog, []string, bool) {
	switch path {
	case "task":
		return r.tasks, nil, true
	case "model":
		return r.models, []string{"encoder", "attention"}, true
	case "model.encoder":
		return r.encoders, nil, true
	case "model.attention":
		return r.attention, nil, true
	case "train.optimizer":
		return r.optimizers, nil, true
	case "train.schedule":
		return r.schedules, nil, true
	}
	return catalog{}, nil, false
}

func (r *registries) isLMTask(name string) bool { return slices.Contains(r.lmTasks, name) }

// checkType is a copy of a parameter struct type without its methods, so
// that decoding into it checks keys and types but runs no Validate.
var checkTypes sync.Map // reflect.Type → reflect.Type

func typeChecker(e registry.Entry[any]) registry.Entry[any] {
	src := reflect.ValueOf(e.Params).Elem()
	var ct reflect.Type
	if c, ok := checkTypes.Load(src.Type()); ok {
		ct = c.(reflect.Type)
	} else {
		var fields []reflect.StructField
		for i := range src.NumField() {
			if f := src.Type().Field(i); f.IsExported() {
				fields = append(fields, reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag})
			}
		}
		ct = reflect.StructOf(fields)
		checkTypes.Store(src.Type(), ct)
	}
	dst := reflect.New(ct)
	for i := range ct.NumField() {
		dst.Elem().Field(i).Set(src.FieldByName(ct.Field(i).Name))
	}
	return registry.Entry[any]{Name: e.Name, Params: dst.Interface(), New: e.New}
}

// paramsOf returns the yaml-tagged fields of a decoded parameter struct
// pointer as JSON-friendly values (nil gives an empty map).
func paramsOf(p any) map[string]any {
	out := map[string]any{}
	if p == nil {
		return out
	}
	v := reflect.ValueOf(p).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || key == "" || key == "-" {
			continue
		}
		out[key] = plainValue(v.Field(i))
	}
	return out
}

func plainValue(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int(v.Uint())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plainValue(v.Index(i))
		}
		return out
	}
	return v.Interface()
}

// paramKeys returns the YAML keys of a parameter struct pointer.
func paramKeys(params any) []string { return registry.Keys(params) }
