package ca

import (
	"bytes"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// TestDERWriterMatchesCryptobyte writes the same elements with derWriter
// and cryptobyte.Builder, the encoder derWriter replaced: lengths around
// every boundary of the length encoding, nested, and each kind of value.
func TestDERWriterMatchesCryptobyte(t *testing.T) {
	check := func(name string, ours func(w *derWriter), theirs cryptobyte.BuilderContinuation) {
		t.Helper()
		var w derWriter
		ours(&w)
		var b cryptobyte.Builder
		theirs(&b)
		want, err := b.Bytes()
		if (w.err == nil) != (err == nil) || !bytes.Equal(w.b, want) {
			t.Errorf("%s: derWriter %x (%v), cryptobyte %x (%v)", name, w.b, w.err, want, err)
		}
	}
	for _, n := range []int{0, 1, 127, 128, 255, 256, 0xffff, 0x10000, 0x12345} {
		content := bytes.Repeat([]byte{0xab}, n)
		check("element", func(w *derWriter) { w.element(cbasn1.OCTET_STRING, content) },
			func(b *cryptobyte.Builder) { b.AddASN1OctetString(content) })
		check("nested", func(w *derWriter) {
			outer := w.begin(cbasn1.SEQUENCE)
			inner := w.begin(cbasn1.SET)
			w.raw(content)
			w.end(inner)
			w.stringElement(cbasn1.UTF8String, "after")
			w.end(outer)
		}, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(content) })
				b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte("after")) })
			})
		})
		check("bit string", func(w *derWriter) { w.bitString(content) }, func(b *cryptobyte.Builder) { b.AddASN1BitString(content) })
	}
	for _, v := range []int64{0, 1, 127, 128, 255, 256, -1, -128, -129, 1 << 40, -1 << 63, 1<<63 - 1} {
		check("int64", func(w *derWriter) { w.int64(v) }, func(b *cryptobyte.Builder) { b.AddASN1Int64(v) })
	}
	for _, v := range []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(127), big.NewInt(128), big.NewInt(255), big.NewInt(256),
		new(big.Int).Lsh(big.NewInt(1), 127), new(big.Int).Lsh(big.NewInt(1), 159), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 160), big.NewInt(1))} {
		check("bigInt", func(w *derWriter) { w.bigInt(v) }, func(b *cryptobyte.Builder) { b.AddASN1BigInt(v) })
	}
	for _, oid := range []asn1.ObjectIdentifier{{2, 5, 29, 17}, {1, 2, 840, 113549, 1, 1, 11}, {2, 999, 1 << 30}, {0, 39}, {1, 40}, {3, 1}, {1}, {1, 2, -3}} {
		check("oid", func(w *derWriter) { w.oid(oid) }, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
	}
	for _, tm := range []time.Time{t0, time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1949, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)} {
		check("utc time", func(w *derWriter) { w.time(tm, false) }, func(b *cryptobyte.Builder) { b.AddASN1UTCTime(tm) })
		check("generalized time", func(w *derWriter) { w.time(tm, true) }, func(b *cryptobyte.Builder) { b.AddASN1GeneralizedTime(tm) })
	}
	check("boolean", func(w *derWriter) { w.boolean() }, func(b *cryptobyte.Builder) { b.AddASN1Boolean(true) })
}
