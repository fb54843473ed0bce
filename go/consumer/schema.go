// A JSON Schema validator for the subset of draft 2020-12 that `eventbench schemas export` writes (zod's
// z.toJSONSchema output for eventbench's event schemas). Debian ships no Go JSON Schema library, so this
// file implements exactly the keywords those files use and refuses, when a schema is loaded, any keyword
// it does not implement: a schema is never half-checked in silence.
//
// Implemented: type, properties, required, additionalProperties, propertyNames, items, prefixItems,
// minItems, maxItems, const, enum, minLength, maxLength, pattern, minimum, maximum, exclusiveMinimum,
// exclusiveMaximum, multipleOf, anyOf, oneOf, allOf, not. Annotations only: $schema, $id, title,
// description, default, examples, format (formats are not asserted by default in 2020-12; zod also
// writes a pattern for the ones eventbench uses).
package main

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"unicode/utf8"
)

var annotations = map[string]bool{"$schema": true, "$id": true, "title": true, "description": true, "default": true, "examples": true, "format": true}

var implemented = map[string]bool{
	"type": true, "properties": true, "required": true, "additionalProperties": true, "propertyNames": true,
	"items": true, "prefixItems": true, "minItems": true, "maxItems": true, "const": true, "enum": true,
	"minLength": true, "maxLength": true, "pattern": true, "minimum": true, "maximum": true,
	"exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true, "anyOf": true, "oneOf": true,
	"allOf": true, "not": true,
}

// Schema is a compiled schema node: the raw keywords plus compiled patterns and children.
type Schema struct {
	raw        map[string]interface{}
	boolean    *bool
	pattern    *regexp.Regexp
	properties map[string]*Schema
	additional *Schema
	propNames  *Schema
	items      *Schema
	prefix     []*Schema
	anyOf      []*Schema
	oneOf      []*Schema
	allOf      []*Schema
	not        *Schema
}

// Compile checks that every keyword is implemented and compiles patterns (RE2: a JavaScript-only regex
// feature such as a lookahead is refused here, at load time).
func Compile(node interface{}, path string) (*Schema, error) {
	if b, ok := node.(bool); ok {
		return &Schema{boolean: &b}, nil
	}
	raw, ok := node.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: a schema must be an object or a boolean", path)
	}
	s := &Schema{raw: raw}
	for k, v := range raw {
		if annotations[k] {
			continue
		}
		if !implemented[k] {
			return nil, fmt.Errorf("%s: keyword %q is not implemented by this validator", path, k)
		}
		var err error
		switch k {
		case "pattern":
			p, _ := v.(string)
			if s.pattern, err = regexp.Compile(p); err != nil {
				return nil, fmt.Errorf("%s/pattern: %v", path, err)
			}
		case "properties":
			props, _ := v.(map[string]interface{})
			s.properties = map[string]*Schema{}
			for name, child := range props {
				if s.properties[name], err = Compile(child, path+"/properties/"+name); err != nil {
					return nil, err
				}
			}
		case "additionalProperties":
			s.additional, err = Compile(v, path+"/additionalProperties")
		case "propertyNames":
			s.propNames, err = Compile(v, path+"/propertyNames")
		case "items":
			s.items, err = Compile(v, path+"/items")
		case "not":
			s.not, err = Compile(v, path+"/not")
		case "prefixItems", "anyOf", "oneOf", "allOf":
			list, _ := v.([]interface{})
			compiled := make([]*Schema, len(list))
			for i, child := range list {
				if compiled[i], err = Compile(child, fmt.Sprintf("%s/%s/%d", path, k, i)); err != nil {
					return nil, err
				}
			}
			switch k {
			case "prefixItems":
				s.prefix = compiled
			case "anyOf":
				s.anyOf = compiled
			case "oneOf":
				s.oneOf = compiled
			case "allOf":
				s.allOf = compiled
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Validate returns the first violation found, or nil. Values come from a json.Decoder with UseNumber.
func (s *Schema) Validate(v interface{}, path string) error {
	if s.boolean != nil {
		if *s.boolean {
			return nil
		}
		return fmt.Errorf("%s: not allowed", path)
	}
	if t, ok := s.raw["type"]; ok && !hasType(t, v) {
		return fmt.Errorf("%s: expected type %v, got %s", path, t, typeName(v))
	}
	if c, ok := s.raw["const"]; ok && !equal(c, v) {
		return fmt.Errorf("%s: expected %v", path, c)
	}
	if e, ok := s.raw["enum"].([]interface{}); ok {
		found := false
		for _, option := range e {
			found = found || equal(option, v)
		}
		if !found {
			return fmt.Errorf("%s: %v is not one of %v", path, v, e)
		}
	}
	switch x := v.(type) {
	case string:
		n := float64(utf8.RuneCountInString(x))
		if min, ok := number(s.raw["minLength"]); ok && n < min {
			return fmt.Errorf("%s: shorter than %v", path, min)
		}
		if max, ok := number(s.raw["maxLength"]); ok && n > max {
			return fmt.Errorf("%s: longer than %v", path, max)
		}
		if s.pattern != nil && !s.pattern.MatchString(x) {
			return fmt.Errorf("%s: %q does not match %s", path, x, s.pattern)
		}
	case json.Number:
		if err := s.checkNumber(x, path); err != nil {
			return err
		}
	case map[string]interface{}:
		if err := s.checkObject(x, path); err != nil {
			return err
		}
	case []interface{}:
		if min, ok := number(s.raw["minItems"]); ok && float64(len(x)) < min {
			return fmt.Errorf("%s: fewer than %v items", path, min)
		}
		if max, ok := number(s.raw["maxItems"]); ok && float64(len(x)) > max {
			return fmt.Errorf("%s: more than %v items", path, max)
		}
		for i, item := range x {
			child := s.items
			if i < len(s.prefix) {
				child = s.prefix[i]
			}
			if child != nil {
				if err := child.Validate(item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	}
	for _, sub := range s.allOf {
		if err := sub.Validate(v, path); err != nil {
			return err
		}
	}
	if len(s.anyOf) > 0 && countValid(s.anyOf, v, path) == 0 {
		return fmt.Errorf("%s: matches none of anyOf", path)
	}
	if len(s.oneOf) > 0 && countValid(s.oneOf, v, path) != 1 {
		return fmt.Errorf("%s: must match exactly one of oneOf", path)
	}
	if s.not != nil && s.not.Validate(v, path) == nil {
		return fmt.Errorf("%s: matches a schema it must not", path)
	}
	return nil
}

func (s *Schema) checkObject(x map[string]interface{}, path string) error {
	if req, ok := s.raw["required"].([]interface{}); ok {
		for _, r := range req {
			if _, present := x[r.(string)]; !present {
				return fmt.Errorf("%s: missing required %q", path, r)
			}
		}
	}
	keys := make([]string, 0, len(x))
	for k := range x {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same first error every run
	for _, k := range keys {
		if s.propNames != nil {
			if err := s.propNames.Validate(k, path+" key "+k); err != nil {
				return err
			}
		}
		if child, ok := s.properties[k]; ok {
			if err := child.Validate(x[k], path+"."+k); err != nil {
				return err
			}
		} else if s.additional != nil {
			if err := s.additional.Validate(x[k], path+"."+k); err != nil {
				return fmt.Errorf("%s: property %q not allowed (%v)", path, k, err)
			}
		}
	}
	return nil
}

func (s *Schema) checkNumber(x json.Number, path string) error {
	f, err := x.Float64()
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if min, ok := number(s.raw["minimum"]); ok && f < min {
		return fmt.Errorf("%s: %v < minimum %v", path, f, min)
	}
	if max, ok := number(s.raw["maximum"]); ok && f > max {
		return fmt.Errorf("%s: %v > maximum %v", path, f, max)
	}
	if min, ok := number(s.raw["exclusiveMinimum"]); ok && f <= min {
		return fmt.Errorf("%s: %v <= exclusiveMinimum %v", path, f, min)
	}
	if max, ok := number(s.raw["exclusiveMaximum"]); ok && f >= max {
		return fmt.Errorf("%s: %v >= exclusiveMaximum %v", path, f, max)
	}
	if m, ok := s.raw["multipleOf"].(json.Number); ok {
		q, _ := new(big.Rat).SetString(x.String())
		d, _ := new(big.Rat).SetString(m.String())
		if q == nil || d == nil || d.Sign() == 0 || !new(big.Rat).Quo(q, d).IsInt() {
			return fmt.Errorf("%s: %v is not a multiple of %v", path, x, m)
		}
	}
	return nil
}

func countValid(list []*Schema, v interface{}, path string) int {
	n := 0
	for _, sub := range list {
		if sub.Validate(v, path) == nil {
			n++
		}
	}
	return n
}

func number(v interface{}) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func isInteger(n json.Number) bool {
	r, ok := new(big.Rat).SetString(n.String())
	return ok && r.IsInt()
}

func hasType(t interface{}, v interface{}) bool {
	if list, ok := t.([]interface{}); ok {
		for _, one := range list {
			if hasType(one, v) {
				return true
			}
		}
		return false
	}
	name, _ := t.(string)
	switch x := v.(type) {
	case json.Number:
		return name == "number" || (name == "integer" && isInteger(x))
	default:
		return typeName(v) == name
	}
}

func typeName(v interface{}) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if isInteger(x) {
			return "integer"
		}
		return "number"
	case []interface{}:
		return "array"
	case map[string]interface{}:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// equal compares JSON values; numbers by value (1 and 1.0 are equal in JSON Schema).
func equal(a, b interface{}) bool {
	na, aNum := a.(json.Number)
	nb, bNum := b.(json.Number)
	if aNum && bNum {
		ra, ok1 := new(big.Rat).SetString(na.String())
		rb, ok2 := new(big.Rat).SetString(nb.String())
		return ok1 && ok2 && ra.Cmp(rb) == 0
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
