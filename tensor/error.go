package tensor

import "fmt"

// Error is the value every tensor op panics with when it is misused:
// operands whose shapes do not fit, an index or axis out of range, a
// gradient of the wrong size, arguments Gemm would reject. As gonum's
// mat.Error, a misuse is a programmer error of the caller raised as a panic,
// so that expressions stay chainable; Msg names the op and the shapes
// involved.
//
// Code that runs user configurations recovers exactly this type: the run
// executor records a run that panicked with an Error as failed, with Msg as
// its one-line error, and lets every other panic through as a bug. Packages
// above tensor may panic with an Error for a misuse of the same kind (a
// sequence longer than a position table) that a user's configuration can
// cause.
type Error struct{ Msg string }

// Error returns Msg.
func (e Error) Error() string { return e.Msg }

// errorf returns an Error with a formatted message: panic(errorf(...)).
func errorf(format string, a ...any) Error { return Error{Msg: fmt.Sprintf(format, a...)} }
