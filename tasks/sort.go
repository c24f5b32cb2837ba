package tasks

func init() {
	Registry.Register(Entry{
		Name:   "sort",
		Doc:    "sort a random symbol string into alphabet order (a-z, A-Z, 0-9; s0, s1, ...): dbca → abcd",
		Params: defaultSymbolParams(),
		New: func(params any, opt Options) (*Dataset, error) {
			return symbolTask("sort", "", params, opt, sortOf)
		},
	})
}
