use std::mem;

fn read_raw(p: *const u8) -> u8 {
    // ruleid: pb.rust.unsafe-block
    unsafe { *p }
}

fn read_safe(v: &[u8]) -> u8 {
    // ok: pb.rust.unsafe-block
    v.get(0).copied().unwrap_or(0)
}

fn bits(x: f32) -> u32 {
    // ruleid: pb.rust.unsafe-block, pb.rust.mem-transmute
    unsafe { mem::transmute::<f32, u32>(x) }
}

fn bits_safe(x: f32) -> u32 {
    // ok: pb.rust.mem-transmute
    x.to_bits()
}
