package audit

import (
	"bytes"
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
