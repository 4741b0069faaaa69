function buffers(length, data, encoding, offset, value) {
  // ruleid: pb.javascript.buffer-constructor
  const a = new Buffer(length);
  // ruleid: pb.javascript.buffer-constructor
  const b = new Buffer(data, encoding);
  // ok: pb.javascript.buffer-constructor
  const c = Buffer.from(data, encoding);
  // ok: pb.javascript.buffer-constructor
  const d = Buffer.alloc(Math.min(length, 1024));

  // ruleid: pb.javascript.buffer-alloc-unsafe
  const e = Buffer.allocUnsafe(length);
  // ok: pb.javascript.buffer-alloc-unsafe
  const f = Buffer.alloc(length);

  // ruleid: pb.javascript.buffer-noassert
  const port = c.readUInt16BE(offset + 2, true);
  // ruleid: pb.javascript.buffer-noassert
  d.writeUInt32LE(value, offset, true);
  // ok: pb.javascript.buffer-noassert
  const len = c.readUInt16BE(offset);
  // ok: pb.javascript.buffer-noassert
  d.writeUInt32LE(value, offset);
  return [a, b, e, f, port, len];
}
