package experiments

import "testing"

func TestParseAndFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{{"512", 512}, {"64MiB", 64 << 20}, {"8 GiB", 8 << 30}, {"1.5G", 3 << 29}, {"2KB", 2048}, {"1t", 1 << 40}, {"8gb", 8 << 30}, {"8gib", 8 << 30}, {"3MIB", 3 << 20}} {
		if got, err := ParseBytes(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "lots", "-1G", "8 parsecs", "1.2.3M", "1024i", "2048bb", "3ki"} {
		if n, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", bad, n)
		}
	}
	for n, want := range map[int64]string{512: "512 B", 1536: "1.50 KiB", 12 << 20: "12.0 MiB", 125 << 30: "125 GiB",
		10235: "10.0 KiB", 1<<20 - 1: "1.00 MiB", 1023: "1023 B", 1024: "1.00 KiB", 999 << 10: "999 KiB", 1000 << 10: "1000 KiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestEstimateMemoryGrows: the estimate follows the sizes (a runs test
// holds its parameter counts to the models runs builds): the hostile
// configuration of issue 16 (embed 4096, hidden 16384, 4 layers) is
// estimated far above any machine's memory, a tiny one far below.
func TestEstimateMemoryGrows(t *testing.T) {
	_, small := mustLoad(t, minimal)
	_, huge := mustLoad(t, minimal, "model.embed=4096", "model.encoder.hidden=16384", "model.encoder.layers=4")
	s, h := EstimateMemory(small[0].Config), EstimateMemory(huge[0].Config)
	if s.Bytes <= 0 || s.Bytes > 64<<20 {
		t.Errorf("the minimal experiment is estimated at %v", s)
	}
	if h.Params < 5e9 || h.Bytes < 64<<30 {
		t.Errorf("embed 4096, hidden 16384, 4 layers is estimated at %v", h)
	}
	t.Logf("minimal: %v; huge: %v", s, h)
}
