struct Config {
    db_password: String,
    db_host: String,
}

fn config() -> Config {
    // ruleid: pb.rust.hardcoded-credential
    let api_key = "9f8e7d6c5b4a39281706";
    // ok: pb.rust.hardcoded-credential
    let api_key_env = std::env::var("API_KEY").unwrap_or_default();
    Config {
        // ruleid: pb.rust.hardcoded-credential
        db_password: "hunter2hunter2".to_string(),
        // ok: pb.rust.hardcoded-credential
        db_host: "localhost".to_string(),
    }
}

fn tokens() {
    // ruleid: pb.rust.hardcoded-token-literal
    let key = "AIzaSyCB0IE_olGU8GTHhoWnKsRGIKyQszXmr5A";
    // ok: pb.rust.hardcoded-token-literal
    let region = "us-east-1";
}
