package ca

import (
	"encoding/json"
	"time"

	"github.com/iamra/iamra/audit"
)

// marshalIssued encodes rec as json.Marshal does, byte for byte. Every
// issuance stores one, and encoding/json's reflection costs as much as
// a good part of the rest of the record's way to the store; so the record
// is written directly, with the string encoder the audit log uses, and a
// time json.Marshal would refuse is left to json.Marshal (for its error).
// TestMarshalIssuedMatchesJSON holds the two to the same bytes.
func marshalIssued(rec *IssuedCertificate) ([]byte, error) {
	e := jsonObject{b: make([]byte, 0, 320+len(rec.Arn)+len(rec.CertificateAuthorityArn)+len(rec.Subject)+len(rec.TemplateArn)+
		len(rec.CertificatePEM)+len(rec.CertificatePEM)/64)}
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
	if e.failed {
		return json.Marshal(rec)
	}
	return append(e.b, '}'), nil
}

// jsonObject writes a JSON object's members as encoding/json does, or
// notes (failed) a value it cannot write.
type jsonObject struct {
	b      []byte
	failed bool
}

// str writes key (with its punctuation) and s as a JSON string.
func (e *jsonObject) str(key, s string) {
	e.b = audit.AppendJSONString(append(e.b, key...), s)
}

// time writes key and t as time.Time's MarshalJSON writes it; a time it
// refuses (a year beyond 9999, a zone offset of a day or more) fails the
// object.
func (e *jsonObject) time(key string, t time.Time) {
	b, err := t.AppendText(append(append(e.b, key...), '"'))
	if err != nil {
		e.failed = true
		return
	}
	e.b = append(b, '"')
}
