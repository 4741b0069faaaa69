package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"math/rand"
	"net/http"
)

func hashes(data []byte, key []byte) {
	// ruleid: pb.go.weak-hash
	a := md5.Sum(data)
	// ruleid: pb.go.weak-hash
	h := sha1.New()
	// ok: pb.go.weak-hash
	b := sha256.Sum256(data)
	// ok: pb.go.weak-hash
	m := hmac.New(sha1.New, key)
	_, _, _, _ = a, h, b, m
}

func ciphers(key []byte) {
	// ruleid: pb.go.weak-cipher
	c, _ := des.NewCipher(key)
	// ok: pb.go.weak-cipher
	blk, _ := aes.NewCipher(key)
	// ruleid: pb.go.unauthenticated-cipher-mode
	enc := cipher.NewCBCEncrypter(blk, make([]byte, 16))
	// ok: pb.go.unauthenticated-cipher-mode
	gcm, _ := cipher.NewGCM(blk)
	_, _, _ = c, enc, gcm
}

func token() string {
	letters := "abcdef0123456789"
	out := make([]byte, 16)
	for i := range out {
		// ruleid: pb.go.insecure-random
		out[i] = letters[rand.Intn(len(letters))]
	}
	return string(out)
}

func client() *http.Client {
	// ruleid: pb.go.tls-insecure-skip-verify
	bad := &tls.Config{InsecureSkipVerify: true}
	// ok: pb.go.tls-insecure-skip-verify, pb.go.weak-tls-version
	good := &tls.Config{MinVersion: tls.VersionTLS12}
	// ruleid: pb.go.weak-tls-version
	old := &tls.Config{MinVersion: tls.VersionTLS10}
	_, _ = bad, old
	return &http.Client{Transport: &http.Transport{TLSClientConfig: good}}
}

func secureToken() string {
	b := make([]byte, 16)
	// ok: pb.go.insecure-random
	crand.Read(b)
	return hex.EncodeToString(b)
}
