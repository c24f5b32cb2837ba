//go:build !cgo

package store

import _ "github.com/mattn/go-sqlite3" // registers a stub driver whose Open explains that cgo is needed

// sqliteCode: without cgo the driver is a stub that fails every Open with
// its own message, so there is nothing to classify.
func sqliteCode(error) errCode { return codeOther }
