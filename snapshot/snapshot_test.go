package snapshot

import (
	"testing"

	"github.com/iamra/iamra/store"
)

func TestTouchesConfig(t *testing.T) {
	for _, tc := range []struct {
		kinds []store.Kind
		want  bool
	}{
		// Issuance and CreateSession's subject records must not rebuild:
		// under load they would rebuild the snapshot continuously.
		{[]store.Kind{store.KindCertificate}, false},
		{[]store.Kind{store.KindSubject}, false},
		{[]store.Kind{store.KindCertificate, store.KindSubject}, false},
		{[]store.Kind{store.KindKeyRing}, false},
		// A revocation writes the CA record and its CRL together.
		{[]store.Kind{store.KindCA, store.KindCertificate}, true},
		{[]store.Kind{store.KindTrustAnchor}, true},
		{[]store.Kind{store.KindProfile}, true},
		{[]store.Kind{store.KindCRL}, true},
		{[]store.Kind{store.KindRole}, true},
		{[]store.Kind{store.KindPolicy}, true},
		// Unknown kinds (a change log pruned past them) rebuild.
		{nil, true},
	} {
		if got := touchesConfig(store.Change{Revision: 1, Kinds: tc.kinds}); got != tc.want {
			t.Errorf("touchesConfig(%v) = %v, want %v", tc.kinds, got, tc.want)
		}
	}
}
