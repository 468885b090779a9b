fn main() {
    eprintln!("shardis-bench: not built yet");
    std::process::exit(1);
}
