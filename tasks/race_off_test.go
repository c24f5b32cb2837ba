//go:build !race

package tasks

// raceBuild: see race_on_test.go.
const raceBuild = false
