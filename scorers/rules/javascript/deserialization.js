const serialize = require("node-serialize");
const yaml = require("js-yaml");

function restore(req) {
  const cookie = Buffer.from(req.cookies.profile, "base64").toString();
  // ruleid: pb.javascript.unsafe-deserialization
  const profile = serialize.unserialize(cookie);
  // ok: pb.javascript.unsafe-deserialization
  const profile2 = JSON.parse(cookie);
  // ruleid: pb.javascript.unsafe-deserialization
  const doc = yaml.load(req.body, { schema: yaml.DEFAULT_FULL_SCHEMA });
  // ok: pb.javascript.unsafe-deserialization
  const doc2 = yaml.load(req.body);
  return [profile, profile2, doc, doc2];
}
