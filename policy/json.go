package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// jkind is the JSON type of a node.
type jkind int

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

func (k jkind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// jnode is a JSON value that keeps object members in document order, so
// that validation errors and evaluation explanations follow the policy as
// its author wrote it rather than Go's map order.
type jnode struct {
	kind jkind
	text string // string value, number literal, or "true"/"false"
	arr  []jnode
	obj  []jmember
}

type jmember struct {
	key string
	val jnode
}

// maxDepth bounds nesting; a policy is at most five levels deep, so
// anything deeper is garbage and must not cost stack.
const maxDepth = 16

// decodeJSON parses doc into a tree. Duplicate object keys are refused:
// encoding/json would silently keep the last one, and a document whose
// meaning depends on which duplicate wins must not be accepted.
func decodeJSON(doc string) (jnode, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	n, err := decodeValue(dec, 0)
	if err != nil {
		return jnode{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return jnode{}, errors.New("unexpected data after the top-level value")
	}
	return n, nil
}

func decodeValue(dec *json.Decoder, depth int) (jnode, error) {
	if depth > maxDepth {
		return jnode{}, errors.New("document nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return jnode{}, errors.New("unexpected end of document")
		}
		return jnode{}, err
	}
	switch t := tok.(type) {
	case nil:
		return jnode{kind: jNull}, nil
	case bool:
		if t {
			return jnode{kind: jBool, text: "true"}, nil
		}
		return jnode{kind: jBool, text: "false"}, nil
	case json.Number:
		return jnode{kind: jNumber, text: t.String()}, nil
	case string:
		return jnode{kind: jString, text: t}, nil
	case json.Delim:
		switch t {
		case '[':
			n := jnode{kind: jArray}
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return jnode{}, err
				}
				n.arr = append(n.arr, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return jnode{}, err
			}
			return n, nil
		case '{':
			n := jnode{kind: jObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return jnode{}, err
				}
				key, ok := kt.(string)
				if !ok {
					return jnode{}, fmt.Errorf("object key %v is not a string", kt)
				}
				if _, dup := n.member(key); dup {
					return jnode{}, fmt.Errorf("duplicate key %q", key)
				}
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return jnode{}, err
				}
				n.obj = append(n.obj, jmember{key: key, val: v})
			}
			if _, err := dec.Token(); err != nil { // '}'
				return jnode{}, err
			}
			return n, nil
		}
	}
	return jnode{}, fmt.Errorf("unexpected token %v", tok)
}

// member returns the value of key in an object node.
func (n jnode) member(key string) (jnode, bool) {
	for _, m := range n.obj {
		if m.key == key {
			return m.val, true
		}
	}
	return jnode{}, false
}

// scalar reports whether n is a string, number or boolean: the JSON types
// IAM accepts as a single value.
func (n jnode) scalar() bool {
	return n.kind == jString || n.kind == jNumber || n.kind == jBool
}
