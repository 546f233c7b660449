package assistant

import (
	"strings"
	"time"
)

// setLanguage keeps the language the customer chose, for every reply,
// button and alert from then on. A chat that is not linked has no
// customer to keep it for: it answers in that language now.
func (t *turn) setLanguage(in Intent) error {
	l := Language(in.Setting)
	if !l.Valid() || l == "" {
		t.help("")
		return nil
	}
	t.lang = l
	if !t.linked {
		t.say("From now on I'll answer in English. Link your bank account to keep this choice.", withButtons(linkButton))
		if l == Spanish {
			t.res.Replies[len(t.res.Replies)-1].Text = t.tr("I'll answer in Spanish. Link your bank account to keep this choice.")
		}
		return nil
	}
	s := t.settings
	s.Language, s.Updated = l, t.now
	if err := t.a.d.Store.SaveSettings(t.ctx, s); err != nil {
		return err
	}
	t.settings = s
	if l == Spanish {
		t.say("From now on I'll answer in Spanish. Say \"English\" to switch back.", withChoices(choiceBalance, choiceHelp))
	} else {
		t.say("From now on I'll answer in English. Say \"español\" to switch.", withChoices(choiceBalance, choiceHelp))
	}
	return nil
}

// periodName names a period in the turn's language: "this week", "esta
// semana", "since Monday", "desde el lunes", "in March 2026", "en marzo
// de 2026".
func (t *turn) periodName(p Period) string {
	if t.lang != Spanish {
		return p.Name
	}
	if v, ok := spanish[p.Name]; ok {
		return v
	}
	if day, ok := strings.CutPrefix(p.Name, "since "); ok {
		for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
			if d.String() == day {
				return "desde el " + weekdaysES[d]
			}
		}
		for m := time.January; m <= time.December; m++ {
			if m.String() == day {
				return "desde " + monthsLongES[m-1]
			}
		}
	}
	if rest, ok := strings.CutPrefix(p.Name, "in "); ok {
		mon, year, _ := strings.Cut(rest, " ")
		for m := time.January; m <= time.December; m++ {
			if m.String() == mon {
				return "en " + monthsLongES[m-1] + " de " + year
			}
		}
	}
	return p.Name
}

var (
	weekdaysES = map[time.Weekday]string{time.Monday: "lunes", time.Tuesday: "martes", time.Wednesday: "miércoles", time.Thursday: "jueves",
		time.Friday: "viernes", time.Saturday: "sábado", time.Sunday: "domingo"}
	monthsLongES = []string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
)

// Translate returns s in language l when the catalog has it, else s. It
// is for channels and alert wiring that show the assistant's words (a
// button title, a fixed text) to a customer whose Settings.Language is l.
func Translate(l Language, s string) string {
	if l != Spanish {
		return s
	}
	if v, ok := spanish[s]; ok {
		return v
	}
	return s
}

// spanish is the catalog: each English text, format or title the
// assistant produces, in Spanish. Formats keep their verbs in order.
// TestCatalogComplete keeps it complete.
var spanish = map[string]string{}
