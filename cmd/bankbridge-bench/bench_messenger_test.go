package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBenchMessengerSmall runs both scenarios with a few users: every
// message answered, one JSON object per scenario.
func TestBenchMessengerSmall(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := run(context.Background(), []string{"bankbridge-bench", "messenger", "--json", "--users", "25", "--messages", "30", "--rounds", "2"},
		func(string) string { return "" }, nil, &out, io.Discard)
	if err != nil {
		t.Fatalf("bench messenger: %v\n%s", err, out.String())
	}
	type row struct {
		Name          string `json:"name"`
		Engine        string `json:"engine"`
		Conversations int    `json:"conversations"`
		Messages      int    `json:"messages"`
		Errors        int    `json:"errors"`
	}
	var got []row
	var p99s []float64
	dec := json.NewDecoder(&out)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(m)
		var r row
		json.Unmarshal(b, &r)
		got = append(got, r)
		p, _ := m["p99_ms"].(float64)
		a, _ := m["webhook_ack_p99_ms"].(float64)
		p99s = append(p99s, p, a)
	}
	want := []row{
		{Name: "latency", Engine: "sqlite", Conversations: 25, Messages: 30},
		{Name: "concurrent", Engine: "sqlite", Conversations: 25, Messages: 50},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bench messenger JSON (-want +got):\n%s", diff)
	}
	for i, p := range p99s {
		if p <= 0 {
			t.Errorf("scenario %d: p99 %v (p99_ms, then webhook_ack_p99_ms), want a measured latency", i/2, p)
		}
	}
}

func TestBenchMessengerRejectsBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--users", "0"}, {"--rounds", "0"}, {"--messages", "0"}, {"--timeout", "0s"}} {
		err := run(context.Background(), append([]string{"bankbridge-bench", "messenger"}, args...), func(string) string { return "" }, nil, io.Discard, io.Discard)
		if err == nil {
			t.Errorf("bench messenger %v: no error", args)
		}
	}
}
