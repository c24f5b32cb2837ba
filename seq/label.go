package seq

// Symbol returns the sign that shows a token which would be invisible when
// printed: ␣ for a space, ↵ for a newline, ⇥ for a tab and "" (two quotes)
// for the empty token. ok is false for every other token, which the caller
// shows in its own way.
func Symbol(token string) (sign string, ok bool) {
	switch token {
	case " ":
		return "␣", true
	case "\n":
		return "↵", true
	case "\t":
		return "⇥", true
	case "":
		return `""`, true
	}
	return "", false
}
