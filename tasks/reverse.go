package tasks

func init() {
	Registry.Register(Entry{
		Name:   "reverse",
		Doc:    "reverse a random symbol string: abcd → dcba (alignment: reverse)",
		Params: defaultSymbolParams(),
		New: func(params any, opt Options) (*Dataset, error) {
			return symbolTask("reverse", AlignReverse, params, opt, reverseOf)
		},
	})
}
