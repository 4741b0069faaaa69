package main

import (
	"os"
	"path/filepath"
	"unsafe"
)

func cast(b []byte) string {
	// ruleid: pb.go.unsafe-package
	return *(*string)(unsafe.Pointer(&b))
}

func castSafe(b []byte) string {
	// ok: pb.go.unsafe-package
	return string(b)
}

func write(data []byte) {
	// ruleid: pb.go.world-writable-permissions
	os.WriteFile("/srv/app/config.json", data, 0666)
	// ok: pb.go.world-writable-permissions
	os.WriteFile("/srv/app/config.json", data, 0600)
	// ruleid: pb.go.insecure-tempfile
	os.WriteFile(filepath.Join(os.TempDir(), "app.lock"), data, 0600)
	// ok: pb.go.insecure-tempfile
	f, _ := os.CreateTemp("", "app-*.lock")
	_ = f
}
