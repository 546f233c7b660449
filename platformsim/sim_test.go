package platformsim_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/bankbridge/bankbridge/platformsim"
)

// Page-scoped ids look like the platform's (16 digits), and two emulators
// (two instances of a fleet, each with its own) never hand out the same
// one, nor does one emulator twice.
func TestPSIDsAreRandomAndUniqueAcrossEmulators(t *testing.T) {
	t.Parallel()
	digits := regexp.MustCompile(`^[1-9][0-9]{15}$`)
	owner := map[string]string{}
	for i := range 2 {
		sim := platformsim.New(platformsim.Options{BaseURL: "http://sim.test"})
		for j := range 300 {
			name := fmt.Sprintf("user%d", j)
			u := sim.Chat(name)
			if !digits.MatchString(u.PSID) {
				t.Fatalf("PSID %q of %s is not 16 digits", u.PSID, name)
			}
			if again := sim.Chat(name).PSID; again != u.PSID {
				t.Fatalf("%s changed id: %s then %s", name, u.PSID, again)
			}
			who := fmt.Sprintf("emulator %d %s", i, name)
			if prev, dup := owner[u.PSID]; dup {
				t.Fatalf("PSID %s given to %s and to %s", u.PSID, prev, who)
			}
			owner[u.PSID] = who
		}
	}
}
