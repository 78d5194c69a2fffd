package credentials

import (
	"encoding/binary"
	"math"
	"reflect"
	"testing"
)

func TestUvarintMatchesEncodingBinary(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 300, 1<<35 + 7, math.MaxUint32, math.MaxUint64 - 1, math.MaxUint64} {
		d := &decoder{b: string(binary.AppendUvarint(nil, v)) + "rest"}
		if got := d.uvarint(); got != v || d.err != nil || d.b != "rest" {
			t.Fatalf("uvarint(%d) = %d, %v, rest %q", v, got, d.err, d.b)
		}
	}
	for _, bad := range []string{"", "\x80", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"} {
		d := &decoder{b: bad}
		if d.uvarint(); d.err == nil {
			t.Fatalf("uvarint(%q) accepted", bad)
		}
		if _, n := binary.Uvarint([]byte(bad)); n > 0 {
			t.Fatalf("encoding/binary accepts %q", bad)
		}
	}
}

// FuzzOpen feeds arbitrary tokens and access key ids to Open: it must
// return an error, never panic, and never accept a token it did not mint.
func FuzzOpen(f *testing.F) {
	var seed counter
	kr, err := NewKeyRing(t0, &seed)
	if err != nil {
		f.Fatal(err)
	}
	c, err := Mint(typicalSession(), kr, &seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.SessionToken, c.AccessKeyID)
	f.Add(c.SessionToken[:len(c.SessionToken)/2], c.AccessKeyID)
	f.Add("", "")
	f.Add("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "ASIAAAAAAAAAAAAAAAAA")
	f.Add("IQoJb3JpZ2luX2VjEDQaCXVzLWVhc3QtMSJH", "ASIAIOSFODNN7EXAMPLE")
	f.Fuzz(func(t *testing.T, token, akid string) {
		s, err := Open(token, akid, kr, t0)
		if err == nil && (token != c.SessionToken || akid != c.AccessKeyID || s.SecretAccessKey != c.SecretAccessKey) {
			t.Fatalf("Open accepted a forged token %q for %q", token, akid)
		}
	})
}

// FuzzParseSession checks the plaintext decoder on arbitrary bytes (only
// key holders can make Open reach it, but a bug there must not panic).
func FuzzParseSession(f *testing.F) {
	s := typicalSession()
	f.Add(appendSession(nil, &s))
	f.Add([]byte{0})
	f.Add([]byte{0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseSession(b)
		if err != nil {
			return
		}
		// Whatever decodes survives a re-encoding unchanged.
		again, err := parseSession(appendSession(nil, &got))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("re-encoding %x: %v\n%+v\n%+v", b, err, again, got)
		}
	})
}

// counter is a deterministic random source, so the seed token is stable.
type counter byte

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		*c++
		p[i] = byte(*c)
	}
	return len(p), nil
}
