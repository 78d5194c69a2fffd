// Package storetest is the contract test suite for store.Store back-ends:
// every back-end runs Run against itself, so the semantics written in the
// store package's documentation are checked, not only described.
//
// Usage, in a back-end's tests:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := mybackend.Open(...) // a new, empty store
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// open must return a new, empty store for each call and arrange for it to
// be closed when the test ends. Some subtests close the store themselves,
// so Close must tolerate a second call.
//
// Where the store documentation leaves room, the suite pins down what
// iamra relies on:
//   - documents come back byte for byte (no JSON normalization: a SQL
//     back-end stores bytes or json, never jsonb);
//   - List orders IDs as Go compares strings, byte-wise (COLLATE "C");
//   - Put with Version > 0 of an absent record fails with ErrConflict;
//   - a coalesced notification names every kind touched since the
//     reader's previous one, not only the last commit's;
//   - Close closes every Changes channel, and Changes with a context
//     already done returns a closed channel;
//   - a Tx used after its fn returned fails with an error, not a panic;
//   - Update with a context already canceled applies nothing and returns
//     an error matching context.Canceled.
//
// Nothing here asserts timing: where the suite waits for a notification it
// fails only after a generous deadline meant to catch a hang.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/iamra/iamra/store"
)

// hang is how long the suite waits for something that should happen
// promptly before calling it a hang.
const hang = 30 * time.Second

// Run runs the contract suite; each subtest gets a fresh store from open.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"NotFound", testNotFound},
		{"CreateAndGet", testCreateAndGet},
		{"CompareAndSwap", testCompareAndSwap},
		{"PutAny", testPutAny},
		{"Delete", testDelete},
		{"ReadYourWrites", testReadYourWrites},
		{"RollbackOnError", testRollbackOnError},
		{"RollbackOnContractError", testRollbackOnContractError},
		{"CanceledContext", testCanceledContext},
		{"TxAfterFn", testTxAfterFn},
		{"ListPaging", testListPaging},
		{"ListOrder", testListOrder},
		{"OpaqueData", testOpaqueData},
		{"BatchUpdate", testBatchUpdate},
		{"GenericHelpers", testGenericHelpers},
		{"Revision", testRevision},
		{"Changes", testChanges},
		{"ChangesCoalesce", testChangesCoalesce},
		{"ChangesClosedOnCancel", testChangesClosedOnCancel},
		{"ChangesClosedOnClose", testChangesClosedOnClose},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ConcurrentCAS", testConcurrentCAS},
		{"ViewConsistency", testViewConsistency},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

const (
	kindA store.Kind = "storetest-a"
	kindB store.Kind = "storetest-b"
	kindC store.Kind = "storetest-c"
)

func doc(format string, args ...any) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(format, args...))
}

func update(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func put(t *testing.T, s store.Store, recs ...store.Record) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, r := range recs {
			if _, err := tx.Put(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// get reads one record in a View; a missing record is a zero Record.
func get(t *testing.T, s store.Store, kind store.Kind, id string) store.Record {
	t.Helper()
	var rec store.Record
	err := s.View(t.Context(), func(tx store.Tx) error {
		var err error
		rec, err = tx.Get(kind, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Record{}
	}
	if err != nil {
		t.Fatalf("Get %s/%s: %v", kind, id, err)
	}
	return rec
}

func revision(t *testing.T, s store.Store) int64 {
	t.Helper()
	rev, err := s.Revision(t.Context())
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	return rev
}

func wantRecord(t *testing.T, got store.Record, kind store.Kind, id string, version int64, data string) {
	t.Helper()
	if got.Kind != kind || got.ID != id || got.Version != version || string(got.Data) != data {
		t.Fatalf("record = {%s %s v%d %q}, want {%s %s v%d %q}",
			got.Kind, got.ID, got.Version, got.Data, kind, id, version, data)
	}
}

func wantErrIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want errors.Is(err, %v)", what, err, target)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.Get(kindA, "absent")
		return err
	})
	wantErrIs(t, "View Get absent", err, store.ErrNotFound)

	err = s.Update(t.Context(), func(tx store.Tx) error {
		_, err := tx.Get(kindA, "absent")
		return err
	})
	wantErrIs(t, "Update Get absent", err, store.ErrNotFound)

	err = s.Update(t.Context(), func(tx store.Tx) error {
		return tx.Delete(kindA, "absent")
	})
	wantErrIs(t, "Delete absent", err, store.ErrNotFound)

	view(t, s, func(tx store.Tx) error {
		recs, next, err := tx.List(kindA, store.ListOptions{})
		if err != nil || len(recs) != 0 || next != "" {
			t.Fatalf("List empty kind = %v, %q, %v; want no records, \"\", nil", recs, next, err)
		}
		recs, next, err = tx.List(kindA, store.ListOptions{After: "x", Limit: 3})
		if err != nil || len(recs) != 0 || next != "" {
			t.Fatalf("List empty kind page = %v, %q, %v; want no records, \"\", nil", recs, next, err)
		}
		return nil
	})

	// A record of another kind with the same ID is a different record.
	put(t, s, store.Record{Kind: kindB, ID: "absent", Data: doc(`{}`)})
	if rec := get(t, s, kindA, "absent"); rec.Version != 0 {
		t.Fatalf("Get %s/absent found %+v after writing %s/absent", kindA, rec, kindB)
	}
}

func testCreateAndGet(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		v, err := tx.Put(store.Record{Kind: kindA, ID: "r1", Data: doc(`{"n":1}`)})
		if err != nil || v != 1 {
			t.Fatalf("Put create = %d, %v; want 1, nil", v, err)
		}
		return nil
	})
	wantRecord(t, get(t, s, kindA, "r1"), kindA, "r1", 1, `{"n":1}`)

	err := s.Update(t.Context(), func(tx store.Tx) error {
		_, err := tx.Put(store.Record{Kind: kindA, ID: "r1", Data: doc(`{"n":2}`)})
		return err
	})
	wantErrIs(t, "Put create of existing record", err, store.ErrExists)
	wantRecord(t, get(t, s, kindA, "r1"), kindA, "r1", 1, `{"n":1}`)

	// The same ID in another kind is independent.
	put(t, s, store.Record{Kind: kindB, ID: "r1", Data: doc(`{"b":true}`)})
	wantRecord(t, get(t, s, kindB, "r1"), kindB, "r1", 1, `{"b":true}`)
	wantRecord(t, get(t, s, kindA, "r1"), kindA, "r1", 1, `{"n":1}`)
}

func testCompareAndSwap(t *testing.T, s store.Store) {
	put(t, s, store.Record{Kind: kindA, ID: "cas", Data: doc(`{"v":1}`)})
	update(t, s, func(tx store.Tx) error {
		v, err := tx.Put(store.Record{Kind: kindA, ID: "cas", Version: 1, Data: doc(`{"v":2}`)})
		if err != nil || v != 2 {
			t.Fatalf("Put at version 1 = %d, %v; want 2, nil", v, err)
		}
		return nil
	})
	wantRecord(t, get(t, s, kindA, "cas"), kindA, "cas", 2, `{"v":2}`)

	for _, tc := range []struct {
		id      string
		version int64
	}{
		{"cas", 1},    // stale
		{"cas", 3},    // from the future
		{"absent", 1}, // nothing stored to compare with
	} {
		err := s.Update(t.Context(), func(tx store.Tx) error {
			_, err := tx.Put(store.Record{Kind: kindA, ID: tc.id, Version: tc.version, Data: doc(`{"v":"lost"}`)})
			return err
		})
		wantErrIs(t, fmt.Sprintf("Put %s at version %d", tc.id, tc.version), err, store.ErrConflict)
	}
	wantRecord(t, get(t, s, kindA, "cas"), kindA, "cas", 2, `{"v":2}`)
	if rec := get(t, s, kindA, "absent"); rec.Version != 0 {
		t.Fatalf("a conflicting Put created %+v", rec)
	}
}

func testPutAny(t *testing.T, s store.Store) {
	for i, version := range []int64{0, 0, 99, 1} {
		update(t, s, func(tx store.Tx) error {
			v, err := tx.PutAny(store.Record{Kind: kindA, ID: "any", Version: version, Data: doc(`{"i":%d}`, i)})
			if err != nil || v != int64(i+1) {
				t.Fatalf("PutAny #%d (Version %d) = %d, %v; want %d, nil", i, version, v, err, i+1)
			}
			return nil
		})
	}
	wantRecord(t, get(t, s, kindA, "any"), kindA, "any", 4, `{"i":3}`)
}

func testDelete(t *testing.T, s store.Store) {
	put(t, s,
		store.Record{Kind: kindA, ID: "d1", Data: doc(`1`)},
		store.Record{Kind: kindA, ID: "d2", Data: doc(`2`)},
		store.Record{Kind: kindB, ID: "d1", Data: doc(`3`)})
	update(t, s, func(tx store.Tx) error { return tx.Delete(kindA, "d1") })
	if rec := get(t, s, kindA, "d1"); rec.Version != 0 {
		t.Fatalf("deleted record still there: %+v", rec)
	}
	wantRecord(t, get(t, s, kindA, "d2"), kindA, "d2", 1, `2`)
	wantRecord(t, get(t, s, kindB, "d1"), kindB, "d1", 1, `3`)

	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.Delete(kindA, "d1") })
	wantErrIs(t, "second Delete", err, store.ErrNotFound)

	// A re-created record starts again at version 1.
	put(t, s, store.Record{Kind: kindA, ID: "d1", Data: doc(`4`)})
	wantRecord(t, get(t, s, kindA, "d1"), kindA, "d1", 1, `4`)
}

func testReadYourWrites(t *testing.T, s store.Store) {
	put(t, s, store.Record{Kind: kindA, ID: "gone", Data: doc(`0`)})
	update(t, s, func(tx store.Tx) error {
		if _, err := tx.Put(store.Record{Kind: kindA, ID: "new", Data: doc(`1`)}); err != nil {
			return err
		}
		if err := tx.Delete(kindA, "gone"); err != nil {
			return err
		}
		rec, err := tx.Get(kindA, "new")
		if err != nil {
			t.Fatalf("Get of a record written in the same Update: %v", err)
		}
		wantRecord(t, rec, kindA, "new", 1, `1`)
		if _, err := tx.Get(kindA, "gone"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get of a record deleted in the same Update: %v, want ErrNotFound", err)
		}
		recs, _, err := tx.List(kindA, store.ListOptions{})
		if err != nil || len(recs) != 1 || recs[0].ID != "new" {
			t.Fatalf("List in the same Update = %v, %v; want [new]", recs, err)
		}
		return nil
	})
}

func testRollbackOnError(t *testing.T, s store.Store) {
	put(t, s,
		store.Record{Kind: kindA, ID: "keep", Data: doc(`"old"`)},
		store.Record{Kind: kindA, ID: "del", Data: doc(`"old"`)})
	rev := revision(t, s)
	boom := errors.New("boom")
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if _, err := tx.Put(store.Record{Kind: kindA, ID: "created", Data: doc(`"new"`)}); err != nil {
			return err
		}
		if _, err := tx.PutAny(store.Record{Kind: kindA, ID: "keep", Data: doc(`"new"`)}); err != nil {
			return err
		}
		if err := tx.Delete(kindA, "del"); err != nil {
			return err
		}
		if _, err := tx.Put(store.Record{Kind: kindB, ID: "other", Data: doc(`"new"`)}); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update returned %v (%T), want fn's error unchanged", err, err)
	}
	wantRecord(t, get(t, s, kindA, "keep"), kindA, "keep", 1, `"old"`)
	wantRecord(t, get(t, s, kindA, "del"), kindA, "del", 1, `"old"`)
	for _, k := range []struct {
		kind store.Kind
		id   string
	}{{kindA, "created"}, {kindB, "other"}} {
		if rec := get(t, s, k.kind, k.id); rec.Version != 0 {
			t.Fatalf("rolled-back Put applied: %+v", rec)
		}
	}
	if got := revision(t, s); got != rev {
		t.Fatalf("revision after a rolled-back Update = %d, want %d", got, rev)
	}
}

func testRollbackOnContractError(t *testing.T, s store.Store) {
	put(t, s, store.Record{Kind: kindA, ID: "x", Data: doc(`1`)})
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if _, err := tx.Put(store.Record{Kind: kindA, ID: "y", Data: doc(`1`)}); err != nil {
			return err
		}
		_, err := tx.Put(store.Record{Kind: kindA, ID: "x", Version: 7, Data: doc(`2`)})
		return err
	})
	wantErrIs(t, "Update ending in a conflict", err, store.ErrConflict)
	if rec := get(t, s, kindA, "y"); rec.Version != 0 {
		t.Fatalf("Put before the conflict was applied: %+v", rec)
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(store.Record{Kind: kindA, ID: "c", Data: doc(`1`)})
		return err
	})
	wantErrIs(t, "Update with a canceled context", err, context.Canceled)
	if rec := get(t, s, kindA, "c"); rec.Version != 0 {
		t.Fatalf("Update with a canceled context applied %+v", rec)
	}
	if err := s.View(ctx, func(tx store.Tx) error {
		_, err := tx.Get(kindA, "c")
		return err
	}); err == nil {
		t.Fatal("View with a canceled context succeeded")
	}
}

func testTxAfterFn(t *testing.T, s store.Store) {
	put(t, s, store.Record{Kind: kindA, ID: "t", Data: doc(`1`)})
	var kept store.Tx
	update(t, s, func(tx store.Tx) error { kept = tx; return nil })
	if _, err := kept.Get(kindA, "t"); err == nil {
		t.Fatal("Get on an Update's Tx after fn returned succeeded")
	}
	if _, err := kept.PutAny(store.Record{Kind: kindA, ID: "t", Data: doc(`2`)}); err == nil {
		t.Fatal("PutAny on an Update's Tx after fn returned succeeded")
	}
	view(t, s, func(tx store.Tx) error { kept = tx; return nil })
	if _, err := kept.Get(kindA, "t"); err == nil {
		t.Fatal("Get on a View's Tx after fn returned succeeded")
	}
	wantRecord(t, get(t, s, kindA, "t"), kindA, "t", 1, `1`)
}

func testListPaging(t *testing.T, s store.Store) {
	var ids []string
	var recs []store.Record
	for _, i := range []int{17, 3, 24, 0, 9, 12, 21, 6, 15, 1, 18, 4, 23, 10, 7, 13, 2, 20, 5, 16, 8, 22, 11, 19, 14} {
		id := fmt.Sprintf("id-%02d", i)
		recs = append(recs, store.Record{Kind: kindA, ID: id, Data: doc(`{"i":%d}`, i)})
		ids = append(ids, id)
	}
	put(t, s, recs...)
	put(t, s, store.Record{Kind: kindB, ID: "id-00x", Data: doc(`{}`)}) // other kinds stay out
	sort.Strings(ids)

	list := func(opts store.ListOptions) ([]string, string) {
		t.Helper()
		var got []string
		var next string
		view(t, s, func(tx store.Tx) error {
			recs, n, err := tx.List(kindA, opts)
			if err != nil {
				return err
			}
			for _, r := range recs {
				if r.Kind != kindA || r.Version != 1 || string(r.Data) != fmt.Sprintf(`{"i":%d}`, mustIndex(t, r.ID)) {
					t.Fatalf("List returned %+v", r)
				}
				got = append(got, r.ID)
			}
			next = n
			return nil
		})
		return got, next
	}

	for _, tc := range []struct {
		opts store.ListOptions
		want []string
		next string
	}{
		{store.ListOptions{}, ids, ""},
		{store.ListOptions{Limit: 10}, ids[:10], ids[9]},
		{store.ListOptions{After: ids[9], Limit: 10}, ids[10:20], ids[19]},
		{store.ListOptions{After: ids[19], Limit: 10}, ids[20:], ""},
		{store.ListOptions{Limit: 25}, ids, ""}, // exactly the rest: no next page
		{store.ListOptions{Limit: 24}, ids[:24], ids[23]},
		{store.ListOptions{Limit: 100}, ids, ""},
		{store.ListOptions{After: "id-09"}, ids[10:], ""},
		{store.ListOptions{After: "id-09x", Limit: 2}, ids[10:12], ids[11]}, // After need not exist
		{store.ListOptions{After: "id-24"}, nil, ""},
		{store.ListOptions{After: "zzz", Limit: 5}, nil, ""},
		{store.ListOptions{Limit: 1}, ids[:1], ids[0]},
	} {
		got, next := list(tc.opts)
		if !slices.Equal(got, tc.want) || next != tc.next {
			t.Errorf("List(%+v) = %v, next %q; want %v, next %q", tc.opts, got, next, tc.want, tc.next)
		}
	}

	// Following next pages through everything exactly once.
	var all []string
	opts := store.ListOptions{Limit: 7}
	for range 10 {
		got, next := list(opts)
		all = append(all, got...)
		if next == "" {
			break
		}
		opts.After = next
	}
	if !slices.Equal(all, ids) {
		t.Fatalf("paging by 7 = %v, want %v", all, ids)
	}
}

func mustIndex(t *testing.T, id string) int {
	t.Helper()
	var i int
	if _, err := fmt.Sscanf(id, "id-%d", &i); err != nil {
		t.Fatalf("unexpected id %q", id)
	}
	return i
}

// testListOrder checks that IDs order as Go compares strings, byte by
// byte, whatever the back-end's collation would do by default.
func testListOrder(t *testing.T, s store.Store) {
	ids := []string{"b", "B", "a", "a-b", "a/b", "a.b", "aa", "10", "9", "é", "z", "Z", "_", "~", "日本"}
	var recs []store.Record
	for _, id := range ids {
		recs = append(recs, store.Record{Kind: kindA, ID: id, Data: doc(`%q`, id)})
	}
	put(t, s, recs...)
	want := slices.Clone(ids)
	sort.Strings(want)
	var got []string
	view(t, s, func(tx store.Tx) error {
		recs, _, err := tx.List(kindA, store.ListOptions{})
		for _, r := range recs {
			got = append(got, r.ID)
		}
		return err
	})
	if !slices.Equal(got, want) {
		t.Fatalf("List order = %q, want %q", got, want)
	}
	for _, id := range ids {
		wantRecord(t, get(t, s, kindA, id), kindA, id, 1, fmt.Sprintf("%q", id))
	}
}

// testOpaqueData checks that documents come back byte for byte: the store
// never interprets or normalizes them.
func testOpaqueData(t *testing.T, s store.Store) {
	big := make([]byte, 0, 1<<20+16)
	big = append(big, `{"blob":"`...)
	for len(big) < 1<<20 {
		big = append(big, "0123456789abcdef"...)
	}
	big = append(big, `"}`...)
	docs := map[string]string{
		"spaces":  "{ \"b\" : 2 ,\n \"a\" : [1, 2.50, 1e3] }",
		"order":   `{"z":1,"a":2,"z":3}`,
		"escapes": `{"s":"\u00e9\n\"\\ \u0000"}`,
		"scalar":  `42`,
		"big":     string(big),
	}
	var recs []store.Record
	for id, d := range docs {
		recs = append(recs, store.Record{Kind: kindA, ID: id, Data: json.RawMessage(d)})
	}
	put(t, s, recs...)
	for id, d := range docs {
		got := get(t, s, kindA, id)
		if !bytes.Equal(got.Data, []byte(d)) {
			t.Errorf("document %s changed: got %d bytes, want %d bytes (%.40q...)", id, len(got.Data), len(d), got.Data)
		}
	}
}

func testBatchUpdate(t *testing.T, s store.Store) {
	rev := revision(t, s)
	const n = 500
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			if _, err := tx.Put(store.Record{Kind: kindA, ID: fmt.Sprintf("b%04d", i), Data: doc(`{"i":%d}`, i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if got := revision(t, s); got != rev+1 {
		t.Fatalf("revision after one batch Update = %d, want %d", got, rev+1)
	}
	view(t, s, func(tx store.Tx) error {
		recs, next, err := tx.List(kindA, store.ListOptions{})
		if err != nil || len(recs) != n || next != "" {
			t.Fatalf("List after batch = %d records, next %q, %v; want %d", len(recs), next, err, n)
		}
		for i, r := range recs {
			wantRecord(t, r, kindA, fmt.Sprintf("b%04d", i), 1, fmt.Sprintf(`{"i":%d}`, i))
		}
		return nil
	})
}

func testGenericHelpers(t *testing.T, s store.Store) {
	type item struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	update(t, s, func(tx store.Tx) error {
		for i, name := range []string{"b", "a", "c"} {
			if v, err := store.Put(tx, kindA, name, 0, item{name, i}); err != nil || v != 1 {
				t.Fatalf("store.Put = %d, %v", v, err)
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		it, v, err := store.Get[item](tx, kindA, "c")
		if err != nil || v != 1 || it != (item{"c", 2}) {
			t.Fatalf("store.Get = %+v, %d, %v", it, v, err)
		}
		if _, _, err := store.Get[item](tx, kindA, "d"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("store.Get of absent = %v, want ErrNotFound", err)
		}
		items, next, err := store.List[item](tx, kindA, store.ListOptions{Limit: 2})
		if err != nil || next != "b" || !slices.Equal(items, []item{{"a", 1}, {"b", 0}}) {
			t.Fatalf("store.List = %+v, %q, %v", items, next, err)
		}
		return nil
	})
}

func testRevision(t *testing.T, s store.Store) {
	rev := revision(t, s)
	step := func(what string, delta int64, fn func(store.Tx) error) {
		t.Helper()
		_ = s.Update(t.Context(), fn) // some steps fail on purpose
		if got := revision(t, s); got != rev+delta {
			t.Fatalf("%s: revision = %d, want %d", what, got, rev+delta)
		}
		rev += delta
	}
	step("create", 1, func(tx store.Tx) error {
		_, err := tx.Put(store.Record{Kind: kindA, ID: "r", Data: doc(`1`)})
		return err
	})
	step("three writes in two kinds", 1, func(tx store.Tx) error {
		_, err1 := tx.PutAny(store.Record{Kind: kindA, ID: "r", Data: doc(`2`)})
		_, err2 := tx.Put(store.Record{Kind: kindB, ID: "r", Data: doc(`1`)})
		_, err3 := tx.PutAny(store.Record{Kind: kindA, ID: "s", Data: doc(`1`)})
		return errors.Join(err1, err2, err3)
	})
	step("reads only", 0, func(tx store.Tx) error {
		_, err := tx.Get(kindA, "r")
		_, _, err2 := tx.List(kindA, store.ListOptions{})
		return errors.Join(err, err2)
	})
	step("nothing at all", 0, func(tx store.Tx) error { return nil })
	step("fn error", 0, func(tx store.Tx) error {
		_, _ = tx.PutAny(store.Record{Kind: kindA, ID: "r", Data: doc(`3`)})
		return errors.New("no")
	})
	step("failed writes, fn returns nil", 0, func(tx store.Tx) error {
		if _, err := tx.Put(store.Record{Kind: kindA, ID: "r", Data: doc(`3`)}); !errors.Is(err, store.ErrExists) {
			t.Fatalf("Put create of existing = %v", err)
		}
		if _, err := tx.Put(store.Record{Kind: kindA, ID: "r", Version: 99, Data: doc(`3`)}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("Put stale = %v", err)
		}
		if err := tx.Delete(kindA, "absent"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Delete absent = %v", err)
		}
		return nil
	})
	step("delete", 1, func(tx store.Tx) error { return tx.Delete(kindA, "s") })
	view(t, s, func(tx store.Tx) error { return nil })
	if got := revision(t, s); got != rev {
		t.Fatalf("revision after a View = %d, want %d", got, rev)
	}
}

// recv waits for the next notification, failing on a hang or a closed
// channel.
func recv(t *testing.T, ch <-chan store.Change) store.Change {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("Changes channel closed early")
		}
		return c
	case <-time.After(hang):
		t.Fatalf("no change notification within %v", hang)
	}
	panic("unreachable")
}

func testChanges(t *testing.T, s store.Store) {
	ch := s.Changes(t.Context())
	update(t, s, func(tx store.Tx) error {
		_, err1 := tx.Put(store.Record{Kind: kindA, ID: "1", Data: doc(`1`)})
		_, err2 := tx.PutAny(store.Record{Kind: kindB, ID: "1", Data: doc(`1`)})
		_, err3 := tx.PutAny(store.Record{Kind: kindB, ID: "2", Data: doc(`1`)})
		return errors.Join(err1, err2, err3)
	})
	rev := revision(t, s)
	c := recv(t, ch)
	if c.Revision != rev || !sameKinds(c.Kinds, kindA, kindB) {
		t.Fatalf("change = %+v, want revision %d, kinds [%s %s]", c, rev, kindA, kindB)
	}

	update(t, s, func(tx store.Tx) error { return tx.Delete(kindB, "2") })
	c = recv(t, ch)
	if c.Revision != rev+1 || !sameKinds(c.Kinds, kindB) {
		t.Fatalf("change after Delete = %+v, want revision %d, kinds [%s]", c, rev+1, kindB)
	}

	// Updates that do not commit a write send nothing: the next
	// notification is the next real commit.
	_ = s.Update(t.Context(), func(tx store.Tx) error {
		_, _ = tx.PutAny(store.Record{Kind: kindC, ID: "1", Data: doc(`1`)})
		return errors.New("rolled back")
	})
	update(t, s, func(tx store.Tx) error { _, err := tx.Get(kindA, "1"); return err })
	update(t, s, func(tx store.Tx) error {
		_, err := tx.PutAny(store.Record{Kind: kindA, ID: "1", Data: doc(`2`)})
		return err
	})
	c = recv(t, ch)
	if c.Revision != rev+2 || !sameKinds(c.Kinds, kindA) {
		t.Fatalf("change = %+v, want revision %d, kinds [%s]", c, rev+2, kindA)
	}
}

// testChangesCoalesce checks the tail guarantee for a reader that does not
// keep up: it eventually holds a notification for the last commit, and the
// notifications it received name every kind touched since it subscribed.
func testChangesCoalesce(t *testing.T, s store.Store) {
	ch := s.Changes(t.Context())
	other := s.Changes(t.Context()) // a second subscriber is served independently
	const rounds = 30
	for i := range rounds {
		kind := []store.Kind{kindA, kindB, kindC}[i%3]
		update(t, s, func(tx store.Tx) error {
			_, err := tx.PutAny(store.Record{Kind: kind, ID: "k", Data: doc(`%d`, i)})
			return err
		})
	}
	last := revision(t, s)
	for _, sub := range []<-chan store.Change{ch, other} {
		var kinds []store.Kind
		prev := int64(0)
		for {
			c := recv(t, sub)
			if c.Revision <= prev {
				t.Fatalf("revision went from %d to %d", prev, c.Revision)
			}
			prev = c.Revision
			kinds = append(kinds, c.Kinds...)
			if c.Revision > last {
				t.Fatalf("notified revision %d beyond the last commit %d", c.Revision, last)
			}
			if c.Revision == last {
				break
			}
		}
		if !sameKinds(kinds, kindA, kindB, kindC) {
			t.Fatalf("coalesced notifications named kinds %v, want all of [%s %s %s]", kinds, kindA, kindB, kindC)
		}
	}
}

func testChangesClosedOnCancel(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	ch := s.Changes(ctx)
	keep := s.Changes(t.Context())
	cancel()
	waitClosed(t, ch)
	// Other subscribers keep working.
	put(t, s, store.Record{Kind: kindA, ID: "x", Data: doc(`1`)})
	if c := recv(t, keep); c.Revision != revision(t, s) {
		t.Fatalf("change = %+v, want revision %d", c, revision(t, s))
	}
	// Subscribing with a context already done gives a closed channel.
	waitClosed(t, s.Changes(ctx))
}

func testChangesClosedOnClose(t *testing.T, s store.Store) {
	ch := s.Changes(t.Context())
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitClosed(t, ch)
}

// waitClosed drains ch until it is closed.
func waitClosed(t *testing.T, ch <-chan store.Change) {
	t.Helper()
	deadline := time.After(hang)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("Changes channel not closed within %v", hang)
		}
	}
}

func sameKinds(got []store.Kind, want ...store.Kind) bool {
	g := slices.Compact(slices.Sorted(slices.Values(got)))
	w := slices.Compact(slices.Sorted(slices.Values(want)))
	return slices.Equal(g, w)
}

const (
	workers    = 20
	increments = 20
)

type counter struct {
	N int `json:"n"`
}

// countConcurrently has workers goroutines call increment increments
// times each, then checks that no increment was lost and that only the
// successful Updates advanced the revision.
func countConcurrently(t *testing.T, s store.Store, increment func() error) {
	t.Helper()
	put(t, s, store.Record{Kind: kindA, ID: "counter", Data: doc(`{"n":0}`)})
	rev := revision(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range increments {
				if err := increment(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent increment: %v", err)
	}
	const n = workers * increments
	wantRecord(t, get(t, s, kindA, "counter"), kindA, "counter", 1+n, fmt.Sprintf(`{"n":%d}`, n))
	if r := revision(t, s); r != rev+n {
		t.Fatalf("revision = %d, want %d", r, rev+n)
	}
}

// testConcurrentUpdates increments one counter from many goroutines, each
// increment a read-modify-write inside one Update: serializable Updates
// lose none.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	countConcurrently(t, s, func() error {
		return s.Update(t.Context(), func(tx store.Tx) error {
			c, v, err := store.Get[counter](tx, kindA, "counter")
			if err != nil {
				return err
			}
			c.N++
			_, err = store.Put(tx, kindA, "counter", v, c)
			return err
		})
	})
}

// testConcurrentCAS increments a counter read in a View and written in a
// separate Update at the version read, retrying on ErrConflict: compare-
// and-swap across transactions loses no increment either, and the
// conflicting attempts, rolled back, do not advance the revision.
func testConcurrentCAS(t *testing.T, s store.Store) {
	countConcurrently(t, s, func() error {
		for {
			var c counter
			var v int64
			err := s.View(t.Context(), func(tx store.Tx) error {
				var err error
				c, v, err = store.Get[counter](tx, kindA, "counter")
				return err
			})
			if err != nil {
				return err
			}
			c.N++
			err = s.Update(t.Context(), func(tx store.Tx) error {
				_, err := store.Put(tx, kindA, "counter", v, c)
				return err
			})
			if !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
	})
}

// testViewConsistency runs Views while Updates rewrite a set of records
// together: every View must see all of them from the same commit.
func testViewConsistency(t *testing.T, s store.Store) {
	const (
		records = 5
		commits = 40
		readers = 2
	)
	ids := make([]string, records)
	write := func(tx store.Tx, gen int) error {
		for _, id := range ids {
			if _, err := tx.PutAny(store.Record{Kind: kindA, ID: id, Data: doc(`{"gen":%d}`, gen)}); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range ids {
		ids[i] = fmt.Sprintf("v%d", i)
	}
	update(t, s, func(tx store.Tx) error { return write(tx, 0) })

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, readers+1)
	for range readers {
		wg.Go(func() {
			lastGen := 0
			for views := 0; ; views++ {
				select {
				case <-stop:
					if views > 0 {
						return
					}
				default:
				}
				err := s.View(t.Context(), func(tx store.Tx) error {
					var gens []int
					// Read one by one, with the writer running in between...
					for _, id := range ids {
						c, _, err := store.Get[struct{ Gen int }](tx, kindA, id)
						if err != nil {
							return err
						}
						gens = append(gens, c.Gen)
					}
					// ...then all at once.
					recs, _, err := tx.List(kindA, store.ListOptions{})
					if err != nil {
						return err
					}
					for _, r := range recs {
						var c struct{ Gen int }
						if err := json.Unmarshal(r.Data, &c); err != nil {
							return err
						}
						gens = append(gens, c.Gen)
					}
					for _, g := range gens {
						if g != gens[0] {
							return fmt.Errorf("View saw generations %v in one snapshot", gens)
						}
					}
					if gens[0] < lastGen {
						return fmt.Errorf("View went back from generation %d to %d", lastGen, gens[0])
					}
					lastGen = gens[0]
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		defer close(stop)
		for gen := 1; gen <= commits; gen++ {
			if err := s.Update(t.Context(), func(tx store.Tx) error { return write(tx, gen) }); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
