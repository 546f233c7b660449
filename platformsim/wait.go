package platformsim

import (
	"context"
	"errors"
	"sync"
	"time"
)

// appendLine adds a line to u's chat and wakes whoever waits on it.
func (s *Sim) appendLine(u *User, l Line) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendLocked(u, l)
}

// appendLocked is appendLine with s.mu held.
func (s *Sim) appendLocked(u *User, l Line) {
	u.Lines = append(u.Lines, l)
	close(u.changed)
	u.changed = make(chan struct{})
}

// WaitReply waits until name's chat has a line from the page (or a
// platform notice) after its first `after` lines, and reports whether one
// came before ctx ended. The bank answers webhooks as soon as it has
// stored them and replies after, as the real platform's apps do: a person
// (or a test) sees the reply a moment after their message is delivered.
func (s *Sim) WaitReply(ctx context.Context, name string, after int) bool {
	u := s.user(name)
	for {
		s.mu.Lock()
		for _, l := range u.Lines[min(after, len(u.Lines)):] {
			if l.FromPage {
				s.mu.Unlock()
				return true
			}
		}
		ch := u.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return false
		case <-ch:
		}
	}
}

// replyWait bounds how long a chat page waits for the bank's reply before
// showing the chat again (the reply then shows on the next refresh).
const replyWait = 10 * time.Second

// SayAndWait is Say, then WaitReply for the page's answer (at most
// replyWait): for tests and tools that read the answer at once.
func (s *Sim) SayAndWait(ctx context.Context, name, text string) error {
	u := s.user(name)
	s.mu.Lock()
	before := len(u.Lines) + 1 // after the person's own line
	s.mu.Unlock()
	if err := s.Say(ctx, name, text); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, replyWait)
	defer cancel()
	if !s.WaitReply(wctx, name, before) {
		return errors.New("platformsim: the bank did not answer " + name + " within " + replyWait.String())
	}
	return nil
}

// grown wakes those waiting for a chat to grow, for the emulators whose
// chats have no channel of their own (Telegram, WhatsApp): one broadcast
// for every chat, each waiter checks its own.
type grown struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next grew; take it before looking
// at the chat, so that no growth between the look and the wait is missed.
func (g *grown) wait() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
	return g.ch
}

// grew wakes every waiter.
func (g *grown) grew() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ch != nil {
		close(g.ch)
		g.ch = nil
	}
}

// WaitReply waits until name's chat has a message from the bot after its
// first `after` lines, and reports whether one came before ctx ended: the
// bank answers webhooks once it has stored them and replies after.
func (s *TelegramSim) WaitReply(ctx context.Context, name string, after int) bool {
	for {
		ch := s.grown.wait()
		c := s.Chat(name)
		for _, l := range c.Lines[min(after, len(c.Lines)):] {
			if l.FromBot {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-ch:
		}
	}
}

// WaitReply waits until name's chat has a message from the bank after its
// first `after` lines, and reports whether one came before ctx ended.
func (s *WhatsAppSim) WaitReply(ctx context.Context, name string, after int) bool {
	for {
		ch := s.grown.wait()
		c := s.Chat(name)
		for _, l := range c.Lines[min(after, len(c.Lines)):] {
			if l.FromBank {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-ch:
		}
	}
}
