#[global_allocator]
static GLOBAL: server::memory::CountingAlloc = server::memory::CountingAlloc;

fn main() {
    server::panics::install();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match server::config::Config::from_cli(&args) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(1);
        }
    };
    if let Err(server::runtime::Fatal(msg)) = server::runtime::start(config) {
        eprintln!("shardis-server: {msg}");
        std::process::exit(1);
    }
}
