package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func getUser(db *sql.DB, r *http.Request) {
	id := r.URL.Query().Get("id")
	// ruleid: pb.go.sql-injection
	rows, _ := db.Query(fmt.Sprintf("SELECT * FROM users WHERE id = '%s'", id))
	q := "DELETE FROM users WHERE name = '" + id + "'"
	// ruleid: pb.go.sql-injection
	db.ExecContext(context.Background(), q)
	// ok: pb.go.sql-injection
	rows2, _ := db.Query("SELECT * FROM users WHERE id = $1", id)
	_, _ = rows, rows2
}

func run(host string) {
	// ruleid: pb.go.command-injection
	exec.Command("sh", "-c", "ping -c 1 "+host).Run()
	// ok: pb.go.command-injection
	exec.Command("ping", "-c", "1", host).Run()
	// ok: pb.go.command-injection
	exec.Command("sh", "-c", "uptime").Run()
}

func runTool(tool string) {
	// ruleid: pb.go.command-injection
	exec.Command(tool, "--version").Run()
}

func download(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("file")
	// ruleid: pb.go.path-traversal
	data, _ := os.ReadFile(filepath.Join("/var/data", name))
	// ok: pb.go.path-traversal
	safe, _ := os.ReadFile(filepath.Join("/var/data", filepath.Base(name)))
	w.Write(data)
	w.Write(safe)
}

func downloadChecked(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("file")
	if strings.Contains(name, "..") {
		http.Error(w, "bad", 400)
		return
	}
	// ok: pb.go.path-traversal
	data, _ := os.ReadFile(filepath.Join("/var/data", name))
	w.Write(data)
}

func proxy(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("url")
	// ruleid: pb.go.ssrf
	resp, _ := http.Get(target)
	q := r.URL.Query().Get("q")
	// ok: pb.go.ssrf
	resp2, _ := http.Get("https://api.example.com/search?q=" + q)
	_, _ = resp, resp2
}
