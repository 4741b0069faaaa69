const crypto = require("crypto");

function makeToken() {
  // ruleid: pb.javascript.insecure-random-security, pb.javascript.insecure-random
  const token = Math.random().toString(36).substring(2);
  // ok: pb.javascript.insecure-random-security
  const safeToken = crypto.randomBytes(32).toString("hex");
  return [token, safeToken];
}

function generateSessionId() {
  // ruleid: pb.javascript.insecure-random-security, pb.javascript.insecure-random
  return "sess-" + Math.floor(Math.random() * 1e12);
}

function mfaCode() {
  // ruleid: pb.javascript.insecure-random-security, pb.javascript.insecure-random
  return String(Math.floor(Math.random() * 1e6)).padStart(6, "0");
}

function animate(star) {
  // ruleid: pb.javascript.insecure-random
  star.radius = Math.random() * 30;
  // ok: pb.javascript.insecure-random
  star.color = crypto.randomInt(0, 255);
  // ok: pb.javascript.insecure-random-security
  star.uuid = crypto.randomUUID();
}

function digests(password, data) {
  // ruleid: pb.javascript.weak-hash
  const h1 = crypto.createHash("md5").update(password).digest("hex");
  // ruleid: pb.javascript.weak-hash
  const h2 = crypto.createHash("sha1").update(data).digest("hex");
  // ok: pb.javascript.weak-hash
  const h3 = crypto.createHash("sha256").update(data).digest("hex");
  return [h1, h2, h3];
}

function encrypt(key, text) {
  // ruleid: pb.javascript.weak-cipher
  const c1 = crypto.createCipher("aes-256-cbc", key);
  // ruleid: pb.javascript.weak-cipher
  const c2 = crypto.createCipheriv("des-ede3", key, null);
  // ruleid: pb.javascript.weak-cipher
  const c3 = crypto.createCipheriv("aes-128-ecb", key, null);
  const iv = crypto.randomBytes(12);
  // ok: pb.javascript.weak-cipher
  const c4 = crypto.createCipheriv("aes-256-gcm", key, iv);
  return [c1, c2, c3, c4.update(text)];
}

function checkAuth(req, user, expectedSignature) {
  // ruleid: pb.javascript.timing-unsafe-comparison
  if (req.headers["x-api-key"] === process.env.API_KEY) {
    return true;
  }
  // ruleid: pb.javascript.timing-unsafe-comparison
  if (user.password !== req.body.password) {
    return false;
  }
  // ruleid: pb.javascript.timing-unsafe-comparison
  if (req.query.token == user.resetToken) {
    return true;
  }
  const a = Buffer.from(req.get("x-signature") || "");
  const b = Buffer.from(expectedSignature);
  // ok: pb.javascript.timing-unsafe-comparison
  const valid = a.length === b.length && crypto.timingSafeEqual(a, b);
  // ok: pb.javascript.timing-unsafe-comparison
  if (req.query.token === undefined) {
    return false;
  }
  // ok: pb.javascript.timing-unsafe-comparison
  if (window.location.hash === "#top") {
    return false;
  }
  return valid;
}
