//go:build ignore

// tales.go writes tales.txt, the corpus of examples/length_generalisation.yaml:
// short English-like stories from a small random grammar, so that a
// character language model has words, punctuation and sentence structure to
// learn, and names and places that recur within a story (reading further
// back helps). It is generated, not taken from any book, so it may live in
// the repository with no licence question. Regenerate it with
//
//	go run examples/data/tales.go > examples/data/tales.txt
//
// The output is deterministic (a fixed seed).
package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
)

var (
	names   = []string{"Ada", "Bram", "Cora", "Dov", "Edda", "Finn", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Leo", "Mira", "Nils", "Olga", "Piet", "Rosa", "Sven", "Tilde", "Ugo", "Vera", "Wim"}
	places  = []string{"the mill", "the harbour", "the old bridge", "the market", "the forest", "the chapel", "the inn", "the orchard", "the lighthouse", "the quarry", "the river", "the high road", "the garden", "the station"}
	things  = []string{"a lantern", "a letter", "a basket of apples", "a silver key", "an old map", "a loaf of bread", "a wooden box", "a red scarf", "a small boat", "a bundle of firewood", "a jar of honey", "a broken clock", "a pair of boots", "a song"}
	animals = []string{"a grey cat", "an old dog", "a crow", "a fox", "a goat", "a heron", "a horse", "a hare", "an owl", "a mule"}
	weather = []string{"It was raining", "The wind was cold", "The sun was low", "Snow had fallen in the night", "A fog lay over the fields", "The morning was bright and clear", "Thunder rolled in the hills", "The air was warm and still"}
	verbsT  = []string{"found", "carried", "lost", "mended", "sold", "hid", "gave away", "painted", "counted", "opened", "wrapped", "buried"}
	verbsI  = []string{"waited", "laughed", "sang", "slept", "wept", "listened", "walked on", "sat down", "turned back", "said nothing"}
	advs    = []string{"slowly", "at once", "without a word", "for a long time", "in silence", "with great care", "before dawn", "as the bells rang", "twice", "in the end"}
	adjs    = []string{"tired", "glad", "afraid", "curious", "hungry", "proud", "quiet", "cold", "lucky", "restless"}
	says    = []string{"said", "asked", "whispered", "called", "answered", "shouted"}
	lines   = []string{"Where have you been", "I will not go back", "The tide is turning", "Nobody saw it but me", "We should leave before dark", "It was here all along", "Count them again", "Listen to the wind", "This is not the way", "Tomorrow, then"}
	links   = []string{"Then", "After that", "Later", "In the evening", "By noon", "Soon", "At last", "Meanwhile"}
)

type story struct {
	r           *rand.Rand
	hero, other string
	place       string
	thing       string
}

func (s *story) pick(l []string) string { return l[s.r.IntN(len(l))] }

func cap1(x string) string { return strings.ToUpper(x[:1]) + x[1:] }

func (s *story) sentence() string {
	who := s.hero
	if s.r.IntN(3) == 0 {
		who = s.other
	}
	switch s.r.IntN(9) {
	case 0:
		return fmt.Sprintf("%s %s %s at %s.", who, s.pick(verbsT), s.thing, s.place)
	case 1:
		return fmt.Sprintf("%s went to %s and %s %s.", who, s.pick(places), s.pick(verbsI), s.pick(advs))
	case 2:
		return fmt.Sprintf("\"%s?\" %s %s.", s.pick(lines), s.pick(says), who)
	case 3:
		return fmt.Sprintf("\"%s,\" %s %s to %s.", s.pick(lines), who, s.pick(says), pickOther(s, who))
	case 4:
		return fmt.Sprintf("%s. %s was %s, and %s %s.", s.pick(weather), who, s.pick(adjs), s.pick(animals), s.pick(verbsI))
	case 5:
		return fmt.Sprintf("%s %s met %s near %s.", s.pick(links), who, s.pick(animals), s.place)
	case 6:
		return fmt.Sprintf("%s %s %s, because %s was %s.", who, s.pick(verbsI), s.pick(advs), pickOther(s, who), s.pick(adjs))
	case 7:
		return fmt.Sprintf("%s, %s %s %s and %s it to %s.", s.pick(links), who, s.pick(verbsT), s.thing, s.pick(verbsT), s.place)
	default:
		return fmt.Sprintf("Nobody at %s knew why %s had %s %s.", s.place, who, s.pick(verbsT), s.thing)
	}
}

func pickOther(s *story, who string) string {
	if who == s.hero {
		return s.other
	}
	return s.hero
}

func main() {
	const size = 400_000 // bytes, about
	r := rand.New(rand.NewPCG(14, 2022))
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	n := 0
	for n < size {
		s := &story{r: r, hero: names[r.IntN(len(names))], place: places[r.IntN(len(places))], thing: things[r.IntN(len(things))]}
		for s.other = s.hero; s.other == s.hero; s.other = names[r.IntN(len(names))] {
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s lived near %s with %s.", s.hero, s.place, s.other)
		for range 4 + r.IntN(8) {
			b.WriteString(" ")
			b.WriteString(cap1(s.sentence()))
		}
		b.WriteString("\n\n")
		k, _ := w.WriteString(b.String())
		n += k
	}
}
