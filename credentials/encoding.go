package credentials

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/iamra/iamra/sts"
)

// The sealed plaintext, version 1, in order:
//
//	principal kind            1 byte
//	issued at                 uvarint, Unix seconds
//	lifetime                  uvarint, seconds until expiration
//	secret access key         string
//	role ARN, role id         string, string
//	role session name         string
//	source identity           string
//	session policy            string
//	issuer                    string
//	certificate serial        string
//	tags                      uvarint count, then key and value strings
//	transitive tag keys       uvarint count, then strings
//	policy ARNs               uvarint count, then strings
//
// A string is a uvarint length and the bytes. The access key id is not
// stored: it is the associated data, supplied by the request.

func appendSession(b []byte, s *Session) []byte {
	b = append(b, byte(s.Principal))
	b = binary.AppendUvarint(b, uint64(s.IssuedAt.Unix()))
	b = binary.AppendUvarint(b, uint64(s.Expiration.Unix()-s.IssuedAt.Unix()))
	for _, str := range [...]string{s.SecretAccessKey, s.RoleArn, s.RoleID, s.RoleSessionName,
		s.SourceIdentity, s.SessionPolicy, s.Issuer, s.CertificateSerial} {
		b = appendString(b, str)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Tags)))
	for _, t := range s.Tags {
		b = appendString(appendString(b, t.Key), t.Value)
	}
	b = appendStrings(b, s.TransitiveTagKeys)
	return appendStrings(b, s.PolicyArns)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

var errTruncated = errors.New("truncated session record")

// decoder reads the plaintext; the first error sticks and later reads
// return zero values, so parseSession checks once at the end. It works on
// one string copy of the plaintext, so the session's strings share it
// instead of costing an allocation each.
type decoder struct {
	b   string
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	for i := 0; i < len(d.b) && i < binary.MaxVarintLen64; i++ {
		c := d.b[i]
		if i == binary.MaxVarintLen64-1 && c > 1 {
			break // overflows 64 bits
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.b = d.b[i+1:]
			return v
		}
	}
	d.err = errTruncated
	return 0
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errTruncated
		return ""
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

// count reads a list length, bounded by the bytes left (every element
// takes at least one), so a corrupt count cannot force a huge allocation.
func (d *decoder) count(per int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/per) {
		d.err = errTruncated
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

func (d *decoder) strings() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.string()
	}
	return out
}

func parseSession(b []byte) (Session, error) {
	if len(b) == 0 {
		return Session{}, errTruncated
	}
	var s Session
	s.Principal = PrincipalKind(b[0])
	d := &decoder{b: string(b[1:])}
	iat := d.uvarint()
	life := d.uvarint()
	if d.err == nil && (iat > 1<<40 || life > uint64(MaxSessionDuration/time.Second)) {
		return Session{}, errors.New("session times out of range")
	}
	s.IssuedAt = time.Unix(int64(iat), 0).UTC()
	s.Expiration = time.Unix(int64(iat+life), 0).UTC()
	for _, p := range [...]*string{&s.SecretAccessKey, &s.RoleArn, &s.RoleID, &s.RoleSessionName,
		&s.SourceIdentity, &s.SessionPolicy, &s.Issuer, &s.CertificateSerial} {
		*p = d.string()
	}
	if n := d.count(2); n > 0 {
		s.Tags = make([]sts.Tag, n)
		for i := range s.Tags {
			s.Tags[i] = sts.Tag{Key: d.string(), Value: d.string()}
		}
	}
	s.TransitiveTagKeys = d.strings()
	s.PolicyArns = d.strings()
	if d.err != nil {
		return Session{}, d.err
	}
	if len(d.b) != 0 {
		return Session{}, errors.New("trailing bytes after session record")
	}
	return s, nil
}
