//go:build !race

package layers_test

// raceBuild: see race_on_test.go.
const raceBuild = false
