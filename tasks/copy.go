package tasks

func init() {
	Registry.Register(Entry{
		Name:   "copy",
		Doc:    "copy a random symbol string: abcd → abcd (alignment: copy)",
		Params: defaultSymbolParams(),
		New: func(params any, opt Options) (*Dataset, error) {
			return symbolTask("copy", AlignCopy, params, opt, copyOf)
		},
	})
}
