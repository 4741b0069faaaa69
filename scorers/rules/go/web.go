package main

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strings"
	ttemplate "text/template"
)

func comment(w http.ResponseWriter, r *http.Request) {
	msg := r.FormValue("msg")
	// ruleid: pb.go.template-unescaped
	safe := template.HTML(msg)
	// ok: pb.go.template-unescaped
	fixed := template.HTML("<b>static</b>")
	_, _ = safe, fixed
}

func greet(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	// ruleid: pb.go.reflected-xss
	fmt.Fprintf(w, "<h1>Hello %s</h1>", name)
	// ok: pb.go.reflected-xss
	fmt.Fprintf(w, "<h1>Hello %s</h1>", html.EscapeString(name))
}

func login(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	// ruleid: pb.go.open-redirect
	http.Redirect(w, r, next, http.StatusFound)
	// ok: pb.go.open-redirect
	http.Redirect(w, r, "/home", http.StatusFound)
}

var page = ttemplate.Must(ttemplate.New("p").Parse("<p>{{.}}</p>"))

func show(w http.ResponseWriter, r *http.Request) {
	// ruleid: pb.go.text-template-html
	page.Execute(w, r.URL.Query().Get("q"))
}

func render(out *strings.Builder, v string) {
	// ok: pb.go.text-template-html
	page.Execute(out, v)
}
