package kek

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/iamra/iamra/atomicfile"
)

// counter is a deterministic "random" source for tests.
type counter byte

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		*c++
		p[i] = byte(*c)
	}
	return len(p), nil
}

func TestSealOpen(t *testing.T) {
	var c counter
	k, err := Generate(&c)
	if err != nil {
		t.Fatal(err)
	}
	ad := []byte("ca-key/1")
	sealed, err := k.Seal([]byte("secret"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != len("secret")+Overhead {
		t.Fatalf("sealed length %d, want %d", len(sealed), len("secret")+Overhead)
	}
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatal("plaintext visible in envelope")
	}
	got, err := k.Open(sealed, ad)
	if err != nil || string(got) != "secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Two seals of the same plaintext differ (fresh nonce).
	again, _ := k.Seal([]byte("secret"), ad)
	if bytes.Equal(again, sealed) {
		t.Fatal("nonce reused")
	}
}

func TestOpenErrors(t *testing.T) {
	k, _ := Generate(nil)
	other, _ := Generate(nil)
	ad := []byte("token-keyring")
	sealed, _ := k.Seal([]byte("ring"), ad)

	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	tests := []struct {
		name   string
		k      *KEK
		sealed []byte
		ad     []byte
		want   error
		text   string
	}{
		{"other key", other, sealed, ad, ErrWrongKey, fmt.Sprintf("kek: data was sealed with a different key-encryption key (sealed with kek:%08x, this is kek:%08x)", k.ID(), other.ID())},
		{"other purpose", k, sealed, []byte("ca-key"), ErrCorrupt, "kek: sealed data is corrupt or was sealed for another purpose"},
		{"flipped ciphertext", k, flip(len(sealed) - 1), ad, ErrCorrupt, ""},
		{"flipped nonce", k, flip(headerSize), ad, ErrCorrupt, ""},
		{"truncated", k, sealed[:Overhead-1], ad, ErrCorrupt, ""},
		{"empty", k, nil, ad, ErrCorrupt, ""},
		{"version", k, flip(0), ad, nil, "kek: unsupported envelope version 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.k.Open(tt.sealed, tt.ad)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.text != "" && err.Error() != tt.text {
				t.Fatalf("err = %q, want %q", err, tt.text)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	k, _ := Generate(nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "kek")
	if err := atomicfile.WriteFile(path, k.Export(), 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := k.Seal([]byte("x"), nil)
	if got, err := loaded.Open(sealed, nil); err != nil || string(got) != "x" {
		t.Fatalf("loaded key cannot open: %v", err)
	}
	if loaded.ID() != k.ID() {
		t.Fatal("key id differs")
	}
	// 0400 is as good as 0600.
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("0400: %v", err)
	}
}

func TestLoadRefusesWideModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	k, _ := Generate(nil)
	path := filepath.Join(t.TempDir(), "kek")
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o660} {
		if err := atomicfile.WriteFile(path, k.Export(), mode); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		want := fmt.Sprintf("kek: key file %s has mode %#o and is accessible by group or others; run: chmod 600 %s", path, mode, path)
		if err == nil || err.Error() != want {
			t.Fatalf("mode %#o: err = %v, want %q", mode, err, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "kek: key is empty; generate one with: openssl rand -base64 32"},
		{"  \n", "kek: key is empty; generate one with: openssl rand -base64 32"},
		{"not base64!", "kek: key is not valid base64; generate one with: openssl rand -base64 32"},
		{"AAAA", "kek: key decodes to 3 bytes, want 32; generate one with: openssl rand -base64 32"},
		// 64 hex characters are valid base64 but decode to 48 bytes.
		{strings.Repeat("ab", 32), "kek: key decodes to 48 bytes, want 32; generate one with: openssl rand -base64 32"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
	if _, err := Parse([]byte("\t" + strings.Repeat("A", 43) + "=\r\n")); err != nil {
		t.Fatalf("white space around the key must be accepted: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := Load(dir); err == nil || err.Error() != "kek: "+dir+" is not a regular file" {
		t.Fatalf("directory: %v", err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("zz"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "kek: key is not valid base64; generate one with: openssl rand -base64 32 (file " + bad + ")"
	if _, err := Load(bad); err == nil || err.Error() != want {
		t.Fatalf("bad file: %v", err)
	}
}

func TestFromEnv(t *testing.T) {
	k, _ := Generate(nil)
	t.Setenv("IAMRA_TEST_KEK", string(k.Export()))
	got, err := FromEnv("IAMRA_TEST_KEK")
	if err != nil || got.ID() != k.ID() {
		t.Fatalf("FromEnv: %v", err)
	}
	if _, err := FromEnv("IAMRA_TEST_KEK_UNSET"); err == nil || err.Error() != "kek: environment variable IAMRA_TEST_KEK_UNSET is not set" {
		t.Fatalf("unset: %v", err)
	}
	t.Setenv("IAMRA_TEST_KEK", "short")
	if _, err := FromEnv("IAMRA_TEST_KEK"); err == nil || !strings.HasSuffix(err.Error(), "(environment variable IAMRA_TEST_KEK)") {
		t.Fatalf("bad value: %v", err)
	}
}

func TestPrintingDoesNotLeak(t *testing.T) {
	k, _ := Generate(nil)
	secret := strings.TrimSpace(string(k.Export()))
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k), fmt.Sprintf("%v", *k), fmt.Sprintf("%#v", *k)} {
		if strings.Contains(s, secret) || s != fmt.Sprintf("kek:%08x", k.ID()) {
			t.Fatalf("printed %q", s)
		}
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(make([]byte, 16), nil); err == nil || err.Error() != "kek: key is 16 bytes, want 32" {
		t.Fatalf("err = %v", err)
	}
	if _, err := Generate(bytes.NewReader(nil)); err == nil {
		t.Fatal("Generate with an empty random source must fail")
	}
	k, _ := Generate(rand.Reader)
	if _, err := k.WithRand(bytes.NewReader(nil)).Seal([]byte("x"), nil); err == nil {
		t.Fatal("Seal with an empty random source must fail")
	}
}

// FuzzOpen feeds arbitrary envelopes to Open: it must return an error, never
// panic, and never accept data it did not seal.
func FuzzOpen(f *testing.F) {
	var c counter
	k, _ := Generate(&c)
	sealed, _ := k.Seal([]byte("seed"), []byte("ad"))
	f.Add(sealed, []byte("ad"))
	f.Add([]byte{1, 0, 0, 0, 0}, []byte(nil))
	f.Add([]byte{}, []byte("x"))
	f.Fuzz(func(t *testing.T, data, ad []byte) {
		pt, err := k.Open(data, ad)
		if err == nil && !(bytes.Equal(data, sealed) && string(ad) == "ad" && string(pt) == "seed") {
			t.Fatalf("Open accepted forged data %x", data)
		}
	})
}
