//go:build cgo

package store

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// sqliteCode classifies a driver error; the driver's error type exists only
// when it is built with cgo.
func sqliteCode(err error) errCode {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return codeOther
	}
	switch {
	case se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked:
		return codeBusy
	case se.Code == sqlite3.ErrNotADB:
		return codeNotADB
	case se.Code == sqlite3.ErrCorrupt:
		return codeCorrupt
	case se.Code == sqlite3.ErrCantOpen:
		return codeCantOpen
	case se.ExtendedCode == sqlite3.ErrConstraintForeignKey:
		return codeForeignKey
	}
	return codeOther
}
