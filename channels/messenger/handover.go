package messenger

import (
	"context"
	"encoding/json"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels"
)

// The handover protocol
// (https://developers.facebook.com/docs/messenger-platform/handover-protocol):
// several apps share the page's conversations, one of them owning each
// thread at a time. The bank's app is the primary receiver; a live-chat
// vendor's app (Config.LiveChatAppID) is a secondary receiver. The app that
// owns a thread receives its events under messaging and alone may send to
// it; the others receive them under standby. The bank:
//   - passes the thread to the live-chat app (pass_thread_control) when the
//     assistant hands a conversation to a person, and when the live-chat
//     app asks for it (request_thread_control);
//   - takes the conversation back when the live-chat app passes the thread
//     back (pass_thread_control with the bank as the new owner): the
//     assistant says it is back;
//   - can take a thread (take_thread_control), as the primary receiver may;
//   - answers nothing that comes under standby: the thread is the other
//     app's.

// handover handles a messaging_handovers event addressed to the bank.
func (a *Adapter) handover(ctx context.Context, id, user string, ev Event) error {
	return a.hub.Once(ctx, Platform, id, func(ctx context.Context) error {
		switch {
		case ev.PassThreadControl != nil:
			h := ev.PassThreadControl
			if a.c.AppID != "" && h.NewOwnerAppID != a.c.AppID {
				return nil // passed between other apps
			}
			a.c.Logger.Info("messenger: thread passed back to the bank", "previous_owner", h.PreviousOwnerAppID)
			return a.hub.Resume(ctx, Platform, user, "app:"+h.PreviousOwnerAppID)
		case ev.RequestThreadControl != nil:
			h := ev.RequestThreadControl
			if a.c.LiveChatAppID == "" || h.RequestedOwnerAppID != a.c.LiveChatAppID {
				a.c.Logger.Warn("messenger: thread control requested by an app the bank does not pass to", "app", h.RequestedOwnerAppID)
				return nil
			}
			return a.PassThreadControl(ctx, user, a.c.LiveChatAppID, "requested by the live-chat app")
		case ev.TakeThreadControl != nil:
			a.c.Logger.Info("messenger: thread control taken", "previous_owner", ev.TakeThreadControl.PreviousOwnerAppID, "new_owner", ev.TakeThreadControl.NewOwnerAppID)
		}
		return nil
	})
}

// standby handles an event of a thread another app owns: the bank does
// not answer it (it may not send there) but keeps the person's messages
// and taps in the conversation's transcript, once per event, so that the
// bank's inbox shows the whole conversation ("Standby Channel": the
// primary receiver is sent the thread's messages under standby).
func (a *Adapter) standby(ctx context.Context, id string, ev Event) error {
	a.c.Logger.Debug("messenger: standby event (another app owns the thread)", "sender", ev.Sender.ID)
	m := assistant.Message{Key: assistant.Key{Platform: Platform, User: ev.Sender.ID}, At: time.UnixMilli(ev.Timestamp).UTC(), Dir: assistant.In}
	switch {
	case ev.Message != nil && ev.Message.Text != "":
		m.Text = ev.Message.Text
	case ev.Message != nil:
		m.Text = "(an attachment)"
	case ev.Postback != nil:
		m.Text = ev.Postback.Title
	default:
		return nil
	}
	return a.hub.Noted(ctx, Platform, id, m)
}

// HandOver implements channels.HandOverer: when the assistant hands a
// conversation to a person and a live-chat app is configured, the thread
// goes to it; without one the person is the bank's staff inbox, and the
// bank keeps the thread.
func (a *Adapter) HandOver(ctx context.Context, user string) error {
	if a.c.LiveChatAppID == "" {
		return nil
	}
	return a.PassThreadControl(ctx, user, a.c.LiveChatAppID, "handed over by the bank's assistant")
}

// PassThreadControl passes user's thread to the app targetAppID
// (POST /me/pass_thread_control).
func (a *Adapter) PassThreadControl(ctx context.Context, user, targetAppID, metadata string) error {
	body, _ := json.Marshal(map[string]any{"recipient": Recipient{ID: user}, "target_app_id": targetAppID, "metadata": clip(metadata, 1000)})
	return a.call(ctx, "/me/pass_thread_control", body)
}

// TakeThreadControl takes user's thread back from whichever app owns it
// (POST /me/take_thread_control): the primary receiver's privilege.
func (a *Adapter) TakeThreadControl(ctx context.Context, user, metadata string) error {
	body, _ := json.Marshal(map[string]any{"recipient": Recipient{ID: user}, "metadata": clip(metadata, 1000)})
	return a.call(ctx, "/me/take_thread_control", body)
}

var _ channels.HandOverer = (*Adapter)(nil)
