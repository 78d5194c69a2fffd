package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWriterLines(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.Record(Event{EventTime: time.Date(2026, 11, 22, 13, 28, 57, 123, time.UTC), EventSource: "rolesanywhere.amazonaws.com",
				EventName: "CreateSession", ErrorCode: "AccessDeniedException", ErrorMessage: "Untrusted signing certificate",
				RequestID: "r", AdditionalEventData: map[string]any{"reason": "chain.revoked"}})
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 50 {
		t.Fatalf("got %d lines", len(lines))
	}
	var e map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatal(err)
	}
	if e["eventTime"] != "2026-11-22T13:28:57Z" || e["eventVersion"] != "1.08" || e["eventType"] != "AwsApiCall" {
		t.Fatalf("bad defaults: %v", e)
	}
	if e["additionalEventData"].(map[string]any)["reason"] != "chain.revoked" {
		t.Fatalf("reason lost: %v", e)
	}
}

func TestBufferedWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewBufferedWriter(&buf)
	w.Record(Event{EventName: "CreateSession"})
	if buf.Len() != 0 {
		t.Fatal("buffered writer wrote before Flush")
	}
	w.Flush()
	if !strings.Contains(buf.String(), `"eventName":"CreateSession"`) {
		t.Fatalf("after Flush: %q", buf.String())
	}
	// Past the limit it writes without waiting for a flush.
	for buf.Len() == len(`{}`) || buf.Len() < bufferLimit {
		w.Record(Event{EventName: strings.Repeat("x", 1000)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w.Record(Event{EventName: "last"})
	w.Run(ctx, time.Hour) // flushes on the way out
	if !strings.Contains(buf.String(), `"eventName":"last"`) {
		t.Fatal("Run did not flush on exit")
	}
}
