//! Unit tests of the scripting engine against a fake host (a tiny in-memory keyspace).

use super::*;
use shard::reply::Reply;
use std::collections::HashMap;
use std::sync::Arc;

/// A HashMap-backed host answering a handful of commands in RESP2 or RESP3.
#[derive(Default)]
pub(crate) struct FakeHost {
    strings: HashMap<Vec<u8>, Vec<u8>>,
    hashes: HashMap<Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>>,
    lists: HashMap<Vec<u8>, Vec<Vec<u8>>>,
    pub(crate) logs: Vec<(LogLevel, Vec<u8>)>,
    pub(crate) calls: usize,
    pub(crate) hooks: usize,
    /// on_hook answers Err with this after that many calls.
    pub(crate) kill_after: Option<(usize, String)>,
    pub(crate) repl: Vec<ReplFlags>,
}

impl Host for FakeHost {
    fn call(&mut self, args: &[&[u8]], resp3: bool) -> Vec<u8> {
        self.calls += 1;
        let mut r = Reply::new(resp3);
        let name = String::from_utf8_lossy(args[0]).to_ascii_lowercase();
        let arity = |n: usize, r: &mut Reply| {
            if args.len() != n {
                r.error(&format!(
                    "ERR Wrong number of args calling Redis command from script"
                ));
                false
            } else {
                true
            }
        };
        match name.as_str() {
            "ping" => r.simple("PONG"),
            "get" if arity(2, &mut r) => match self.strings.get(args[1]) {
                Some(v) => r.bulk(v),
                None => r.null(),
            },
            "set" if arity(3, &mut r) => {
                self.strings.insert(args[1].to_vec(), args[2].to_vec());
                r.ok();
            }
            "incr" if arity(2, &mut r) => {
                let cur = self.strings.get(args[1]).cloned().unwrap_or(b"0".to_vec());
                match std::str::from_utf8(&cur)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                {
                    Some(v) => {
                        self.strings
                            .insert(args[1].to_vec(), (v + 1).to_string().into_bytes());
                        r.int(v + 1);
                    }
                    None => r.error("ERR value is not an integer or out of range"),
                }
            }
            "del" => {
                let mut n = 0;
                for k in &args[1..] {
                    n += self.strings.remove(*k).is_some() as i64
                        + self.hashes.remove(*k).is_some() as i64
                        + self.lists.remove(*k).is_some() as i64;
                }
                r.int(n);
            }
            "hset" => {
                let h = self.hashes.entry(args[1].to_vec()).or_default();
                let mut added = 0;
                for pair in args[2..].chunks(2) {
                    if let Some(e) = h.iter_mut().find(|(f, _)| f == pair[0]) {
                        e.1 = pair[1].to_vec();
                    } else {
                        h.push((pair[0].to_vec(), pair[1].to_vec()));
                        added += 1;
                    }
                }
                r.int(added);
            }
            "hgetall" => {
                let h = self.hashes.get(args[1]).cloned().unwrap_or_default();
                r.map(h.len());
                for (f, v) in h {
                    r.bulk(&f);
                    r.bulk(&v);
                }
            }
            "lpush" => {
                if self.strings.contains_key(args[1]) {
                    r.error("WRONGTYPE Operation against a key holding the wrong kind of value");
                } else {
                    let l = self.lists.entry(args[1].to_vec()).or_default();
                    for v in &args[2..] {
                        l.insert(0, v.to_vec());
                    }
                    r.int(l.len() as i64);
                }
            }
            "lrange" => {
                let l = self.lists.get(args[1]).cloned().unwrap_or_default();
                r.array(l.len());
                for v in l {
                    r.bulk(&v);
                }
            }
            "smembers" => {
                r.set(2);
                r.bulk(b"a");
                r.bulk(b"b");
            }
            "dbl" => r.double(1.5),
            "bool" => r.boolean(true),
            "nullcmd" => r.null(),
            "nullarr" => r.null_array(),
            "bignum" => r.big_number("1234567890123456789012"),
            "verb" => r.verbatim("txt", b"some text"),
            "mixed" => {
                r.array(3);
                r.int(1);
                r.null();
                r.int(3);
            }
            "echo" if arity(2, &mut r) => r.bulk(args[1]),
            "get" | "set" | "incr" | "echo" => {}
            _ => r.error("ERR Unknown Redis command called from script"),
        }
        r.buf
    }

    fn on_hook(&mut self) -> Result<(), String> {
        self.hooks += 1;
        match &self.kill_after {
            Some((n, msg)) if self.hooks >= *n => Err(msg.clone()),
            _ => Ok(()),
        }
    }

    fn log(&mut self, level: LogLevel, msg: &[u8]) {
        self.logs.push((level, msg.to_vec()));
    }

    fn set_repl(&mut self, flags: ReplFlags) {
        self.repl.push(flags);
    }

    fn acl_check_cmd(&mut self, args: &[&[u8]]) -> Option<bool> {
        match args[0] {
            b"get" => Some(true),
            b"set" => Some(false),
            _ => None,
        }
    }
}

pub(crate) fn engine() -> Engine {
    Engine::new(Arc::new(ScriptStore::new()))
}

/// EVAL over RESP2 with a fresh fake host; the reply as text.
fn eval(script: &str) -> String {
    eval_with(
        &mut engine(),
        &mut FakeHost::default(),
        script,
        &[],
        &[],
        false,
    )
}

fn eval3(script: &str) -> String {
    eval_with(
        &mut engine(),
        &mut FakeHost::default(),
        script,
        &[],
        &[],
        true,
    )
}

fn eval_with(
    e: &mut Engine,
    h: &mut FakeHost,
    script: &str,
    keys: &[&str],
    args: &[&str],
    resp3: bool,
) -> String {
    let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
    let args: Vec<&[u8]> = args.iter().map(|k| k.as_bytes()).collect();
    String::from_utf8_lossy(&e.eval(script.as_bytes(), &keys, &args, resp3, false, h)).into_owned()
}

/// The error text of an EVAL, without the " script: <sha>, on ..." suffix.
fn eval_err(script: &str) -> String {
    let r = eval(script);
    assert!(
        r.starts_with('-'),
        "expected an error from {script:?}, got {r:?}"
    );
    let r = r.trim_end_matches("\r\n");
    match r.find(" script: ") {
        Some(i) => r[1..i].to_string(),
        None => r[1..].to_string(),
    }
}

#[test]
fn returns_basic_values() {
    assert_eq!(eval("return 1"), ":1\r\n");
    assert_eq!(eval("return 3.99"), ":3\r\n");
    assert_eq!(eval("return -3.99"), ":-3\r\n");
    assert_eq!(eval("return 'hi'"), "$2\r\nhi\r\n");
    assert_eq!(eval("return true"), ":1\r\n");
    assert_eq!(eval("return false"), "$-1\r\n");
    assert_eq!(eval("return nil"), "$-1\r\n");
    assert_eq!(
        eval("return {1, 'a', {2}}"),
        "*3\r\n:1\r\n$1\r\na\r\n*1\r\n:2\r\n"
    );
    assert_eq!(eval("return {1, nil, 3}"), "*1\r\n:1\r\n");
    assert_eq!(eval("return {}"), "*0\r\n");
    assert_eq!(eval("return {ok='fine'}"), "+fine\r\n");
    assert_eq!(eval("return {err='BAD thing'}"), "-BAD thing\r\n");
    assert_eq!(eval("return {ok='a\\r\\nb'}"), "+a  b\r\n");
    assert_eq!(eval("return 0/0"), ":-9223372036854775808\r\n");
    assert_eq!(eval("return 1e30"), ":-9223372036854775808\r\n");
    assert_eq!(eval("return function() end"), "$-1\r\n");
    assert_eq!(eval("return cjson.null"), "$-1\r\n");
}

#[test]
fn resp3_values() {
    assert_eq!(eval3("return nil"), "_\r\n");
    assert_eq!(eval3("return false"), "_\r\n");
    assert_eq!(eval3("redis.setresp(3) return false"), "#f\r\n");
    assert_eq!(
        eval("redis.setresp(3) return {true, false}"),
        "*2\r\n:1\r\n:0\r\n"
    );
    assert_eq!(eval3("return {double=1.5}"), ",1.5\r\n");
    assert_eq!(eval("return {double=1.5}"), "$3\r\n1.5\r\n");
    assert_eq!(eval3("return {big_number='123'}"), "(123\r\n");
    assert_eq!(eval("return {big_number='123'}"), "$3\r\n123\r\n");
    assert_eq!(
        eval3("return {verbatim_string={format='txt', string='hi'}}"),
        "=6\r\ntxt:hi\r\n"
    );
    assert_eq!(
        eval3("return {verbatim_string={format='t', string='hi'}}"),
        "=6\r\nt  :hi\r\n"
    );
    assert_eq!(eval3("return {map={a=1}}"), "%1\r\n$1\r\na\r\n:1\r\n");
    assert_eq!(eval("return {map={a=1}}"), "*2\r\n$1\r\na\r\n:1\r\n");
    assert_eq!(eval3("return {set={x=true}}"), "~1\r\n$1\r\nx\r\n");
    assert_eq!(eval("return {set={x=true}}"), "*1\r\n$1\r\nx\r\n");
}

#[test]
fn redis_call_conversions_resp2() {
    let mut e = engine();
    let mut h = FakeHost::default();
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "return redis.call('set', KEYS[1], ARGV[1])",
            &["k"],
            &["v"],
            false
        ),
        "+OK\r\n"
    );
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "return redis.call('get', 'k')",
            &[],
            &[],
            false
        ),
        "$1\r\nv\r\n"
    );
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "return redis.call('get', 'nokey') == false",
            &[],
            &[],
            false
        ),
        ":1\r\n"
    );
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "return type(redis.call('ping'))",
            &[],
            &[],
            false
        ),
        "$5\r\ntable\r\n"
    );
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "return redis.call('ping').ok",
            &[],
            &[],
            false
        ),
        "$4\r\nPONG\r\n"
    );
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "return redis.call('incr', 'n') + 1",
            &[],
            &[],
            false
        ),
        ":2\r\n"
    );
    // Numbers are sent as %.17g.
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "redis.call('set', 'f', 0.1) return redis.call('get', 'f')",
            &[],
            &[],
            false
        ),
        "$19\r\n0.10000000000000001\r\n"
    );
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "return redis.call('mixed')",
            &[],
            &[],
            false
        ),
        "*3\r\n:1\r\n$-1\r\n:3\r\n"
    );
    // Over RESP3 the null is nil: the array ends there.
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "redis.setresp(3) return redis.call('mixed')",
            &[],
            &[],
            false
        ),
        "*1\r\n:1\r\n"
    );
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "local t = redis.call('mixed') return {t[2] == false, t[3]}",
            &[],
            &[],
            false
        ),
        "*2\r\n:1\r\n:3\r\n"
    );
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "return redis.call('nullarr') == false",
            &[],
            &[],
            false
        ),
        ":1\r\n"
    );
    // RESP2 replies of RESP3 types as the host sends them.
    assert_eq!(
        eval_with(&mut e, &mut h, "return redis.call('dbl')", &[], &[], false),
        "$3\r\n1.5\r\n"
    );
    assert_eq!(
        eval_with(&mut e, &mut h, "return redis.call('bool')", &[], &[], false),
        ":1\r\n"
    );
}

#[test]
fn redis_call_conversions_resp3() {
    let mut e = engine();
    let mut h = FakeHost::default();
    let run = |e: &mut Engine, h: &mut FakeHost, s: &str| eval_with(e, h, s, &[], &[], true);
    run(&mut e, &mut h, "redis.call('hset', 'h', 'f', 'v')");
    assert_eq!(
        run(
            &mut e,
            &mut h,
            "redis.setresp(3) local r = redis.call('hgetall', 'h') return r.map.f"
        ),
        "$1\r\nv\r\n"
    );
    assert_eq!(
        run(
            &mut e,
            &mut h,
            "redis.setresp(3) return redis.call('hgetall', 'h')"
        ),
        "%1\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "redis.setresp(3) return redis.call('hgetall', 'h')",
            &[],
            &[],
            false
        ),
        "*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    assert_eq!(
        run(
            &mut e,
            &mut h,
            "redis.setresp(3) local s = redis.call('smembers', 'x') return {s.set.a, s.set.b}"
        ),
        "*2\r\n#t\r\n#t\r\n"
    );
    assert_eq!(
        run(
            &mut e,
            &mut h,
            "redis.setresp(3) return redis.call('dbl').double * 2"
        ),
        ":3\r\n"
    );
    assert_eq!(
        run(&mut e, &mut h, "redis.setresp(3) return redis.call('dbl')"),
        ",1.5\r\n"
    );
    assert_eq!(
        run(&mut e, &mut h, "redis.setresp(3) return redis.call('bool')"),
        "#t\r\n"
    );
    assert_eq!(
        run(
            &mut e,
            &mut h,
            "redis.setresp(3) return redis.call('nullcmd') == nil"
        ),
        "#t\r\n"
    );
    assert_eq!(
        run(
            &mut e,
            &mut h,
            "redis.setresp(3) return redis.call('bignum').big_number"
        ),
        "$22\r\n1234567890123456789012\r\n"
    );
    assert_eq!(
        run(&mut e, &mut h, "redis.setresp(3) local v = redis.call('verb').verbatim_string return {v.format, v.string}"),
        "*2\r\n$3\r\ntxt\r\n$9\r\nsome text\r\n"
    );
    assert_eq!(
        run(&mut e, &mut h, "redis.setresp(3) return redis.call('verb')"),
        "=13\r\ntxt:some text\r\n"
    );
    // The protocol resets to RESP2 for every script.
    assert_eq!(run(&mut e, &mut h, "return redis.call('nullcmd')"), "_\r\n");
    assert_eq!(
        run(&mut e, &mut h, "return redis.call('nullcmd') == false"),
        ":1\r\n"
    );
}

/// Deeply nested data never overflows a thread's stack (2 MiB, as the executors have):
/// the limits that apply are Redis' own.
#[test]
fn deep_nesting_within_a_small_stack() {
    let cases: [(&str, &str); 8] = [
        ("local t = {} t[1] = t return t", "-ERR reached lua stack limit\r\n"),
        (
            "local t = {} local c = t for i = 1, 1500 do c[1] = {} c = c[1] end return cjson.encode(t)",
            "Cannot serialise, excessive nesting (1001)",
        ),
        (
            "local t = {} local c = t for i = 1, 999 do c[1] = {} c = c[1] end return #cjson.encode(t)",
            ":2000\r\n",
        ),
        (
            "return cjson.decode(string.rep('[', 1001))",
            "Found too many nested data structures (1001) at character 1001",
        ),
        (
            "return #cjson.decode(string.rep('[', 999) .. string.rep(']', 999))",
            ":1\r\n",
        ),
        (
            "return cmsgpack.unpack(string.rep('\\145', 5000) .. '\\1')",
            "stack overflow (in function mp_decode_to_lua_array)",
        ),
        (
            "local t = {} t[1] = t return #cmsgpack.pack(t)",
            ":17\r\n",
        ),
        (
            "local j = cjson.new() j.encode_max_depth(100000) local t = {} t[1] = t return j.encode(t)",
            "Cannot serialise, excessive nesting (1501)",
        ),
    ];
    for (script, expected) in cases {
        let reply = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || eval(script))
            .unwrap()
            .join()
            .unwrap();
        assert!(reply.contains(expected), "{script}: {reply:?}");
    }
}

/// Big values go through whole: handles to Lua values are a bounded resource, nothing
/// holds one per element.
#[test]
fn big_values() {
    let r = eval("local t = {} for i = 1, 20000 do t[i] = 'x' .. i end return t");
    assert!(r.starts_with("*20000\r\n$2\r\nx1\r\n") && r.ends_with("$6\r\nx20000\r\n"));
    let r = eval3("local m = {} for i = 1, 20000 do m['k' .. i] = {i} end return {map = m}");
    assert!(r.starts_with("%20000\r\n"), "{}", &r[..20]);
    assert_eq!(r.matches("*1\r\n:").count(), 20000);
    let r = eval3("local s = {} for i = 1, 20000 do s['k' .. i] = true end return {set = s}");
    assert!(r.starts_with("~20000\r\n"));
    assert_eq!(
        eval("local t = {} for i = 1, 20000 do t['k' .. i] = 'x' .. i end return #cjson.encode(t)"),
        ":337789\r\n"
    );
    assert_eq!(
        eval("local t = {} for i = 1, 20000 do t['k' .. i] = {'x'} end return #cmsgpack.pack(t)"),
        ":188897\r\n"
    );
    assert_eq!(
        eval("local t = {} for i = 1, 20000 do t[i] = {'x' .. i} end local u = cmsgpack.unpack(cmsgpack.pack(t)) return u[20000][1]"),
        "$6\r\nx20000\r\n"
    );
    // Objects nested to the supported limit.
    assert_eq!(
        eval("local j = cjson.new() j.encode_max_depth(5000) local t = {} local c = t for i = 1, 1499 do c.a = {} c = c.a end return #j.encode(t)"),
        ":8996\r\n"
    );
}
