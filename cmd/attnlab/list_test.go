package main

import (
	"strings"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/models"
)

func TestList(t *testing.T) {
	r := attnlab(t, "list")
	wantOK(t, r)
	golden(t, "list.golden", r.stdout)
	for i, line := range strings.Split(r.stdout, "\n") {
		if w := width(line); w > pageWidth {
			t.Errorf("line %d is %d columns wide (max %d): %q", i+1, w, pageWidth, line)
		}
	}
	for _, h := range []string{"TASKS: task:", "MODELS: model:", "ENCODERS: model.encoder:", "ATTENTION: model.attention:", "OPTIMIZERS: train.optimizer:", "SCHEDULES: train.schedule:"} {
		if !strings.Contains(r.stdout, h) {
			t.Errorf("list lacks the section %q", h)
		}
	}
}

func TestListKind(t *testing.T) {
	r := attnlab(t, "list", "attention")
	wantOK(t, r)
	for _, name := range attention.Registry.Names() {
		if !strings.Contains(r.stdout, "\n"+name+"  ") {
			t.Errorf("list attention lacks %s", name)
		}
	}
	if strings.Contains(r.stdout, "seq2seq-rnn") {
		t.Errorf("list attention lists models")
	}
	// Singular names work too, and NAME picks one entry.
	one := attnlab(t, "list", "model", "seq2seq-rnn")
	wantOK(t, one)
	if !strings.Contains(one.stdout, "(rnn-decoder; reads model.encoder and model.attention)") ||
		!strings.Contains(one.stdout, "  wiring ") || strings.Contains(one.stdout, "lm-rnn") {
		t.Errorf("list model seq2seq-rnn:\n%s", one.stdout)
	}
	for _, e := range models.Registry.Entries() {
		for _, p := range e.Describe() {
			if e.Name == "seq2seq-rnn" && !strings.Contains(one.stdout, "  "+p.Name+" ") {
				t.Errorf("list model seq2seq-rnn lacks the parameter %s", p.Name)
			}
		}
	}
}
