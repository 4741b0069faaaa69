use std::env;
use std::fs;
use std::path::PathBuf;

fn plugin_dir() -> PathBuf {
    // ruleid: pb.rust.current-exe-trust
    let exe = env::current_exe().unwrap();
    exe.parent().unwrap().join("plugins")
}

fn plugin_dir_fixed() -> PathBuf {
    // ok: pb.rust.current-exe-trust
    PathBuf::from("/usr/lib/myapp/plugins")
}

fn is_admin_mode() -> bool {
    // ruleid: pb.rust.env-args-trust
    let name = env::args().next().unwrap_or_default();
    name.ends_with("admin")
}

fn config_from_env() -> Option<String> {
    // ok: pb.rust.env-args-trust
    env::var("APP_CONFIG").ok()
}

fn write_cache(data: &[u8]) -> std::io::Result<()> {
    // ruleid: pb.rust.temp-dir-predictable
    let path = env::temp_dir().join("myapp-cache.bin");
    fs::write(path, data)
}

fn write_cache_safe(data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    // ok: pb.rust.temp-dir-predictable
    let mut f = tempfile::NamedTempFile::new()?;
    f.write_all(data)
}
