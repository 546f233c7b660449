package assistant

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
