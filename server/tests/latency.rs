//! The latency monitor and latency tracking over TCP, on two shards: LATENCY LATEST /
//! HISTORY / GRAPH / DOCTOR / RESET / HISTOGRAM / HELP, INFO latencystats, the three
//! parameters and Redis' errors. `REFERENCE_PORT=<port>` runs the same expectations against
//! a real Redis started with `--enable-debug-command yes` (see `common::Target`).

mod common;

use common::{cross, q, qerr, Target};
use redis::Value;

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::VerbatimString { text, .. } => text.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        other => panic!("not an integer: {other:?}"),
    }
}

/// The pairs of a map reply (RESP3), or of the flat array RESP2 makes of it.
fn pairs(v: &Value) -> Vec<(Value, Value)> {
    match v {
        Value::Map(m) => m.clone(),
        Value::Array(a) => {
            assert!(a.len() % 2 == 0, "not a flattened map: {v:?}");
            a.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
        }
        other => panic!("not a map: {other:?}"),
    }
}

/// LATENCY LATEST as (event, time, latest, max).
fn latest(c: &mut redis::Connection) -> Vec<(String, i64, i64, i64)> {
    let v: Vec<Vec<Value>> = q(c, &["LATENCY", "LATEST"]);
    v.iter()
        .map(|e| (text(&e[0]), int(&e[1]), int(&e[2]), int(&e[3])))
        .collect()
}

fn history(c: &mut redis::Connection, event: &str) -> Vec<(i64, i64)> {
    let v: Vec<(i64, i64)> = q(c, &["LATENCY", "HISTORY", event]);
    v
}

/// One command of LATENCY HISTOGRAM's reply: name, calls, [(bucket us, calls so far)].
type Histogram = (String, i64, Vec<(i64, i64)>);

fn histogram(c: &mut redis::Connection, args: &[&str]) -> Vec<Histogram> {
    let mut all = vec!["LATENCY", "HISTOGRAM"];
    all.extend_from_slice(args);
    let v: Value = q(c, &all);
    pairs(&v)
        .iter()
        .map(|(name, h)| {
            let fields = pairs(h);
            assert_eq!(text(&fields[0].0), "calls");
            assert_eq!(text(&fields[1].0), "histogram_usec");
            let buckets = pairs(&fields[1].1)
                .iter()
                .map(|(k, v)| (int(k), int(v)))
                .collect();
            (text(name), int(&fields[0].1), buckets)
        })
        .collect()
}

/// Buckets grow, calls accumulate, and the last bucket holds every call.
fn check_buckets(name: &str, calls: i64, buckets: &[(i64, i64)]) {
    assert!(!buckets.is_empty(), "{name}");
    for w in buckets.windows(2) {
        assert!(w[0].0 < w[1].0 && w[0].1 < w[1].1, "{name}: {buckets:?}");
    }
    assert_eq!(buckets.last().unwrap().1, calls, "{name}: {buckets:?}");
}

fn latencystats(c: &mut redis::Connection) -> Vec<String> {
    let info: String = q(c, &["INFO", "latencystats"]);
    info.lines().map(str::to_string).collect()
}

/// The percentile values of `command`'s INFO latencystats line, by label.
fn percentiles(c: &mut redis::Connection, command: &str) -> Vec<(String, f64)> {
    let prefix = format!("latency_percentiles_usec_{command}:");
    let lines = latencystats(c);
    let line = lines
        .iter()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {lines:?}"));
    if line.is_empty() {
        return Vec::new();
    }
    line.split(',')
        .map(|p| {
            let (label, value) = p.split_once('=').unwrap();
            let (_, decimals) = value.split_once('.').unwrap();
            assert_eq!(decimals.len(), 3, "{p}");
            (label.to_string(), value.parse().unwrap())
        })
        .collect()
}

fn config_set(c: &mut redis::Connection, name: &str, value: &str) {
    assert_eq!(q::<String>(c, &["CONFIG", "SET", name, value]), "OK");
}

#[test]
fn parameters_as_redis() {
    let t = Target::start(2);
    let mut c = t.client();
    let got: Vec<String> = q(&mut c, &["CONFIG", "GET", "latency-*"]);
    let mut got: Vec<(String, String)> = got
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("latency-monitor-threshold".to_string(), "0".to_string()),
            ("latency-tracking".into(), "yes".into()),
            (
                "latency-tracking-info-percentiles".into(),
                "50 99 99.9".into()
            ),
        ]
    );
    config_set(
        &mut c,
        "latency-tracking-info-percentiles",
        "0 0.0001 12.5 1e1 100",
    );
    let get = |c: &mut redis::Connection| -> String {
        let v: Vec<String> = q(c, &["CONFIG", "GET", "latency-tracking-info-percentiles"]);
        v[1].clone()
    };
    assert_eq!(get(&mut c), "0 0.0001 12.5 10 100");
    config_set(&mut c, "latency-tracking-info-percentiles", "");
    assert_eq!(get(&mut c), "");
    let failed = |name: &str, why: &str| {
        format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
    };
    let invalid = failed(
        "latency-tracking-info-percentiles",
        "Invalid latency-tracking-info-percentiles parameters",
    );
    let range = failed(
        "latency-tracking-info-percentiles",
        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
    );
    for (value, err) in [
        ("50 abc", &invalid),
        ("50  99", &invalid),
        (" 50", &invalid),
        ("101", &range),
        ("-1", &range),
    ] {
        let set = ["CONFIG", "SET", "latency-tracking-info-percentiles", value];
        assert_eq!(&qerr(&mut c, &set), err, "{value:?}");
    }
    assert_eq!(get(&mut c), "", "a refused value changes nothing");
    config_set(&mut c, "latency-tracking-info-percentiles", "50 99 99.9");
    assert_eq!(
        qerr(&mut c, &["CONFIG", "SET", "latency-tracking", "maybe"]),
        failed("latency-tracking", "argument must be 'yes' or 'no'")
    );
    assert_eq!(
        qerr(
            &mut c,
            &["CONFIG", "SET", "latency-monitor-threshold", "-1"]
        ),
        failed(
            "latency-monitor-threshold",
            "argument must be between 0 and 9223372036854775807 inclusive"
        )
    );
    assert_eq!(
        qerr(
            &mut c,
            &["CONFIG", "SET", "latency-monitor-threshold", "abc"]
        ),
        failed(
            "latency-monitor-threshold",
            "argument couldn't be parsed into an integer"
        )
    );
}

#[test]
fn slow_commands_are_sampled_once_a_second_across_shards() {
    let t = Target::start_with(2, &["--enable-debug-command", "yes"]);
    let mut c = t.client();
    config_set(&mut c, "latency-monitor-threshold", "0");
    let _: i64 = q(&mut c, &["LATENCY", "RESET"]);
    assert!(latest(&mut c).is_empty());
    let doctor: String = q(&mut c, &["LATENCY", "DOCTOR"]);
    assert!(!doctor.is_empty());
    // Off: nothing is sampled, however slow.
    let _: () = q(&mut c, &["DEBUG", "SLEEP", "0.12"]);
    assert!(latest(&mut c).is_empty());

    config_set(&mut c, "latency-monitor-threshold", "100");
    let _: () = q(&mut c, &["DEBUG", "SLEEP", "0"]);
    assert!(history(&mut c, "command").is_empty(), "below the threshold");
    // Slow commands from many connections, served by both executors at once: each keeps
    // its own samples, LATENCY shows one series.
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let mut w = t.client();
            std::thread::spawn(move || {
                for _ in 0..2 {
                    let _: () = q(&mut w, &["DEBUG", "SLEEP", "0.12"]);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let now: Vec<String> = q(&mut c, &["TIME"]);
    let now: i64 = now[0].parse().unwrap();
    let events = latest(&mut c);
    let (_, time, last, max) = events
        .iter()
        .find(|e| e.0 == "command")
        .cloned()
        .unwrap_or_else(|| panic!("no command event: {events:?}"));
    assert!((now - 60..=now).contains(&time), "{time} vs {now}");
    assert!(last >= 100 && max >= last, "{events:?}");
    let samples = history(&mut c, "command");
    assert!(!samples.is_empty());
    for w in samples.windows(2) {
        assert!(
            w[0].0 < w[1].0,
            "one sample a second, oldest first: {samples:?}"
        );
    }
    assert!(samples.iter().all(|s| s.1 >= 100), "{samples:?}");
    assert_eq!(*samples.last().unwrap(), (time, last));
    let high = samples.iter().map(|s| s.1).max().unwrap();
    let low = samples.iter().map(|s| s.1).min().unwrap();
    assert_eq!(high, max);
    assert!(
        history(&mut c, "COMMAND").is_empty(),
        "names are exact here"
    );
    assert!(history(&mut c, "nosuch").is_empty());

    let graph: String = q(&mut c, &["LATENCY", "GRAPH", "command"]);
    let head = format!(
        "command - high {high} ms, low {low} ms (all time high {max} ms)\n{}\n",
        "-".repeat(80)
    );
    assert!(graph.starts_with(&head), "{graph}");
    // Four rows of the sparkline, a blank row, the labels ("0s", "1s"...).
    let rows: Vec<&str> = graph.lines().skip(2).collect();
    assert!(
        rows.len() >= 7 && rows.iter().all(|r| r.len() == samples.len()),
        "{graph}"
    );
    assert_eq!(
        qerr(&mut c, &["LATENCY", "GRAPH", "nosuch"]),
        "ERR No samples available for event 'nosuch'"
    );
    let doctor: String = q(&mut c, &["LATENCY", "DOCTOR"]);
    let line = format!("command: {} latency spikes (average ", samples.len());
    assert!(doctor.contains(&line), "{doctor}");
    assert!(
        doctor.contains(&format!("Worst all time event {max}ms.")),
        "{doctor}"
    );

    assert_eq!(q::<i64>(&mut c, &["LATENCY", "RESET", "nosuch"]), 0);
    assert_eq!(
        q::<i64>(&mut c, &["LATENCY", "RESET", "COMMAND", "command"]),
        1,
        "one event, whatever its case and however many executors sampled it"
    );
    assert!(history(&mut c, "command").is_empty());
    assert!(latest(&mut c).iter().all(|e| e.0 != "command"));
    let _: () = q(&mut c, &["DEBUG", "SLEEP", "0.12"]);
    assert!(q::<i64>(&mut c, &["LATENCY", "RESET"]) >= 1);
    assert!(latest(&mut c).is_empty());
    config_set(&mut c, "latency-monitor-threshold", "0");
}

#[test]
fn subcommands_and_errors_as_redis() {
    let t = Target::start(2);
    let mut c = t.client();
    assert_eq!(
        qerr(&mut c, &["LATENCY", "foo"]),
        "ERR unknown subcommand 'foo'. Try LATENCY HELP."
    );
    let long = "x".repeat(200);
    assert_eq!(
        qerr(&mut c, &["LATENCY", &long]),
        format!(
            "ERR unknown subcommand '{}'. Try LATENCY HELP.",
            &long[..128]
        )
    );
    for (args, name) in [
        (&["LATENCY"][..], "latency"),
        (&["LATENCY", "HISTORY"], "latency|history"),
        (&["LATENCY", "GRAPH"], "latency|graph"),
        (&["LATENCY", "latest", "x"], "latency|latest"),
        (&["LATENCY", "DOCTOR", "x"], "latency|doctor"),
        (&["LATENCY", "HELP", "x"], "latency|help"),
    ] {
        assert_eq!(
            qerr(&mut c, args),
            format!("ERR wrong number of arguments for '{name}' command")
        );
    }
    let help: Vec<String> = q(&mut c, &["LATENCY", "HELP"]);
    assert_eq!(
        help[0],
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(help.len(), 17, "{help:?}");
    for line in [
        "DOCTOR",
        "GRAPH <event>",
        "HISTORY <event>",
        "LATEST",
        "RESET [<event> ...]",
    ] {
        assert!(help.contains(&line.to_string()), "{line}: {help:?}");
    }
    assert_eq!(help[12], "HISTOGRAM [COMMAND ...]");
    assert_eq!(help[15], "HELP");

    // The admin subcommands are @admin; HELP is not.
    let _: () = q(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "latency-user",
            "on",
            "nopass",
            "+@all",
            "-@admin",
        ],
    );
    let mut u = t.client();
    let _: () = q(&mut u, &["AUTH", "latency-user", "x"]);
    // As 7.2 words it (the reference 7.0 says "this user").
    let who = if t.is_reference() {
        "this user"
    } else {
        "User latency-user"
    };
    assert_eq!(
        qerr(&mut u, &["LATENCY", "LATEST"]),
        format!("NOPERM {who} has no permissions to run the 'latency|latest' command")
    );
    let help: Vec<String> = q(&mut u, &["LATENCY", "HELP"]);
    assert_eq!(help.len(), 17);
    let _: i64 = q(&mut c, &["ACL", "DELUSER", "latency-user"]);
}

#[test]
fn histograms_add_up_the_calls_of_every_shard() {
    let t = Target::start(2);
    let mut c = t.client();
    config_set(&mut c, "latency-tracking", "yes");
    let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]);
    let (k0, k1) = cross("lat");
    let _: () = q(&mut c, &["SET", &k0, "a"]);
    let _: () = q(&mut c, &["SET", &k1, "b"]);
    for k in [&k0, &k1, &k0] {
        let _: String = q(&mut c, &["GET", k]);
    }
    let h = histogram(&mut c, &["get", "nosuch", "SET"]);
    assert_eq!(
        h.iter().map(|e| (e.0.as_str(), e.1)).collect::<Vec<_>>(),
        [("get", 3), ("set", 2)],
        "in the order asked, unknown commands left out"
    );
    for (name, calls, buckets) in &h {
        check_buckets(name, *calls, buckets);
    }
    // All commands: those run so far, CONFIG RESETSTAT's among them.
    let all = histogram(&mut c, &[]);
    let names: Vec<&str> = all.iter().map(|e| e.0.as_str()).collect();
    for name in ["get", "set", "config|resetstat", "latency|histogram"] {
        assert!(names.contains(&name), "{name}: {names:?}");
    }
    assert!(!names.contains(&"config"), "{names:?}");
    for (name, calls, buckets) in &all {
        check_buckets(name, *calls, buckets);
    }
    // A container stands for its subcommands.
    let config = histogram(&mut c, &["CONFIG"]);
    assert!(
        config.iter().any(|e| e.0 == "config|resetstat"),
        "{config:?}"
    );
    assert!(
        config.iter().all(|e| e.0.starts_with("config|")),
        "{config:?}"
    );
    let one = histogram(&mut c, &["config|resetstat"]);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].1, 1);

    // RESP3: maps all the way down.
    let mut c3 = redis::Client::open(format!("{}?protocol=resp3", t.url()))
        .unwrap()
        .get_connection()
        .unwrap();
    let v: Value = redis::cmd("LATENCY")
        .arg("HISTOGRAM")
        .arg("set")
        .query(&mut c3)
        .unwrap();
    let Value::Map(m) = &v else {
        panic!("not a map: {v:?}")
    };
    let Value::Map(fields) = &m[0].1 else {
        panic!("{v:?}")
    };
    assert_eq!(
        fields[0],
        (Value::BulkString(b"calls".to_vec()), Value::Int(2))
    );
    assert!(matches!(fields[1].1, Value::Map(_)), "{v:?}");

    // CONFIG RESETSTAT empties them.
    let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]);
    assert!(histogram(&mut c, &["get", "set"]).is_empty());
}

#[test]
fn info_latencystats_shows_each_commands_percentiles() {
    let t = Target::start(2);
    let mut c = t.client();
    config_set(&mut c, "latency-tracking", "yes");
    let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]);
    let (k0, k1) = cross("pct");
    let _: () = q(&mut c, &["SET", &k0, "a"]);
    for k in [&k0, &k1] {
        let _: Option<String> = q(&mut c, &["GET", k]);
    }
    let p = percentiles(&mut c, "get");
    let labels: Vec<&str> = p.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(labels, ["p50", "p99", "p99.9"]);
    assert!(
        p[0].1 > 0.0 && p[0].1 <= p[1].1 && p[1].1 <= p[2].1,
        "{p:?}"
    );
    assert_eq!(percentiles(&mut c, "set").len(), 3);
    assert_eq!(latencystats(&mut c)[0], "# Latencystats");

    config_set(&mut c, "latency-tracking-info-percentiles", "0 50 100");
    let p = percentiles(&mut c, "get");
    let labels: Vec<&str> = p.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(labels, ["p0", "p50", "p100"]);
    assert!(p[0].1 <= p[1].1 && p[1].1 <= p[2].1, "{p:?}");
    config_set(&mut c, "latency-tracking-info-percentiles", "");
    assert!(percentiles(&mut c, "get").is_empty());
    config_set(&mut c, "latency-tracking-info-percentiles", "50 99 99.9");

    // Off: INFO shows no line and calls are not counted, the histograms stay.
    config_set(&mut c, "latency-tracking", "no");
    assert_eq!(latencystats(&mut c), ["# Latencystats"]);
    let _: Option<String> = q(&mut c, &["GET", &k1]);
    assert_eq!(histogram(&mut c, &["get"])[0].1, 2);
    config_set(&mut c, "latency-tracking", "yes");
    let _: Option<String> = q(&mut c, &["GET", &k1]);
    assert_eq!(histogram(&mut c, &["get"])[0].1, 3);

    // Only INFO's extra sections show it.
    let default: String = q(&mut c, &["INFO"]);
    assert!(!default.contains("# Latencystats"));
    let everything: String = q(&mut c, &["INFO", "everything"]);
    assert!(everything.contains("# Latencystats\r\nlatency_percentiles_usec_"));
}
