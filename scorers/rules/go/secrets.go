package main

import (
	"database/sql"
	"os"

	"github.com/golang-jwt/jwt/v5"
)

// ruleid: pb.go.hardcoded-credential
const apiKey = "4f9c2a7be1d04c55a3b8"

// ok: pb.go.hardcoded-credential
const apiKeyHeader = "X-API-Key"

func connect() (*sql.DB, error) {
	// ok: pb.go.hardcoded-credential
	password := os.Getenv("DB_PASSWORD")
	_ = password
	// ruleid: pb.go.hardcoded-credential
	return sql.Open("mysql", "admin:S3cr3tPass@tcp(localhost:3306)/app")
}

func sign(t *jwt.Token) (string, error) {
	// ruleid: pb.go.hardcoded-credential
	return t.SignedString([]byte("my-super-secret"))
}

func keys() {
	// ruleid: pb.go.hardcoded-token-literal
	k := "AKIAIOSFODNN7EXAMPLE"
	// ok: pb.go.hardcoded-token-literal
	region := "eu-west-1"
	_, _ = k, region
}
