package acmpca

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/iamra/iamra/ca"
)

// decodeIssueFast reads an IssueCertificate body of the shape the AWS
// SDKs and the CLI send, in one pass, and returns the input and the audit
// parameters: what restjson.Unmarshal and auditParams make of the same
// body. It handles only a strict subset of JSON and of the input shape:
// an object whose members are CertificateAuthorityArn, SigningAlgorithm,
// TemplateArn and IdempotencyToken (strings), Csr (a base64 string) and
// Validity and ValidityNotBefore (objects of Type, a string, and Value, an
// integer), each at most once and spelled exactly, strings without
// escapes, control characters or invalid UTF-8, and JSON whitespace only
// between tokens. On anything else — another member (ApiPassthrough, an
// unknown or differently cased one), a duplicate, null, another type, a
// number that is not an int64, invalid base64, data after the object — it
// declines (ok false) and the caller decodes with restjson.Unmarshal, so
// every error a client can see comes from there unchanged.
// FuzzIssueFastPath holds it to that.
func decodeIssueFast(body []byte) (in issueInput, params json.RawMessage, ok bool) {
	p := issueParser{jsonWalker: jsonWalker{b: body}}
	if !p.parse() {
		return issueInput{}, nil, false
	}
	in, params = p.result()
	return in, params, true
}

// The members decodeIssueFast handles, as bits of issueParser.seen.
const (
	fCA = iota
	fCsr
	fAlg
	fTemplate
	fToken
	fValidity
	fNotBefore
	nFields
)

// span is [start, end) in the body.
type span struct{ start, end int }

type issueParser struct {
	jsonWalker // space and eat; str is issueParser's own, stricter
	seen       uint
	// members in body order: the key (quotes included) and the value's
	// text, for the audit parameters.
	order [nFields]struct {
		field    int
		key, val span
	}
	n int
	// strs are the string members' contents (quotes excluded); for
	// fValidity and fNotBefore, their Type.
	strs      [nFields]span
	value     [nFields]int64 // Validity and ValidityNotBefore's Value
	hasType   [nFields]bool
	hasValue  [nFields]bool
	csr       []byte
	csrLength int // characters of the Csr's text
}

// str reads a string with no escapes, no control characters and valid
// UTF-8 (so that its JSON value is its text) and returns its text.
func (p *issueParser) str() (span, bool) {
	if !p.eat('"') {
		return span{}, false
	}
	start := p.i
	ascii := true
	for ; p.i < len(p.b); p.i++ {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := span{start, p.i}
			p.i++
			if !ascii && !utf8.Valid(p.b[s.start:s.end]) {
				return span{}, false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return span{}, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return span{}, false
}

// int64 reads an integer in JSON's grammar (no fraction or exponent) that
// fits in an int64, as strconv.ParseInt would give it.
func (p *issueParser) int64() (int64, bool) {
	neg := p.eat('-')
	start := p.i
	var u uint64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		if p.i-start >= 19 { // 20 digits do not fit
			return 0, false
		}
		u = u*10 + uint64(p.b[p.i]-'0')
		p.i++
	}
	switch {
	case p.i == start, p.b[start] == '0' && p.i-start > 1: // no digits, or a leading zero
		return 0, false
	case !neg && u > 1<<63-1, neg && u > 1<<63:
		return 0, false
	}
	if neg {
		return int64(-u), true
	}
	return int64(u), true
}

// validity reads a Validity object: Type and Value, each at most once.
func (p *issueParser) validity(f int) bool {
	if !p.eat('{') {
		return false
	}
	p.space()
	if p.eat('}') {
		return true
	}
	for {
		p.space()
		key, ok := p.str()
		if !ok {
			return false
		}
		p.space()
		if !p.eat(':') {
			return false
		}
		p.space()
		switch string(p.b[key.start:key.end]) {
		case "Type":
			if p.hasType[f] {
				return false
			}
			p.hasType[f] = true
			if p.strs[f], ok = p.str(); !ok {
				return false
			}
		case "Value":
			if p.hasValue[f] {
				return false
			}
			p.hasValue[f] = true
			if p.value[f], ok = p.int64(); !ok {
				return false
			}
		default:
			return false
		}
		p.space()
		if p.eat('}') {
			return true
		}
		if !p.eat(',') {
			return false
		}
	}
}

// csrBlob reads the Csr: a string of base64, decoded as encoding/json
// decodes a []byte member.
func (p *issueParser) csrBlob() bool {
	if !p.eat('"') {
		return false
	}
	end := bytes.IndexByte(p.b[p.i:], '"')
	if end < 0 {
		return false
	}
	text := p.b[p.i : p.i+end]
	// base64 skips CR and LF, which JSON does not allow in a string; a
	// backslash is an escape (or an escaped quote ends the string later).
	if bytes.IndexByte(text, '\\') >= 0 || bytes.IndexByte(text, '\n') >= 0 || bytes.IndexByte(text, '\r') >= 0 {
		return false
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(b, text)
	if err != nil {
		return false
	}
	// base64's alphabet is ASCII: the value's length is the text's.
	p.csr, p.csrLength = b[:n], len(text)
	p.i += end + 1
	return true
}

func fieldOf(name []byte) int {
	switch string(name) {
	case "CertificateAuthorityArn":
		return fCA
	case "Csr":
		return fCsr
	case "SigningAlgorithm":
		return fAlg
	case "TemplateArn":
		return fTemplate
	case "IdempotencyToken":
		return fToken
	case "Validity":
		return fValidity
	case "ValidityNotBefore":
		return fNotBefore
	}
	return -1
}

func (p *issueParser) parse() bool {
	p.space()
	if !p.eat('{') {
		return false
	}
	p.space()
	if !p.eat('}') {
		for {
			p.space()
			keyStart := p.i
			key, ok := p.str()
			if !ok {
				return false
			}
			f := fieldOf(p.b[key.start:key.end])
			if f < 0 || p.seen&(1<<f) != 0 {
				return false
			}
			p.seen |= 1 << f
			m := &p.order[p.n]
			p.n++
			m.field, m.key = f, span{keyStart, p.i}
			p.space()
			if !p.eat(':') {
				return false
			}
			p.space()
			m.val.start = p.i
			switch f {
			case fCsr:
				ok = p.csrBlob()
			case fValidity, fNotBefore:
				ok = p.validity(f)
			default:
				p.strs[f], ok = p.str()
			}
			if !ok {
				return false
			}
			m.val.end = p.i
			p.space()
			if p.eat('}') {
				break
			}
			if !p.eat(',') {
				return false
			}
		}
	}
	p.space()
	return p.i == len(p.b)
}

// issueValues holds what the input's pointers point to: one allocation.
type issueValues struct {
	strs     [nFields]string
	validity [2]ca.Validity
}

// result builds the input and the audit parameters from a parse.
func (p *issueParser) result() (issueInput, json.RawMessage) {
	var in issueInput
	in.Csr = p.csr
	// The string members share one allocation of their text.
	size := 0
	for f := range nFields {
		size += p.strs[f].end - p.strs[f].start
	}
	var text strings.Builder
	text.Grow(size)
	for f := range nFields {
		text.Write(p.b[p.strs[f].start:p.strs[f].end])
	}
	all := text.String()
	v := new(issueValues)
	off := 0
	for f := range nFields {
		n := p.strs[f].end - p.strs[f].start
		v.strs[f] = all[off : off+n]
		off += n
	}
	if p.seen&(1<<fCA) != 0 {
		in.CertificateAuthorityArn = &v.strs[fCA]
	}
	if p.seen&(1<<fAlg) != 0 {
		in.SigningAlgorithm = &v.strs[fAlg]
	}
	if p.seen&(1<<fTemplate) != 0 {
		in.TemplateArn = &v.strs[fTemplate]
	}
	if p.seen&(1<<fToken) != 0 {
		in.IdempotencyToken = &v.strs[fToken]
	}
	if p.seen&(1<<fValidity) != 0 {
		v.validity[0] = ca.Validity{Type: v.strs[fValidity], Value: p.value[fValidity]}
		in.Validity = &v.validity[0]
	}
	if p.seen&(1<<fNotBefore) != 0 {
		v.validity[1] = ca.Validity{Type: v.strs[fNotBefore], Value: p.value[fNotBefore]}
		in.ValidityNotBefore = &v.validity[1]
	}

	// The audit parameters, as auditParams writes them: each member's key
	// and value text in body order, the Csr replaced by its length.
	var csrValue [32]byte
	blob := append(strconv.AppendInt(append(csrValue[:0], `"<`...), int64(p.csrLength), 10), ` characters>"`...)
	size = 2
	for k := range p.n {
		m := &p.order[k]
		size += m.key.end - m.key.start + 2
		if m.field == fCsr {
			size += len(blob)
		} else {
			size += m.val.end - m.val.start
		}
	}
	out := make([]byte, 0, size)
	out = append(out, '{')
	for k := range p.n {
		m := &p.order[k]
		if k > 0 {
			out = append(out, ',')
		}
		out = append(append(out, p.b[m.key.start:m.key.end]...), ':')
		if m.field == fCsr {
			out = append(out, blob...)
		} else {
			out = append(out, p.b[m.val.start:m.val.end]...)
		}
	}
	return in, append(out, '}')
}
