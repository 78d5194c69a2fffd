package ca

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"testing"
	"time"
)

// TestMarshalIssuedMatchesJSON compares marshalIssued with json.Marshal
// on records with text that needs escaping (and text that only
// encoding/json escapes), odd and unencodable times, and the optional
// fields set and not.
func TestMarshalIssuedMatchesJSON(t *testing.T) {
	texts := []string{"", "CN=client,O=Example", `CN=a\, b+OU=c "q"`, "line\nbreak", "tab\there", "<html> & co",
		"CN=Ünïcode", "bad utf-8 \xff", "\u2028", "ctl \x01\x7f", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
	times := []time.Time{{}, t0, t0.Add(123456789), t0.In(time.FixedZone("odd", -(3*3600 + 30*60 + 15))),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), t0.In(time.FixedZone("far", 24*3600)), t0.In(time.FixedZone("near", 23*3600+59*60)),
		t0.Local()}
	r := mrand.New(mrand.NewPCG(1, 2))
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	for i := range 2000 {
		rec := IssuedCertificate{Arn: pick(texts), CertificateAuthorityArn: pick(texts), Serial: pick(texts), Subject: pick(texts),
			NotBefore: times[r.IntN(len(times))], NotAfter: times[r.IntN(len(times))], IssuedAt: times[r.IntN(len(times))],
			TemplateArn: pick(texts), Status: pick(texts), CertificatePEM: pick(texts)}
		if i%3 == 0 {
			at := times[r.IntN(len(times))]
			rec.RevokedAt, rec.RevocationReason = &at, pick(texts)
		}
		want, wantErr := json.Marshal(rec)
		got, err := marshalIssued(&rec)
		if !bytes.Equal(got, want) || (err == nil) != (wantErr == nil) {
			t.Fatalf("record %+v\nmarshalIssued %s (%v)\njson.Marshal  %s (%v)", rec, got, err, want, wantErr)
		}
	}
}

// TestCertificatePEM compares certificatePEM with pem.EncodeToMemory for
// every length around the line boundaries.
func TestCertificatePEM(t *testing.T) {
	der := make([]byte, 200)
	if _, err := rand.Read(der); err != nil {
		t.Fatal(err)
	}
	for n := range len(der) {
		want := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der[:n]})
		if got := certificatePEM(der[:n]); got != string(want) {
			t.Fatalf("%d bytes: %q, pem.EncodeToMemory %q", n, got, want)
		}
	}
}

func TestSerialHex(t *testing.T) {
	for _, n := range []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(-255), new(big.Int).Lsh(big.NewInt(1), 127),
		new(big.Int).Lsh(big.NewInt(1), 128), new(big.Int).Lsh(big.NewInt(3), 200)} {
		if got, want := serialHex(n), fmt.Sprintf("%032x", n); got != want {
			t.Errorf("serialHex(%v) = %s, want %s", n, got, want)
		}
	}
}

// BenchmarkMarshalIssued encodes a typical record with marshalIssued and
// reports the cost as a multiple of json.Marshal's, measured in the same
// run ("x-json").
func BenchmarkMarshalIssued(b *testing.B) {
	root, _ := mustRoot(b)
	arn := "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555"
	rec := IssuedCertificate{Arn: arn + "/certificate/0193a1b2c3d4e5f60718293a4b5c6d7e", CertificateAuthorityArn: arn,
		Serial: "0193a1b2c3d4e5f60718293a4b5c6d7e", Subject: "CN=bench", NotBefore: t0, NotAfter: t0.Add(24 * time.Hour), IssuedAt: t0,
		TemplateArn: "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1", Status: CertificateIssued,
		CertificatePEM: encodePEM(root)}
	benchAgainst(b, "x-json", func() error {
		_, err := json.Marshal(rec)
		return err
	}, func() error {
		_, err := marshalIssued(&rec)
		return err
	})
}
