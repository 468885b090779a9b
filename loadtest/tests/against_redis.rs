//! End to end: shardis-bench against Debian's redis-server, checking the counts
//! it reports against the server's own INFO commandstats.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BENCH: &str = env!("CARGO_BIN_EXE_shardis-bench");

/// Kills the server when the test ends, panics included.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_in_path(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(bin))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.is_file())
}

fn start_redis() -> Server {
    let bin = find_in_path("redis-server").unwrap_or_else(|| {
        panic!(
            "redis-server is not on PATH. This test needs Debian's redis-server: \
             run the project's test setup first (bash scripts/test-setup.sh)."
        )
    });
    // Spare loopback ports in 7400-7499, starting at a pid-dependent offset so
    // parallel test runs rarely collide; a port someone else grabs is skipped.
    let offset = std::process::id() as u16 % 100;
    for i in 0..100u16 {
        let port = 7400 + (offset + i) % 100;
        if TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        let child = Command::new(&bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let mut server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = server.child.try_wait() {
                break; // lost the port race: try the next one
            }
            if command(port, "PING")
                .map(|r| r.starts_with("+PONG"))
                .unwrap_or(false)
            {
                return server;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(server.child.kill());
    }
    panic!("could not start redis-server on any port in 7400-7499");
}

/// Sends one inline command and returns the raw reply (bulk strings unwrapped).
fn command(port: u16, cmd: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(format!("{cmd}\r\n").as_bytes())?;
    let mut r = BufReader::new(s);
    let mut first = String::new();
    r.read_line(&mut first)?;
    if let Some(len) = first.strip_prefix('$') {
        let len: usize = len.trim().parse().unwrap();
        let mut body = vec![0; len + 2];
        r.read_exact(&mut body)?;
        return Ok(String::from_utf8_lossy(&body[..len]).into_owned());
    }
    Ok(first)
}

/// `calls=` of `cmdstat_<name>` in INFO commandstats (0 if never called).
fn calls(port: u16, name: &str) -> u64 {
    let info = command(port, "INFO commandstats").unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{name}:calls=")))
        .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
        .unwrap_or(0)
}

fn bench(port: u16, json: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(BENCH)
        .args([
            "-s",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-q",
            "--json-out",
        ])
        .arg(json)
        .args(args)
        .output()
        .expect("run shardis-bench");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let text = std::fs::read_to_string(json)
        .unwrap_or_else(|e| panic!("no JSON ({e}); stdout:\n{stdout}\nstderr:\n{stderr}"));
    let v = serde_json::from_str(&text).expect("valid JSON");
    (
        out.status.code().unwrap_or(-1),
        v,
        format!("{stdout}\n{stderr}"),
    )
}

fn num(v: &serde_json::Value, path: &str) -> u64 {
    let mut cur = v;
    for part in path.split('.') {
        cur = &cur[part];
    }
    cur.as_u64()
        .unwrap_or_else(|| panic!("{path} is not a count: {cur}"))
}

#[test]
fn counts_match_redis_commandstats() {
    let server = start_redis();
    let port = server.port;
    let dir = std::env::temp_dir().join(format!("shardis-bench-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // 2 threads x 4 clients x 500 requests, SET:GET 1:3 => 1000 SET + 3000 GET,
    // after preloading keys 0..199 so every GET hits.
    let (code, v, out) = bench(
        port,
        &dir.join("run.json"),
        &[
            "-t",
            "2",
            "-c",
            "4",
            "-n",
            "500",
            "--ratio",
            "1:3",
            "--pipeline",
            "4",
            "--preload",
            "200",
            "--key-maximum",
            "199",
            "--key-pattern",
            "S:R",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(num(&v, "preload.keys"), 200);
    assert_eq!(num(&v, "commands.SET.ops"), 1000, "{out}");
    assert_eq!(num(&v, "commands.GET.ops"), 3000, "{out}");
    assert_eq!(
        num(&v, "commands.GET.misses"),
        0,
        "preloaded keys must all hit"
    );
    assert_eq!(num(&v, "totals.ops"), 4000);
    assert_eq!(num(&v, "totals.errors"), 0);
    for key in ["ops_per_sec", "p50_ms", "p99_ms", "p999_ms"] {
        assert!(v["totals"][key].as_f64().unwrap() > 0.0, "totals.{key}");
        assert!(
            v["commands"]["GET"][key].as_f64().unwrap() > 0.0,
            "GET.{key}"
        );
    }
    assert_eq!(calls(port, "set"), 200 + 1000, "server-side SET count");
    assert_eq!(calls(port, "get"), 3000, "server-side GET count");
    assert_eq!(command(port, "DBSIZE").unwrap().trim(), ":200");

    // RESP3 and the glommio engine must count exactly the same way.
    let (code, v, out) = bench(
        port,
        &dir.join("resp3.json"),
        &[
            "-t",
            "1",
            "-c",
            "3",
            "-n",
            "100",
            "--ratio",
            "1:1",
            "--protocol",
            "resp3",
            "--engine",
            "glommio",
            "--key-maximum",
            "199",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(num(&v, "commands.SET.ops"), 150);
    assert_eq!(num(&v, "commands.GET.ops"), 150);
    assert_eq!(calls(port, "set"), 1200 + 150);
    assert_eq!(calls(port, "get"), 3000 + 150);
    assert_eq!(calls(port, "hello"), 3, "one HELLO 3 per connection");

    // Error replies are counted by kind and make the exit status non-zero.
    let (code, v, out) = bench(
        port,
        &dir.join("errors.json"),
        &[
            "-t",
            "1",
            "-c",
            "2",
            "-n",
            "10",
            "--command",
            "INCR __key__",
            "--key-maximum",
            "199",
        ],
    );
    assert_eq!(code, 3, "errors must fail the run: {out}");
    assert_eq!(num(&v, "totals.errors"), 20);
    assert_eq!(num(&v, "errors_by_kind.ERR"), 20);
    assert!(out.contains("ERRORS"), "{out}");
    assert_eq!(calls(port, "incr"), 20);

    let _ = std::fs::remove_dir_all(&dir);
}
