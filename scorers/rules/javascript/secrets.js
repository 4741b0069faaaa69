const mysql = require("mysql2");

// ruleid: pb.javascript.hardcoded-credential
const DB_PASSWORD = "s3cr3t-passw0rd";
// ok: pb.javascript.hardcoded-credential
const DB_PASSWORD_FROM_ENV = process.env.DB_PASSWORD;

const pool = mysql.createPool({
  host: "db",
  user: "app",
  // ruleid: pb.javascript.hardcoded-credential
  password: "hunter2",
});

const pool2 = mysql.createPool({
  host: "db",
  user: "app",
  // ok: pb.javascript.hardcoded-credential
  password: process.env.DB_PASSWORD,
});

function login(user, pass) {
  // ruleid: pb.javascript.hardcoded-credential
  if (user === "admin" && pass == "admin123") {
    return true;
  }
  // ok: pb.javascript.hardcoded-credential
  const passwordLabel = "Password";
  return passwordLabel.length === 0;
}

const firebaseConfig = {
  // ruleid: pb.javascript.hardcoded-cloud-token, pb.javascript.hardcoded-credential
  apiKey: "AIzaSyB3ZvJDuZ2HD-UppgPvY2by-GI0KnessXw",
  // ok: pb.javascript.hardcoded-cloud-token
  authDomain: process.env.FIREBASE_AUTH_DOMAIN,
};

// ruleid: pb.javascript.private-key-in-source
const KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIICXgIBAAKBgQDivbhR7P516x/S3BqKxupQe0LONoliupiBOesCO3SHbDrl3\n-----END RSA PRIVATE KEY-----";
// ok: pb.javascript.private-key-in-source
const PEM_HEADER = "-----BEGIN RSA PRIVATE KEY-----";

module.exports = { DB_PASSWORD, DB_PASSWORD_FROM_ENV, pool, pool2, login, firebaseConfig, KEY, PEM_HEADER };
