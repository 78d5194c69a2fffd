package ca

import (
	"encoding/json"
	"time"
)

// marshalIssued encodes rec as json.Marshal does, byte for byte. Every
// issuance stores one, and encoding/json's reflection costs as much as
// a good part of the rest of the record's way to the store; so the
// common record (ASCII text, times json.Marshal can write) is written
// directly, and anything else is left to json.Marshal.
// TestMarshalIssuedMatchesJSON holds the two to the same bytes.
func marshalIssued(rec *IssuedCertificate) ([]byte, error) {
	b := make([]byte, 0, 400+len(rec.Arn)+len(rec.CertificateAuthorityArn)+len(rec.Subject)+len(rec.TemplateArn)+len(rec.CertificatePEM)*18/16)
	ok := true
	field := func(name string) {
		if len(b) == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	str := func(name, v string) {
		field(name)
		b, ok = appendJSONString(b, v, ok)
	}
	tm := func(name string, t time.Time) {
		field(name)
		b, ok = appendJSONTime(b, t, ok)
	}
	str("certificateArn", rec.Arn)
	str("certificateAuthorityArn", rec.CertificateAuthorityArn)
	str("serial", rec.Serial)
	str("subject", rec.Subject)
	tm("notBefore", rec.NotBefore)
	tm("notAfter", rec.NotAfter)
	tm("issuedAt", rec.IssuedAt)
	str("templateArn", rec.TemplateArn)
	str("status", rec.Status)
	if rec.RevokedAt != nil {
		tm("revokedAt", *rec.RevokedAt)
	}
	if rec.RevocationReason != "" {
		str("revocationReason", rec.RevocationReason)
	}
	str("certificatePem", rec.CertificatePEM)
	if !ok {
		return json.Marshal(rec)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as a JSON string as encoding/json writes it
// (with its HTML escaping), if s is printable ASCII and newlines; ok
// false (or ok already false) means it did not, and b is not to be used.
func appendJSONString(b []byte, s string, ok bool) ([]byte, bool) {
	if !ok {
		return b, false
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c < ' ' || c > '~' || c == '<' || c == '>' || c == '&':
			// Other escapes, HTML-safe forms and UTF-8 handling are
			// encoding/json's business.
			return b, false
		default:
			b = append(b, c)
		}
	}
	return append(b, '"'), true
}

// appendJSONTime appends t as time.Time's MarshalJSON writes it (RFC 3339
// with nanoseconds, quoted), for the times it can write: years 0 to 9999
// and zone offsets under a day.
func appendJSONTime(b []byte, t time.Time, ok bool) ([]byte, bool) {
	_, offset := t.Zone()
	if y := t.Year(); !ok || y < 0 || y > 9999 || offset <= -24*60*60 || offset >= 24*60*60 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}
