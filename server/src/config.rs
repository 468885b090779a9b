//! Interim configuration (replaced by the full redis.conf/CONFIG module).
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    No,
    Yes,
    Local,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
    Nothing,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    pub databases: usize,
    pub requirepass: Option<Vec<u8>>,
    pub maxclients: usize,
    pub timeout_secs: u64,
    pub tcp_keepalive_secs: u64,
    pub tcp_backlog: u32,
    pub protected_mode: bool,
    pub shards: usize,
    pub dir: PathBuf,
    pub loglevel: LogLevel,
    pub logfile: String,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub enable_debug_command: Access,
    pub hz: u32,
    pub pidfile: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into(), "::1".into()],
            databases: 16,
            requirepass: None,
            maxclients: 10000,
            timeout_secs: 0,
            tcp_keepalive_secs: 300,
            tcp_backlog: 511,
            protected_mode: true,
            shards: 0,
            dir: PathBuf::from("."),
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            proto_max_bulk_len: 512 << 20,
            client_query_buffer_limit: 1 << 30,
            enable_debug_command: Access::No,
            hz: 10,
            pidfile: String::new(),
        }
    }
}

impl Config {
    pub fn from_cli(args: &[String]) -> Result<Config, String> {
        let mut c = Config::default();
        let mut i = 0;
        while i < args.len() {
            match args[i].as_str() {
                "--port" => c.port = args[i + 1].parse().map_err(|_| "bad port")?,
                "--shards" => c.shards = args[i + 1].parse().map_err(|_| "bad shards")?,
                "--bind" => c.bind = vec![args[i + 1].clone()],
                "--requirepass" => c.requirepass = Some(args[i + 1].clone().into_bytes()),
                "--enable-debug-command" => c.enable_debug_command = Access::Yes,
                _ => return Err(format!("unknown {}", args[i])),
            }
            i += 2;
        }
        Ok(c)
    }

    pub fn get(&self, _patterns: &[&[u8]]) -> Vec<(String, String)> {
        Vec::new()
    }

    pub fn set(&mut self, _pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        Err("ERR interim".into())
    }
}
