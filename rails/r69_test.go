package rails

import "testing"

// TestR69FieldsNamesEachWrongField: the R69's Addenda Information names
// every field the bank found wrong, in the rules' order, separated by
// asterisks (NACHA Operations Bulletin "Proper Use of Return Reason Code
// R69 (Field Errors)", 2006: "01*03*06").
func TestR69FieldsNamesEachWrongField(t *testing.T) {
	p := Payment{Amount: 40_00, Routing: "231380104"}
	for _, c := range []struct {
		r    Return
		want string
	}{
		{Return{Amount: 40_00, OriginalDFI: "23138010"}, ""},
		{Return{Amount: 40_00}, ""},
		{Return{Amount: 4_00, OriginalDFI: "23138010"}, "03"},
		{Return{Amount: 40_00, OriginalDFI: "01100001"}, "02"},
		{Return{Amount: 4_00, OriginalDFI: "01100001"}, "02*03"},
	} {
		if got := r69Fields(c.r, p); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}
