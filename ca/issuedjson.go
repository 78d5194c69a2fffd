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
	e := jsonObject{b: make([]byte, 0, 320+len(rec.Arn)+len(rec.CertificateAuthorityArn)+len(rec.Subject)+len(rec.TemplateArn)+
		len(rec.CertificatePEM)+len(rec.CertificatePEM)/64), ok: true}
	e.str(`{"certificateArn":`, rec.Arn)
	e.str(`,"certificateAuthorityArn":`, rec.CertificateAuthorityArn)
	e.str(`,"serial":`, rec.Serial)
	e.str(`,"subject":`, rec.Subject)
	e.time(`,"notBefore":`, rec.NotBefore)
	e.time(`,"notAfter":`, rec.NotAfter)
	e.time(`,"issuedAt":`, rec.IssuedAt)
	e.str(`,"templateArn":`, rec.TemplateArn)
	e.str(`,"status":`, rec.Status)
	if rec.RevokedAt != nil {
		e.time(`,"revokedAt":`, *rec.RevokedAt)
	}
	if rec.RevocationReason != "" {
		e.str(`,"revocationReason":`, rec.RevocationReason)
	}
	e.str(`,"certificatePem":`, rec.CertificatePEM)
	if !e.ok {
		return json.Marshal(rec)
	}
	return append(e.b, '}'), nil
}

// jsonObject writes a JSON object's members as encoding/json does, or
// gives up (ok false) on what it leaves to encoding/json.
type jsonObject struct {
	b  []byte
	ok bool
}

// str writes key (with its punctuation) and s as a JSON string as
// encoding/json writes it, with its HTML escaping, if s is printable
// ASCII and newlines.
func (e *jsonObject) str(key, s string) {
	if !e.ok {
		return
	}
	e.b = append(e.b, key...)
	e.b = append(e.b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if jsonPlain[c] {
			continue
		}
		e.b = append(e.b, s[start:i]...)
		start = i + 1
		switch c {
		case '"', '\\':
			e.b = append(e.b, '\\', c)
		case '\n':
			e.b = append(e.b, '\\', 'n')
		default:
			// Other escapes, HTML-safe forms and UTF-8 handling are
			// encoding/json's business.
			e.ok = false
			return
		}
	}
	e.b = append(e.b, s[start:]...)
	e.b = append(e.b, '"')
}

// jsonPlain holds the bytes encoding/json writes as they are: printable
// ASCII but for the quote, the backslash and the HTML-sensitive <, > and &.
var jsonPlain = func() (plain [256]bool) {
	for c := ' '; c <= '~'; c++ {
		plain[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return plain
}()

// time writes key and t as time.Time's MarshalJSON writes it (RFC 3339
// with nanoseconds, quoted), for the times it can write: years 0 to 9999
// and zone offsets under a day.
func (e *jsonObject) time(key string, t time.Time) {
	_, offset := t.Zone()
	if y := t.Year(); !e.ok || y < 0 || y > 9999 || offset <= -24*60*60 || offset >= 24*60*60 {
		e.ok = false
		return
	}
	e.b = append(e.b, key...)
	e.b = append(e.b, '"')
	e.b = t.AppendFormat(e.b, time.RFC3339Nano)
	e.b = append(e.b, '"')
}
