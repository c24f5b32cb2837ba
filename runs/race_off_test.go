//go:build !race

package runs

// raceBuild: see race_on_test.go.
const raceBuild = false

// raceSkipSerial: see race_on_test.go.
const raceSkipSerial = ""
