package policy

import (
	"strings"
	"unicode/utf8"
)

// partKind is the kind of one piece of a policy string.
type partKind uint8

const (
	pLit  partKind = iota // literal text
	pStar                 // * : any run of characters
	pOne                  // ? : any one character
	pVar                  // ${key} or ${key, 'default'}
)

type part struct {
	kind   partKind
	text   string // literal text, or the variable's key
	def    string // the variable's default
	hasDef bool
}

// tmpl is a policy string (an action, a resource, a condition value)
// split into literals, wildcards and variables once, at Parse time.
// Wildcards are parts rather than characters so that a * produced by the
// ${*} escape or by a variable's value stays a literal.
type tmpl struct {
	raw   string
	parts []part
	vars  bool // has a pVar
	wild  bool // has a pStar or pOne
}

// compileTmpl splits s. Variables are recognised only when vars is set
// (Version 2012-10-17); otherwise ${…} is literal text, as IAM reads
// older documents.
func compileTmpl(s string, vars bool) tmpl {
	t := tmpl{raw: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{kind: pLit, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '*' || c == '?':
			flush()
			k := pStar
			if c == '?' {
				k = pOne
			}
			t.parts = append(t.parts, part{kind: k})
			t.wild = true
			i++
			continue
		case c == '$' && vars && strings.HasPrefix(s[i:], "${"):
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				if p, ok := parseVariable(s[i+2 : i+end]); ok {
					if p.kind == pLit {
						lit.WriteString(p.text)
					} else {
						flush()
						t.parts = append(t.parts, p)
						t.vars = true
					}
					i += end + 1
					continue
				}
			}
		}
		lit.WriteByte(s[i])
		i++
	}
	flush()
	return t
}

// parseVariable reads the inside of ${…}. The escapes ${*} ${?} ${$}
// become literals; a key must look like one (vendor:name) and may carry a
// default, ${key, 'default'}. Anything else is not a variable and stays
// literal text.
func parseVariable(inner string) (part, bool) {
	switch inner {
	case "*", "?", "$":
		return part{kind: pLit, text: inner}, true
	}
	key, def, hasDef := inner, "", false
	if name, rest, ok := strings.Cut(inner, ","); ok {
		rest = strings.TrimSpace(rest)
		if len(rest) < 2 || rest[0] != '\'' || rest[len(rest)-1] != '\'' {
			return part{}, false
		}
		key, def, hasDef = name, rest[1:len(rest)-1], true
	}
	key = strings.TrimSpace(key)
	vendor, name, ok := strings.Cut(key, ":")
	if !ok || vendor == "" || name == "" || strings.ContainsAny(key, " ${}'*?") {
		return part{}, false
	}
	return part{kind: pVar, text: key, def: def, hasDef: hasDef}, true
}

// resolve substitutes variables from ctx. It reports false when a
// variable has neither a single value nor a default: IAM cannot use an
// absent or multivalued key as a variable, and such a value matches
// nothing. missing names the first unresolvable variable.
func (t *tmpl) resolve(ctx map[string][]string) (parts []part, missing string, ok bool) {
	if !t.vars {
		return t.parts, "", true
	}
	parts = make([]part, 0, len(t.parts))
	for _, p := range t.parts {
		if p.kind != pVar {
			parts = append(parts, p)
			continue
		}
		vals := lookup(ctx, p.text)
		switch {
		case len(vals) == 1:
			parts = append(parts, part{kind: pLit, text: vals[0]})
		case p.hasDef:
			parts = append(parts, part{kind: pLit, text: p.def})
		default:
			return nil, p.text, false
		}
	}
	return parts, "", true
}

// literal renders parts as plain text, wildcards as the characters they
// were written as: what the equality operators compare.
func literal(parts []part) string {
	if len(parts) == 1 && parts[0].kind == pLit {
		return parts[0].text
	}
	var b strings.Builder
	for _, p := range parts {
		switch p.kind {
		case pLit:
			b.WriteString(p.text)
		case pStar:
			b.WriteByte('*')
		case pOne:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// glob matches s against parts, * and ? matching any characters. It is the
// classic backtracking matcher: only the most recent * ever needs to grow,
// so it runs in O(len(parts)·len(s)) without allocating.
func glob(parts []part, s string) bool {
	pi, si := 0, 0
	starPi, starSi := -1, 0
	for {
		if pi < len(parts) {
			switch p := parts[pi]; p.kind {
			case pStar:
				starPi, starSi = pi, si
				pi++
				continue
			case pOne:
				if si < len(s) {
					_, w := utf8.DecodeRuneInString(s[si:])
					si += w
					pi++
					continue
				}
			case pLit:
				if strings.HasPrefix(s[si:], p.text) {
					si += len(p.text)
					pi++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starPi < 0 || starSi >= len(s) {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starSi:])
		starSi += w
		pi, si = starPi+1, starSi
	}
}

// matchResource matches an ARN against a Resource pattern. Within the
// first five colon-separated segments * and ? do not match a colon, except
// that a * ending a segment (or the pattern) may run on across colons:
// the IAM User Guide's "Using wildcards in resource ARNs". In the
// resource part, after the fifth colon, they match anything.
func matchResource(parts []part, s string) bool {
	if len(parts) == 1 && parts[0].kind == pLit {
		return parts[0].text == s
	}
	if len(parts) == 1 && parts[0].kind == pStar {
		return true
	}
	// A set of reachable positions in s, advanced part by part (an NFA).
	cur := make([]bool, len(s)+1)
	next := make([]bool, len(s)+1)
	cur[0] = true
	colons := 0
	for i, p := range parts {
		clear(next)
		switch p.kind {
		case pLit:
			for pos, on := range cur {
				if on && strings.HasPrefix(s[pos:], p.text) {
					next[pos+len(p.text)] = true
				}
			}
			colons += strings.Count(p.text, ":")
		case pOne:
			free := colons >= 5
			for pos, on := range cur {
				if on && pos < len(s) {
					r, w := utf8.DecodeRuneInString(s[pos:])
					if free || r != ':' {
						next[pos+w] = true
					}
				}
			}
		case pStar:
			free := colons >= 5 || i == len(parts)-1 ||
				parts[i+1].kind == pLit && strings.HasPrefix(parts[i+1].text, ":")
			reach := false
			for pos := 0; pos <= len(s); pos++ {
				if cur[pos] {
					reach = true
				}
				if !reach {
					continue
				}
				if pos == len(s) || utf8.RuneStart(s[pos]) {
					next[pos] = true
				}
				if pos < len(s) && s[pos] == ':' && !free {
					reach = false
				}
			}
		}
		cur, next = next, cur
	}
	return cur[len(s)]
}

// matchSegments is ArnEquals/ArnLike on a pattern split by splitParts: each of the six colon-separated
// components is compared separately, so a wildcard never crosses a colon
// before the resource component. A pattern with fewer components compares
// its last one with the rest of the value.
func matchSegments(segs [][]part, s string) bool {
	for i, seg := range segs {
		piece := s
		if i < len(segs)-1 {
			j := strings.IndexByte(s, ':')
			if j < 0 {
				return false
			}
			piece, s = s[:j], s[j+1:]
		}
		if !glob(seg, piece) {
			return false
		}
	}
	return true
}

// splitParts cuts parts at the first five colons of their literal text.
func splitParts(parts []part) [][]part {
	segs := make([][]part, 1, 6)
	for _, p := range parts {
		if p.kind != pLit {
			segs[len(segs)-1] = append(segs[len(segs)-1], p)
			continue
		}
		text := p.text
		for len(segs) < 6 {
			before, after, ok := strings.Cut(text, ":")
			if !ok {
				break
			}
			if before != "" {
				segs[len(segs)-1] = append(segs[len(segs)-1], part{kind: pLit, text: before})
			}
			segs = append(segs, nil)
			text = after
		}
		if text != "" {
			segs[len(segs)-1] = append(segs[len(segs)-1], part{kind: pLit, text: text})
		}
	}
	return segs
}
