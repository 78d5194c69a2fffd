package audit

// appendCompactJSON appends src compacted and HTML-escaped, as
// encoding/json writes a json.RawMessage inside a value it marshals, in
// one pass instead of json.Compact's byte-at-a-time scanner. It is sound,
// not complete: it reports true only for src it has checked is one valid
// JSON value, and false for invalid JSON and for what it does not take
// (nesting deeper than compactDepth), which the caller leaves to
// encoding/json. FuzzAppendCompactJSON holds it to json.Compact.
func appendCompactJSON(dst, src []byte) ([]byte, bool) {
	c := compactor{src: src, out: dst}
	c.space()
	if !c.value(0) {
		return dst, false
	}
	c.space()
	if c.i != len(src) {
		return dst, false
	}
	return c.out, true
}

// compactDepth bounds the nesting appendCompactJSON follows.
const compactDepth = 64

type compactor struct {
	src []byte
	i   int
	out []byte
}

func (c *compactor) space() {
	for c.i < len(c.src) {
		switch c.src[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *compactor) value(depth int) bool {
	if c.i >= len(c.src) {
		return false
	}
	switch b := c.src[c.i]; {
	case b == '"':
		return c.str()
	case b == '{':
		return depth < compactDepth && c.object(depth+1)
	case b == '[':
		return depth < compactDepth && c.array(depth+1)
	case b == '-' || b >= '0' && b <= '9':
		return c.number()
	case b == 't':
		return c.literal("true")
	case b == 'f':
		return c.literal("false")
	case b == 'n':
		return c.literal("null")
	}
	return false
}

func (c *compactor) literal(lit string) bool {
	if len(c.src)-c.i < len(lit) || string(c.src[c.i:c.i+len(lit)]) != lit {
		return false
	}
	c.out = append(c.out, lit...)
	c.i += len(lit)
	return true
}

func (c *compactor) object(depth int) bool { return c.container(depth, '}', c.member) }

func (c *compactor) array(depth int) bool { return c.container(depth, ']', c.value) }

// member is an object's "key": value.
func (c *compactor) member(depth int) bool {
	if c.i >= len(c.src) || c.src[c.i] != '"' || !c.str() {
		return false
	}
	c.space()
	if c.i >= len(c.src) || c.src[c.i] != ':' {
		return false
	}
	c.i++
	c.out = append(c.out, ':')
	c.space()
	return c.value(depth)
}

// container compacts an object or an array, whose opening byte is at
// c.i: elements read by elem, separated by commas, up to end.
func (c *compactor) container(depth int, end byte, elem func(depth int) bool) bool {
	c.out = append(c.out, c.src[c.i])
	c.i++
	c.space()
	if c.i < len(c.src) && c.src[c.i] == end {
		c.i++
		c.out = append(c.out, end)
		return true
	}
	for {
		c.space()
		if !elem(depth) {
			return false
		}
		c.space()
		if c.i >= len(c.src) {
			return false
		}
		switch c.src[c.i] {
		case ',':
			c.i++
			c.out = append(c.out, ',')
		case end:
			c.i++
			c.out = append(c.out, end)
			return true
		default:
			return false
		}
	}
}

// plainInString are the bytes a string keeps as they are: not control
// characters, the quote, the backslash, the HTML characters <, > and &,
// nor 0xE2, which may begin U+2028 or U+2029. Other bytes of 0x80 and
// above are kept whether or not they are valid UTF-8, as json.Compact
// keeps them.
var plainInString = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = true
	}
	for _, c := range []byte{'"', '\\', '<', '>', '&', 0xE2} {
		t[c] = false
	}
	return t
}()

// str copies a string, escapes checked and kept, HTML characters escaped.
func (c *compactor) str() bool {
	src := c.src
	start := c.i // the opening quote
	i := c.i + 1
	for i < len(src) {
		b := src[i]
		if plainInString[b] {
			i++
			continue
		}
		switch {
		case b == '"':
			c.out = append(c.out, src[start:i+1]...)
			c.i = i + 1
			return true
		case b == '\\':
			if i+1 >= len(src) {
				return false
			}
			switch src[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(src) || !isHex(src[i+2]) || !isHex(src[i+3]) || !isHex(src[i+4]) || !isHex(src[i+5]) {
					return false
				}
				i += 6
			default:
				return false
			}
		case b == '<' || b == '>' || b == '&':
			c.out = append(c.out, src[start:i]...)
			c.out = append(c.out, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			i++
			start = i
		case b == 0xE2:
			if i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8 {
				c.out = append(c.out, src[start:i]...)
				c.out = append(c.out, '\\', 'u', '2', '0', '2', hexDigits[src[i+2]&0xF])
				i += 3
				start = i
			} else {
				i++
			}
		default: // a control character
			return false
		}
	}
	return false
}

func isHex(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

// number copies a number in JSON's grammar.
func (c *compactor) number() bool {
	src, i := c.src, c.i
	digits := func() int {
		n := 0
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if src[i] == '-' {
		i++
	}
	if i < len(src) && src[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(src) && src[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	c.out = append(c.out, src[c.i:i]...)
	c.i = i
	return true
}
