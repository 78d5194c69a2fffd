package credserver

import (
	"encoding/json"
	"net/http"
)

// response records what metrics and logs need about a reply.
type response struct {
	http.ResponseWriter
	status int
	route  string // route name, once resolved
	api    string // "imds", "container" or "probe"
}

func (w *response) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *response) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *response) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *response) text(code int, body string) {
	w.reply(code, "text/plain; charset=utf-8", []byte(body))
}

func (w *response) json(code int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only plain structs of strings are encoded
		w.text(http.StatusInternalServerError, "encoding response failed\n")
		return
	}
	w.reply(code, "application/json", append(b, '\n'))
}

func (w *response) reply(code int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(body)
}
