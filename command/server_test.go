package command

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/ca/pkcs11/softhsmtest"
	"github.com/iamra/iamra/devmode"
	"github.com/iamra/iamra/store"
	_ "github.com/iamra/iamra/store/sqlite"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// `iamra server --dev` with --ca-pkcs11-* makes the dev CA's key in the
// token, and the demo certificate is issued with it.
func TestServerCAKeysInPKCS11(t *testing.T) {
	tok := softhsmtest.New(t, "iamra-ca")
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte(tok.PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"iamra", "server", "--dev", "--data-dir", data, "--listen", "127.0.0.1:0",
			"--ca-pkcs11-module", tok.Module, "--ca-pkcs11-token", tok.Label, "--ca-pkcs11-pin-file", pinFile}, nil, &stdout, &stderr)
	}()
	statePath := filepath.Join(data, "dev", "state.json")
	for {
		if _, err := os.Stat(filepath.Join(data, "dev.env")); err == nil {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("server exited %d: %s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("server exited %d: %s", code, stderr.String())
	}
	var info devmode.Info
	b, err := os.ReadFile(statePath)
	if err != nil || json.Unmarshal(b, &info) != nil || info.CAArn == "" {
		t.Fatalf("dev state %s: %v", b, err)
	}
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(data, "iamra.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, _ := arn.Parse(info.CAArn)
	err = st.View(context.Background(), func(tx store.Tx) error {
		auth, _, err := store.Get[ca.Authority](tx, store.KindCA, a.ResourceName())
		if err != nil {
			return err
		}
		if auth.Key.Store != "pkcs11" || len(auth.Key.Sealed) != 0 {
			t.Errorf("dev CA key is in %q (sealed %d bytes), want the PKCS#11 token", auth.Key.Store, len(auth.Key.Sealed))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "iamra is running in development mode") {
		t.Errorf("no banner: %s", stdout.String())
	}
}
