package rolesanywhere

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/awserr"
	ra "github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
)

// Page tokens are opaque to clients: base64url of "<kind>/<last id>".
// Binding the kind makes a token of one List operation invalid for
// another instead of silently skipping records.

func encodeToken(kind store.Kind, lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(kind) + "/" + lastID))
}

func decodeToken(kind store.Kind, token string) (string, error) {
	invalid := awserr.Validation("Invalid nextToken").Because(ReasonPageToken, "token %q is not a %s page token", trimmed(token), kind)
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", invalid
	}
	k, id, ok := strings.Cut(string(raw), "/")
	if !ok || k != string(kind) || !ra.ValidID(id) {
		return "", invalid
	}
	return id, nil
}

// pageOf reads a List request's query: nextToken and pageSize.
func pageOf(r *http.Request, kind store.Kind) (store.ListOptions, error) {
	q := r.URL.Query()
	var token *string
	var size *int32
	if q.Has("nextToken") {
		token = ra.Ptr(q.Get("nextToken"))
	}
	if q.Has("pageSize") {
		v := q.Get("pageSize")
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return store.ListOptions{}, restjson.Serialization(restjson.ReasonQuery, "Invalid value for pageSize: '%s' is not an integer", trimmed(v))
		}
		size = ra.Ptr(int32(n))
	}
	if err := ra.ValidateList(token, size, MaxPageSize); err != nil {
		return store.ListOptions{}, err
	}
	opts := store.ListOptions{Limit: DefaultPageSize}
	if size != nil {
		opts.Limit = int(*size)
	}
	if token != nil {
		id, err := decodeToken(kind, *token)
		if err != nil {
			return store.ListOptions{}, err
		}
		opts.After = id
	}
	return opts, nil
}

// listPage serves one page of a kind, each record shown through view.
func listPage[T any](r *http.Request, st store.Store, kind store.Kind, view func(T) T) ([]T, *string, error) {
	opts, err := pageOf(r, kind)
	if err != nil {
		return nil, nil, err
	}
	var items []T
	var next string
	err = st.View(r.Context(), func(tx store.Tx) error {
		var err error
		items, next, err = store.List[T](tx, kind, opts)
		return err
	})
	if err != nil {
		return nil, nil, storeErr(err, kind, "")
	}
	out := make([]T, len(items))
	for i, v := range items {
		out[i] = view(v)
	}
	if next == "" {
		return out, nil, nil
	}
	return out, ra.Ptr(encodeToken(kind, next)), nil
}
