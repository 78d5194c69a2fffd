package policy

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// family groups condition operators that compare values the same way.
type family int

const (
	fString family = iota
	fStringIgnoreCase
	fStringLike
	fNumeric
	fDate
	fBool
	fBinary
	fIP
	fARN
	fNull
)

// cmp is the comparison of the numeric and date operators.
type cmp int

const (
	cmpEq cmp = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

type baseOp struct {
	family  family
	cmp     cmp
	negated bool
}

// baseOps are the operators of the IAM User Guide ("Condition
// operators"), keyed by lower-cased name.
var baseOps = func() map[string]baseOp {
	m := map[string]baseOp{
		"StringEquals":              {fString, cmpEq, false},
		"StringNotEquals":           {fString, cmpEq, true},
		"StringEqualsIgnoreCase":    {fStringIgnoreCase, cmpEq, false},
		"StringNotEqualsIgnoreCase": {fStringIgnoreCase, cmpEq, true},
		"StringLike":                {fStringLike, cmpEq, false},
		"StringNotLike":             {fStringLike, cmpEq, true},
		"NumericEquals":             {fNumeric, cmpEq, false},
		"NumericNotEquals":          {fNumeric, cmpEq, true},
		"NumericLessThan":           {fNumeric, cmpLt, false},
		"NumericLessThanEquals":     {fNumeric, cmpLe, false},
		"NumericGreaterThan":        {fNumeric, cmpGt, false},
		"NumericGreaterThanEquals":  {fNumeric, cmpGe, false},
		"DateEquals":                {fDate, cmpEq, false},
		"DateNotEquals":             {fDate, cmpEq, true},
		"DateLessThan":              {fDate, cmpLt, false},
		"DateLessThanEquals":        {fDate, cmpLe, false},
		"DateGreaterThan":           {fDate, cmpGt, false},
		"DateGreaterThanEquals":     {fDate, cmpGe, false},
		"Bool":                      {fBool, cmpEq, false},
		"BinaryEquals":              {fBinary, cmpEq, false},
		"IpAddress":                 {fIP, cmpEq, false},
		"NotIpAddress":              {fIP, cmpEq, true},
		"ArnEquals":                 {fARN, cmpEq, false},
		"ArnLike":                   {fARN, cmpEq, false},
		"ArnNotEquals":              {fARN, cmpEq, true},
		"ArnNotLike":                {fARN, cmpEq, true},
		"Null":                      {fNull, cmpEq, false},
	}
	out := make(map[string]baseOp, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}()

// qualifier is the set operator prefix.
type qualifier int

const (
	qNone qualifier = iota
	qAnyValue
	qAllValues
)

type operator struct {
	name string // as written in the policy
	baseOp
	qual     qualifier
	ifExists bool
}

// parseOperator reads [ForAnyValue:|ForAllValues:]Base[IfExists].
// Operator names are matched case-insensitively, like condition keys.
func parseOperator(name string) (operator, bool) {
	op := operator{name: name}
	rest := name
	if q, base, ok := strings.Cut(name, ":"); ok {
		switch strings.ToLower(q) {
		case "foranyvalue":
			op.qual = qAnyValue
		case "forallvalues":
			op.qual = qAllValues
		default:
			return op, false
		}
		rest = base
	}
	lower := strings.ToLower(rest)
	b, ok := baseOps[lower]
	if !ok && strings.HasSuffix(lower, "ifexists") {
		b, ok = baseOps[strings.TrimSuffix(lower, "ifexists")]
		op.ifExists = true
	}
	// Null tests existence itself: IfExists or a set operator on it has no
	// meaning, and IAM lists it as the one operator without IfExists.
	if !ok || b.family == fNull && (op.ifExists || op.qual != qNone) {
		return op, false
	}
	op.baseOp = b
	return op, true
}

// cvalue is one compiled condition value.
type cvalue struct {
	raw  string       // as written, for explanations
	t    tmpl         // string, ARN and Bool values (variables allowed)
	segs [][]part     // ARN values without variables, split at Parse
	num  float64      // numeric
	date time.Time    // date
	bin  string       // binary, decoded
	ip   netip.Prefix // IP address
	null bool         // Null: true means "key absent"
}

// condition is one operator applied to one key.
type condition struct {
	op     operator
	key    string
	values []cvalue
}

func parseConditions(n jnode, where string, vars bool) ([]condition, error) {
	if n.kind != jObject {
		return nil, syntaxError(where, "Condition must be an object")
	}
	var out []condition
	for _, m := range n.obj {
		op, ok := parseOperator(m.key)
		if !ok {
			return nil, malformed("condition", where, "Invalid Condition type : "+m.key)
		}
		if m.val.kind != jObject {
			return nil, syntaxError(where+"."+m.key, "the "+m.key+" block must be an object of condition keys")
		}
		for _, k := range m.val.obj {
			kw := where + "." + m.key + "." + k.key
			if vendor, name, ok := strings.Cut(k.key, ":"); !ok || vendor == "" || name == "" {
				return nil, malformed("condition", kw, msgNoVendor)
			}
			var raw []jnode
			switch {
			case k.val.scalar():
				raw = []jnode{k.val}
			case k.val.kind == jArray:
				raw = k.val.arr
			default:
				return nil, syntaxError(kw, "condition values must be strings, numbers, booleans or an array of them")
			}
			if len(raw) == 0 {
				return nil, malformed("condition", kw, fmt.Sprintf("Condition %s on %s has no values.", m.key, k.key))
			}
			c := condition{op: op, key: k.key}
			for _, r := range raw {
				if !r.scalar() {
					return nil, syntaxError(kw, "condition values must be strings, numbers, booleans or an array of them")
				}
				v, problem := compileValue(op, r.text, vars)
				if problem != "" {
					return nil, malformed("condition", kw,
						fmt.Sprintf("Condition %s on %s has an invalid value %q: %s.", m.key, k.key, r.text, problem))
				}
				c.values = append(c.values, v)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// compileValue checks a policy value for the operator's type once, so
// that evaluation never meets a malformed policy value. IAM's User Guide
// allows variables only with the String, ARN and Boolean operators.
func compileValue(op operator, s string, vars bool) (cvalue, string) {
	v := cvalue{raw: s}
	switch op.family {
	case fString, fStringIgnoreCase, fStringLike:
		v.t = compileTmpl(s, vars)
	case fARN:
		v.t = compileTmpl(s, vars)
		if !v.t.vars {
			v.segs = splitParts(v.t.parts)
		}
	case fBool:
		v.t = compileTmpl(s, vars)
		if !v.t.vars && !strings.EqualFold(s, "true") && !strings.EqualFold(s, "false") {
			return v, "not true or false"
		}
	case fNull:
		switch strings.ToLower(s) {
		case "true":
			v.null = true
		case "false":
		default:
			return v, "not true or false"
		}
	case fNumeric:
		f, ok := parseNumber(s)
		if !ok {
			return v, "not a number"
		}
		v.num = f
	case fDate:
		t, ok := parseDate(s)
		if !ok {
			return v, "not an ISO 8601 date or epoch time"
		}
		v.date = t
	case fBinary:
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return v, "not base64"
		}
		v.bin = string(b)
	case fIP:
		p, ok := parsePrefix(s)
		if !ok {
			return v, "not an IP address or CIDR range"
		}
		v.ip = p
	}
	return v, ""
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

// dateLayouts are the W3C profile of ISO 8601 the User Guide points to,
// from a year alone to fractional seconds with a zone.
var dateLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02",
	"2006-01",
	"2006",
}

// parseDate reads an ISO 8601 date or an epoch time in seconds (possibly
// with a fraction). A time without a zone is UTC. Four digits alone are
// the ISO year, not 2030 seconds after the epoch.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && len(s) != 4 && !strings.ContainsAny(s, "-:TeEx_") {
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e12 {
			return time.Time{}, false
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parsePrefix reads a CIDR range or a bare address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// lookup finds a condition key in the request context. Keys are
// case-insensitive; an exact spelling wins, and when several spellings
// differ only in case their values are merged in sorted key order so that
// the result never depends on map iteration.
func lookup(ctx map[string][]string, key string) []string {
	if v, ok := ctx[key]; ok {
		return v
	}
	var keys []string
	for k := range ctx {
		if strings.EqualFold(k, key) {
			keys = append(keys, k)
		}
	}
	switch len(keys) {
	case 0:
		return nil
	case 1:
		return ctx[keys[0]]
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, ctx[k]...)
	}
	return out
}

// evaluate decides the condition for a request context and, when it does
// not hold and an explanation is wanted, says why in terms an operator can
// act on.
func (c *condition) evaluate(ctx map[string][]string, explain bool) (bool, string) {
	reqVals := lookup(ctx, c.key)
	if c.op.family == fNull {
		absent := len(reqVals) == 0
		for _, v := range c.values {
			if v.null == absent {
				return true, ""
			}
		}
		if absent {
			return false, explainf(explain, "Null %s: the key is not in the request", c.key)
		}
		return false, explainf(explain, "Null %s: the key is in the request", c.key)
	}
	if len(reqVals) == 0 {
		switch {
		case c.op.ifExists, c.op.qual == qAllValues:
			return true, ""
		case c.op.qual == qAnyValue:
		case c.op.negated:
			return true, ""
		}
		return false, explainf(explain, "%s %s: the key is not in the request", c.op.name, c.key)
	}

	// Resolve policy variables once per evaluation.
	var buf [4]resolved
	pol := buf[:0]
	for i := range c.values {
		pol = append(pol, c.resolve(i, ctx))
	}

	switch c.op.qual {
	case qAllValues:
		// Every request value must match (or, negated, match none).
		for _, rv := range reqVals {
			if c.matchAny(pol, rv) == c.op.negated {
				return false, c.explain(explain, rv, pol)
			}
		}
		return true, ""
	case qAnyValue:
		for _, rv := range reqVals {
			if c.matchAny(pol, rv) != c.op.negated {
				return true, ""
			}
		}
		return false, c.explain(explain, reqVals[0], pol)
	}
	// No set operator: positive operators need some request value to
	// match; negated ones need none to (NOT any), the stricter reading for
	// a multivalued key.
	for _, rv := range reqVals {
		if c.matchAny(pol, rv) {
			if c.op.negated {
				return false, c.explain(explain, rv, pol)
			}
			return true, ""
		}
	}
	if c.op.negated {
		return true, ""
	}
	return false, c.explain(explain, reqVals[0], pol)
}

// matchAny reports whether the request value matches any policy value.
func (c *condition) matchAny(pol []resolved, rv string) bool {
	for i := range pol {
		if c.match(&pol[i], rv) {
			return true
		}
	}
	return false
}

// resolved is a policy value with its variables substituted.
type resolved struct {
	v       *cvalue
	parts   []part
	text    string // literal rendering, for equality
	missing string // the unresolvable variable, if any
	ok      bool
}

func (c *condition) resolve(i int, ctx map[string][]string) resolved {
	v := &c.values[i]
	r := resolved{v: v, ok: true}
	switch c.op.family {
	case fString, fStringIgnoreCase, fStringLike, fARN, fBool:
		r.parts, r.missing, r.ok = v.t.resolve(ctx)
		if r.ok {
			r.text = literal(r.parts)
		}
	}
	return r
}

// match compares one request value with one policy value.
func (c *condition) match(p *resolved, rv string) bool {
	if !p.ok {
		return false
	}
	switch c.op.family {
	case fString:
		return rv == p.text
	case fStringIgnoreCase, fBool:
		return strings.EqualFold(rv, p.text)
	case fStringLike:
		return glob(p.parts, rv)
	case fARN:
		if p.v.segs != nil {
			return matchSegments(p.v.segs, rv)
		}
		return matchSegments(splitParts(p.parts), rv)
	case fNumeric:
		f, ok := parseNumber(rv)
		return ok && compare(c.op.cmp, cmpFloat(f, p.v.num))
	case fDate:
		t, ok := parseDate(rv)
		return ok && compare(c.op.cmp, t.Compare(p.v.date))
	case fBinary:
		return rv == p.v.bin
	case fIP:
		a, err := netip.ParseAddr(strings.TrimSpace(rv))
		return err == nil && p.v.ip.Contains(a.Unmap())
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare applies the operator's comparison to a three-way result
// (request value against policy value).
func compare(op cmp, r int) bool {
	switch op {
	case cmpLt:
		return r < 0
	case cmpLe:
		return r <= 0
	case cmpGt:
		return r > 0
	case cmpGe:
		return r >= 0
	}
	return r == 0
}

// maxQuoted bounds request values quoted in explanations: they may come
// from a certificate and must not flood the audit log.
const maxQuoted = 128

func quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "…"
	}
	return strconv.Quote(s)
}

// explain says why the request value rv decided the condition against
// the request: it matched a negated operator's value, or matched none.
func (c *condition) explain(explain bool, rv string, pol []resolved) string {
	if !explain {
		return ""
	}
	verb := "does not match"
	if c.op.negated {
		verb = "matches"
	}
	return fmt.Sprintf("%s %s: request value %s %s %s", c.op.name, c.key, quote(rv), verb, describeValues(pol))
}

// describeValues renders the policy values as written, with the value
// each variable resolved to.
func describeValues(pol []resolved) string {
	ds := make([]string, len(pol))
	for i, p := range pol {
		switch {
		case !p.v.t.vars:
			ds[i] = quote(p.v.raw)
		case !p.ok:
			ds[i] = fmt.Sprintf("%s (${%s} has no value)", quote(p.v.raw), p.missing)
		default:
			ds[i] = fmt.Sprintf("%s (= %s)", quote(p.v.raw), quote(p.text))
		}
	}
	if len(ds) == 1 {
		return ds[0]
	}
	return "any of [" + strings.Join(ds, ", ") + "]"
}
