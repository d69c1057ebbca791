package stepfmt

import (
	"reflect"
	"testing"
)

// StoreKey names every attribute of hash type the kind table has: a kind
// given one more would else have its contents left out of what is put
// back in the store.
func TestStoreKeyCoversHashAttrs(t *testing.T) {
	hash := reflect.ValueOf(valueType(tHash)).Pointer()
	key := "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	for _, ks := range kinds {
		for _, a := range ks.attrs {
			s := &Step{Kind: ks.kind, Target: "/t", Attrs: []Attr{{Key: a.key, Value: key}}}
			got, ok := s.StoreKey()
			isHash := reflect.ValueOf(a.typ).Pointer() == hash
			if isHash != (ok && got == key) {
				t.Errorf("%s %s: StoreKey gives %q, %v; hash attribute: %v", ks.kind, a.key, got, ok, isHash)
			}
		}
	}
}
