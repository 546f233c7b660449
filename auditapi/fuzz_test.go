package auditapi

import (
	"strconv"
	"testing"
)

func FuzzUintParam(f *testing.F) {
	for _, s := range []string{"", "0", "1", "007", "+5", "-1", "18446744073709551615", "18446744073709551616", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := uintParam(s, false)
		if !ok {
			return
		}
		if v == 0 || strconv.FormatUint(v, 10) != s {
			t.Fatalf("%q read as %d: only the canonical form of a positive number may pass", s, v)
		}
	})
}
