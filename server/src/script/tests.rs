//! Unit tests of the scripting engine against a fake host (a tiny in-memory keyspace).

use super::one_call::OneCall;
use super::*;
use shard::reply::Reply;
use std::collections::HashMap;
use std::sync::Arc;

/// A hash's fields in insertion order.
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// A HashMap-backed host answering a handful of commands in RESP2 or RESP3.
#[derive(Default)]
pub(crate) struct FakeHost {
    strings: HashMap<Vec<u8>, Vec<u8>>,
    hashes: HashMap<Vec<u8>, Fields>,
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
                r.error("ERR Wrong number of args calling Redis command from script");
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

#[test]
fn errors_from_commands() {
    let mut e = engine();
    let mut h = FakeHost::default();
    let mut run = |s: &str| eval_with(&mut e, &mut h, s, &[], &[], false);
    // redis.call raises the error table: the reply is the error, decorated with where.
    assert_eq!(
        run("redis.call('set', 's', 'x') return redis.call('lpush', 's', 'a')"),
        "-WRONGTYPE Operation against a key holding the wrong kind of value script: \
         0cd3d5c0a08ab5c9d81de42f24e0dc1f2b11d8b3, on @user_script:1.\r\n"
            .replace(
                "0cd3d5c0a08ab5c9d81de42f24e0dc1f2b11d8b3",
                &sha("redis.call('set', 's', 'x') return redis.call('lpush', 's', 'a')")
            )
    );
    // redis.pcall returns it; returned as is it is a plain error reply.
    assert_eq!(
        run("return redis.pcall('lpush', 's', 'a')"),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        run(
            "local e = redis.pcall('nosuch') return {e.err, tostring(e.ignore_error_stats_update)}"
        ),
        "*2\r\n$44\r\nERR Unknown Redis command called from script\r\n$4\r\ntrue\r\n"
    );
    // pcall() of redis.call gives the message, xpcall's handler the table.
    assert_eq!(
        run("local ok, e = pcall(redis.call, 'nosuch') return {tostring(ok), e}"),
        "*2\r\n$5\r\nfalse\r\n$44\r\nERR Unknown Redis command called from script\r\n"
    );
    assert_eq!(
        run("local ok, e = xpcall(function() redis.call('nosuch') end, function(e) return type(e) end) return e"),
        "$5\r\ntable\r\n"
    );
    assert_eq!(
        run("return redis.pcall()"),
        "-ERR Please specify at least one argument for this redis lib call\r\n"
    );
    assert_eq!(
        run("return redis.pcall('get', {})"),
        "-ERR Lua redis lib command arguments must be strings or integers\r\n"
    );
    let r = run("return redis.call('get', {})");
    assert!(
        r.starts_with("-ERR Lua redis lib command arguments must be strings or integers script: ")
    );
    assert!(r.ends_with(", on @user_script:1.\r\n"));
}

fn sha(body: &str) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

#[test]
fn error_and_status_replies() {
    assert_eq!(
        eval("return redis.error_reply('My Error')"),
        "-My Error\r\n"
    );
    assert_eq!(eval("return redis.error_reply('oops')"), "-ERR oops\r\n");
    assert_eq!(eval("return redis.error_reply('-X y')"), "-X y\r\n");
    assert_eq!(eval("return redis.error_reply('')"), "-ERR \r\n");
    assert_eq!(
        eval("return redis.error_reply(5)"),
        "-ERR wrong number or type of arguments\r\n"
    );
    assert_eq!(eval("return redis.error_reply('a\\0b c')"), "-ERR a\r\n");
    assert_eq!(eval("return redis.status_reply('FINE')"), "+FINE\r\n");
    assert_eq!(
        eval("return redis.status_reply(5)"),
        "-ERR wrong number or type of arguments\r\n"
    );
    assert_eq!(eval("return {err='x\\ny'}"), "-x y\r\n");
    assert_eq!(eval("return {err=''}"), "-\r\n");
    // Raised error tables keep their text and get the location.
    assert_eq!(eval_err("error(redis.error_reply('MY boom'))"), "MY boom");
    assert_eq!(eval_err("error({err='MY boom'})"), "MY boom");
    assert_eq!(eval_err("error('boom')"), "ERR user_script:1: boom");
    assert_eq!(eval_err("error('boom', 0)"), "ERR boom");
    assert_eq!(eval_err("error(12)"), "ERR user_script:1: 12");
    assert_eq!(eval_err("error(nil)"), "ERR nil");
    assert_eq!(eval_err("error({})"), "ERR unknown error");
    assert_eq!(
        eval("error(redis)"),
        format!(
            "-ERR err_handler_def:10: Attempt to modify a readonly table script: {}, on @err_handler_def:10.\r\n",
            sha("error(redis)")
        )
    );
    assert_eq!(
        eval("local function f()\n  local a = 1\n  error('deep')\nend\nf()"),
        format!(
            "-ERR user_script:3: deep script: {}, on @user_script:3.\r\n",
            sha("local function f()\n  local a = 1\n  error('deep')\nend\nf()")
        )
    );
    assert_eq!(
        eval("return 1 +"),
        "-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'\r\n"
    );
    assert_eq!(
        eval_err("return cjson.decode('x')"),
        "ERR user_script:1: Expected value but found invalid token at character 1"
    );
    assert_eq!(
        eval("return {pcall(cjson.decode, 'x')}"),
        "*2\r\n$-1\r\n$53\r\nExpected value but found invalid token at character 1\r\n"
    );
    assert_eq!(
        eval_err("return cjson.decode()"),
        "ERR user_script:1: bad argument #1 to 'decode' (expected 1 argument)"
    );
    assert_eq!(
        eval_err("local d = cjson.decode return d()"),
        "ERR user_script:1: bad argument #1 to 'd' (expected 1 argument)"
    );
}

#[test]
fn redis_api_helpers() {
    assert_eq!(
        eval("return redis.sha1hex('')"),
        "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"
    );
    assert_eq!(
        eval("return redis.sha1hex(nil)"),
        eval("return redis.sha1hex('')")
    );
    assert_eq!(
        eval_err("return redis.sha1hex()"),
        "ERR wrong number of arguments"
    );
    assert_eq!(eval("return redis.breakpoint()"), "$-1\r\n");
    assert_eq!(eval("return redis.replicate_commands()"), ":1\r\n");
    assert_eq!(eval("return {redis.debug('x')}"), "*0\r\n");
    assert_eq!(
        eval("return redis.REDIS_VERSION"),
        format!(
            "${}\r\n{}\r\n",
            crate::REDIS_VERSION.len(),
            crate::REDIS_VERSION
        )
    );
    assert_eq!(
        eval("return redis.REDIS_VERSION_NUM"),
        ":459268\r\n".replace(
            "459268",
            &sandbox::version_num(crate::REDIS_VERSION).to_string()
        )
    );
    assert_eq!(sandbox::version_num("7.2.4"), 0x070204);
    assert_eq!(
        eval_err("redis.setresp(4)"),
        "ERR RESP version must be 2 or 3."
    );
    assert_eq!(
        eval_err("redis.setresp()"),
        "ERR redis.setresp() requires one argument."
    );
    assert_eq!(
        eval_err("redis.set_repl(8)"),
        "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."
    );
    assert_eq!(
        eval_err("redis.set_repl()"),
        "ERR redis.set_repl() requires two arguments."
    );
    assert_eq!(
        eval_err("redis.log(1)"),
        "ERR redis.log() requires two arguments or more."
    );
    assert_eq!(
        eval_err("redis.log('x', 1)"),
        "ERR First argument must be a number (log level)."
    );
    assert_eq!(eval_err("redis.log(4, 1)"), "ERR Invalid debug level.");

    let mut e = engine();
    let mut h = FakeHost::default();
    eval_with(
        &mut e,
        &mut h,
        "redis.log(redis.LOG_WARNING, 'a', 1, {}, 'b') redis.log(redis.LOG_DEBUG, 'x') \
         redis.set_repl(redis.REPL_AOF) redis.set_repl(redis.REPL_ALL)",
        &[],
        &[],
        false,
    );
    assert_eq!(
        h.logs,
        vec![
            (LogLevel::Warning, b"a 1 b".to_vec()),
            (LogLevel::Debug, b"x".to_vec())
        ]
    );
    assert_eq!(h.repl, vec![ReplFlags::AOF, ReplFlags::ALL]);
    assert!(ReplFlags::AOF.aof() && !ReplFlags::AOF.replicas());
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "return {redis.acl_check_cmd('get', 'k'), redis.acl_check_cmd('set', 'k', 'v')}",
            &[],
            &[],
            true
        ),
        "*2\r\n:1\r\n_\r\n"
    );
    let r = eval_with(
        &mut e,
        &mut h,
        "return redis.acl_check_cmd('nosuch')",
        &[],
        &[],
        false,
    );
    assert!(r.starts_with("-ERR Invalid command passed to redis.acl_check_cmd() script: "));
}

#[test]
fn math_random_is_rand48() {
    // Redis' generator starts from a fixed state and is not reseeded per script.
    let mut e = engine();
    let mut h = FakeHost::default();
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "return tostring(math.random())",
            &[],
            &[],
            false
        ),
        "$16\r\n0.39646477363839\r\n"
    );
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "return tostring(math.random())",
            &[],
            &[],
            false
        ),
        "$16\r\n0.84048536971234\r\n"
    );
    let seeded =
        "math.randomseed(42) return {math.random(10), math.random(5, 7), math.random(100)}";
    let a = eval_with(&mut e, &mut h, seeded, &[], &[], false);
    assert_eq!(a, eval(seeded));
    assert_eq!(
        eval_err("return math.random(0)"),
        "ERR user_script:1: bad argument #1 to 'random' (interval is empty)"
    );
    assert_eq!(
        eval_err("return math.random(1, 2, 3)"),
        "ERR user_script:1: wrong number of arguments"
    );
}

#[test]
fn sandbox_globals_are_protected() {
    assert_eq!(
        eval_err("x = 1"),
        "ERR user_script:1: Attempt to modify a readonly table"
    );
    assert_eq!(
        eval_err("_G.x = 1"),
        "ERR user_script:1: Attempt to modify a readonly table"
    );
    assert_eq!(
        eval_err("return x"),
        "ERR user_script:1: Script attempted to access nonexistent global variable 'x'"
    );
    assert_eq!(
        eval_err("local function f() return y end return f()"),
        "ERR user_script:1: Script attempted to access nonexistent global variable 'y'"
    );
    assert_eq!(
        eval_err("rawset(_G, 'x', 1)"),
        "ERR Attempt to modify a readonly table"
    );
    assert_eq!(
        eval_err("setmetatable(_G, {})"),
        "ERR Attempt to modify a readonly table"
    );
    assert_eq!(
        eval_err("getmetatable(_G).__index = nil"),
        "ERR user_script:1: Attempt to modify a readonly table"
    );
    assert_eq!(eval("return rawget(_G, 'nosuch')"), "$-1\r\n");
    assert_eq!(eval("return rawget(_G, 'redis') == redis"), ":1\r\n");
    assert_eq!(eval("return _G == _G._G"), ":1\r\n");
    for (lib, field) in [
        ("redis", "call"),
        ("string", "rep"),
        ("math", "random"),
        ("table", "insert"),
        ("cjson", "encode"),
        ("cmsgpack", "pack"),
        ("bit", "band"),
        ("struct", "pack"),
        ("coroutine", "wrap"),
    ] {
        assert_eq!(
            eval_err(&format!("{lib}.{field} = nil")),
            "ERR user_script:1: Attempt to modify a readonly table",
            "{lib}"
        );
        assert_eq!(
            eval_err(&format!("{lib}.newfield = 1")),
            "ERR user_script:1: Attempt to modify a readonly table"
        );
        assert_eq!(
            eval_err(&format!("rawset({lib}, '{field}', 1)")),
            "ERR Attempt to modify a readonly table"
        );
        assert_eq!(
            eval(&format!("return next({lib}) ~= nil")),
            ":1\r\n",
            "{lib}"
        );
    }
    assert_eq!(
        eval_err("table.insert(string, 'x')"),
        "ERR Attempt to modify a readonly table"
    );
    assert_eq!(
        eval_err("getmetatable('').__index = {}"),
        "ERR user_script:1: Attempt to modify a readonly table"
    );
    assert_eq!(eval("return getmetatable('').__index == string"), ":1\r\n");
    assert_eq!(eval("return ('x'):rep(3)"), "$3\r\nxxx\r\n");
    // What Redis does not load.
    for name in [
        "os", "io", "debug", "require", "loadfile", "dofile", "print", "getfenv", "setfenv",
        "newproxy", "module", "package",
    ] {
        assert_eq!(
            eval_err(&format!("return {name}")),
            format!("ERR user_script:1: Script attempted to access nonexistent global variable '{name}'")
        );
    }
    // Bytecode never loads.
    assert_eq!(
        eval(
            "local f, e = loadstring(string.dump(function() return 1 end)) return {tostring(f), e}"
        ),
        "*2\r\n$3\r\nnil\r\n$53\r\n[string \"\x1bLuaQ\"]:1: unexpected symbol near 'char(27)'\r\n"
    );
    assert_eq!(
        eval("local f, e = load(function() return string.dump(function() return 1 end) end) return e"),
        "$43\r\n(load):1: unexpected symbol near 'char(27)'\r\n"
    );
    assert!(eval("\x1bLuaQ").contains("unexpected symbol near 'char(27)'"));
    assert_eq!(eval("return loadstring('return 1 + 1')()"), ":2\r\n");
    assert_eq!(
        eval_err("loadstring('z = 1')()"),
        "ERR [string \"z = 1\"]:1: Attempt to modify a readonly table"
    );
}

#[test]
fn scripts_cannot_change_the_next_script() {
    let mut e = engine();
    let mut h = FakeHost::default();
    let attempts = [
        "rawset(redis, 'call', function() return 'pwned' end)",
        "table.insert(redis, 'x')",
        "pcall(rawset, string, 'rep', 1)",
        "pcall(setmetatable, _G, {__index = function() return 1 end})",
        "cjson.encode_max_depth(1)",
        "KEYS[1] = 'changed'",
    ];
    for a in attempts {
        eval_with(&mut e, &mut h, a, &["k"], &[], false);
    }
    assert_eq!(
        eval_with(
            &mut e,
            &mut h,
            "return {type(redis.call), #redis, string.rep('a', 2), cjson.encode({{1}}), KEYS[1]}",
            &["k"],
            &[],
            false
        ),
        "*5\r\n$8\r\nfunction\r\n:0\r\n$2\r\naa\r\n$5\r\n[[1]]\r\n$1\r\nk\r\n"
    );
    assert_eq!(
        eval_with(&mut e, &mut h, "return nosuch", &[], &[], false)
            .split(" script:")
            .next()
            .unwrap(),
        "-ERR user_script:1: Script attempted to access nonexistent global variable 'nosuch'"
    );
}

#[test]
fn bad_input_never_panics() {
    let cases = [
        "return '\0'",
        "return \"\\255\\254\"",
        "local x = 'a\0b' return #x",
        "return 1e308 * 10",
        "return struct.pack('c2000000000', 'x')",
        "return struct.unpack('c2000000000', 'x')",
        "return struct.pack('!' .. string.rep('9', 50), 1)",
        "return {struct.unpack('>I32', string.rep('\\255', 32))}",
        "return cmsgpack.unpack('\\221\\255\\255\\255\\255')",
        "return cmsgpack.unpack('\\223\\255\\255\\255\\255')",
        "return cmsgpack.unpack('\\219\\255\\255\\255\\255')",
        "return cjson.decode('\"\\\\u')",
        "return cjson.decode(string.rep('\"', 3))",
        "return bit.tohex(1, -2147483648)",
        "return redis.call(string.rep('x', 100000))",
        "return ((((((((((1))))))))))",
        "local function f() return 1 + f() end return f()",
        "return string.rep('x', 100):rep(100):len()",
        "return coroutine.wrap(function() coroutine.yield(1) end)()",
        "return pcall(coroutine.yield)",
    ];
    for c in cases {
        let r = eval(c);
        assert!(r.starts_with(['-', ':', '$', '*']), "{c}: {r:?}");
    }
    assert!(eval("return \"\\0\" .. 'x'").starts_with("$2\r\n\0x"));
    // A script that is only a NUL byte, and bytes that are not UTF-8.
    assert!(eval("\0").starts_with("-ERR Error compiling script"));
    let mut e = engine();
    let r = e.eval(
        b"return '\xff\xfe'",
        &[],
        &[],
        false,
        false,
        &mut FakeHost::default(),
    );
    assert_eq!(r, b"$2\r\n\xff\xfe\r\n");
}

#[test]
fn script_cache_and_flush() {
    let store = Arc::new(ScriptStore::new());
    let mut a = Engine::new(store.clone());
    let mut b = Engine::new(store.clone());
    let mut h = FakeHost::default();
    let body = "return ARGV[1]";
    let sha = a.script_load(body.as_bytes()).unwrap();
    assert_eq!(
        sha,
        "6e7a52e0ab6b1f0ba9c1e0f63a7e8b0a35d0e3b4".replace(
            "6e7a52e0ab6b1f0ba9c1e0f63a7e8b0a35d0e3b4",
            &super::tests::sha(body)
        )
    );
    // Any engine runs it by SHA1, in any case.
    assert_eq!(
        b.evalsha(sha.as_bytes(), &[], &[b"x"], false, false, &mut h),
        b"$1\r\nx\r\n"
    );
    assert_eq!(
        b.evalsha(
            sha.to_uppercase().as_bytes(),
            &[],
            &[b"y"],
            false,
            false,
            &mut h
        ),
        b"$1\r\ny\r\n"
    );
    assert_eq!(
        store.scripts_exist(&[sha.as_bytes(), sha.to_uppercase().as_bytes(), b"abc"]),
        vec![true, true, false]
    );
    assert_eq!(store.script_stats().0, 1);
    let noscript = b"-NOSCRIPT No matching script. Please use EVAL.\r\n";
    assert_eq!(b.evalsha(b"ffff", &[], &[], false, false, &mut h), noscript);
    assert_eq!(
        b.evalsha(&[b'a'; 40], &[], &[], false, false, &mut h),
        noscript
    );
    // A script that does not compile is not cached.
    let err = a.script_load(b"return +").unwrap_err();
    assert_eq!(
        err.to_string(),
        "ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'"
    );
    assert_eq!(store.script_stats().0, 1);
    // EVAL caches; SCRIPT FLUSH empties every engine.
    let p = a.prepare_eval(b"return 2").unwrap();
    assert_eq!(p.sha(), Some(super::tests::sha("return 2").as_str()));
    assert_eq!(store.script_stats().0, 2);
    store.script_flush();
    assert_eq!(store.script_stats(), (0, 0));
    assert_eq!(
        b.evalsha(sha.as_bytes(), &[], &[], false, false, &mut h),
        noscript
    );
    assert_eq!(
        a.evalsha(sha.as_bytes(), &[], &[], false, false, &mut h),
        noscript
    );
    // A script prepared before the flush still runs.
    assert_eq!(a.run(&p, &[], &[], false, false, &mut h), b":2\r\n");
    assert_eq!(
        a.eval(b"return 3", &[], &[], false, false, &mut h),
        b":3\r\n"
    );
}

#[test]
fn shebang_flags_and_read_only() {
    let mut e = engine();
    let mut h = FakeHost::default();
    let p = e.prepare_eval(b"return 1").unwrap();
    assert!(p.flags().eval_compat_mode());
    let p = e
        .prepare_eval(b"#!lua flags=no-writes,allow-stale\nreturn redis.call('get', 'k')")
        .unwrap();
    assert!(p.flags().no_writes() && p.flags().contains(ScriptFlags::ALLOW_STALE));
    assert!(!p.flags().eval_compat_mode());
    assert_eq!(e.run(&p, &[], &[], false, true, &mut h), b"$-1\r\n");
    let p = e.prepare_eval(b"#!lua\nreturn 1").unwrap();
    assert_eq!(
        e.run(&p, &[], &[], false, true, &mut h),
        b"-ERR Can not execute a script with write flag using *_ro command.\r\n"
    );
    // Compatibility-mode scripts run read-only: the host refuses their writes.
    let p = e.prepare_eval(b"return 1").unwrap();
    assert_eq!(e.run(&p, &[], &[], false, true, &mut h), b":1\r\n");
    assert_eq!(
        e.prepare_eval(b"#!lua flags=foo\nreturn 1")
            .unwrap_err()
            .to_string(),
        "ERR Unexpected flag in script shebang: foo"
    );
    // Line numbers count the shebang line.
    let r =
        String::from_utf8(e.eval(b"#!lua\nerror('x')", &[], &[], false, false, &mut h)).unwrap();
    assert!(
        r.starts_with("-ERR user_script:2: x script: ") && r.ends_with(", on @user_script:2.\r\n")
    );
    assert_eq!(
        ScriptFlags::NO_WRITES
            .union(ScriptFlags::NO_CLUSTER)
            .names()
            .collect::<Vec<_>>(),
        vec!["no-writes", "no-cluster"]
    );
}

#[test]
fn kill_hook_stops_a_running_script() {
    let mut e = engine();
    let mut h = FakeHost {
        kill_after: Some((3, "Script killed by user with SCRIPT KILL...".into())),
        ..Default::default()
    };
    let body = "local n = 0\nwhile true do\n  pcall(function() n = n + 1 end)\nend";
    let r = String::from_utf8(e.eval(body.as_bytes(), &[], &[], false, false, &mut h)).unwrap();
    assert!(
        r.starts_with("-ERR Script killed by user with SCRIPT KILL... script: "),
        "{r}"
    );
    assert!(r.contains(", on @user_script:"), "{r}");
    assert_eq!(h.hooks, 3);
    // The engine is usable afterwards, and the hook is quiet for short scripts.
    h.kill_after = None;
    assert_eq!(
        e.eval(b"return 1", &[], &[], false, false, &mut h),
        b":1\r\n"
    );
    // An error code given by the host is kept.
    let mut h = FakeHost {
        kill_after: Some((1, "-SHUTDOWN server is shutting down".into())),
        ..Default::default()
    };
    let r =
        String::from_utf8(e.eval(b"while true do end", &[], &[], false, false, &mut h)).unwrap();
    assert!(
        r.starts_with("-SHUTDOWN server is shutting down script: "),
        "{r}"
    );
}

const LIB: &str = "#!lua name=mylib\n\
local function get(keys, args) return redis.call('get', keys[1]) end\n\
redis.register_function('myget', get)\n\
redis.register_function{function_name='myset', callback=function(keys, args)\n\
  return redis.call('set', keys[1], args[1]) end, description='sets', flags={'allow-oom'}}\n\
redis.register_function{function_name='ro', callback=function() return 'ro' end, flags={'no-writes'}}";

#[test]
fn functions_load_call_list_delete() {
    let store = Arc::new(ScriptStore::new());
    let mut a = Engine::new(store.clone());
    let mut b = Engine::new(store.clone());
    let mut h = FakeHost::default();
    assert_eq!(a.function_load(LIB.as_bytes(), false).unwrap(), b"mylib");
    assert_eq!(
        a.function_load(LIB.as_bytes(), false)
            .unwrap_err()
            .to_string(),
        "ERR Library 'mylib' already exists"
    );
    assert_eq!(a.function_load(LIB.as_bytes(), true).unwrap(), b"mylib");
    assert_eq!(
        a.function_load(
            b"#!lua name=other\nredis.register_function('MYGET', function() end)",
            false
        )
        .unwrap_err()
        .to_string(),
        "ERR Function MYGET already exists"
    );
    // Any engine calls them, names without case.
    assert_eq!(
        b.fcall(b"myset", &[b"k"], &[b"v"], false, false, &mut h),
        b"+OK\r\n"
    );
    assert_eq!(
        b.fcall(b"MYGET", &[b"k"], &[], false, false, &mut h),
        b"$1\r\nv\r\n"
    );
    assert_eq!(
        a.fcall(b"myget", &[b"k"], &[], true, false, &mut h),
        b"$1\r\nv\r\n"
    );
    assert_eq!(
        a.fcall(b"nosuch", &[], &[], false, false, &mut h),
        b"-ERR Function not found\r\n"
    );
    assert_eq!(
        a.fcall(b"myget", &[b"k"], &[], false, true, &mut h),
        b"-ERR Can not execute a script with write flag using *_ro command.\r\n"
    );
    assert_eq!(
        a.fcall(b"ro", &[], &[], false, true, &mut h),
        b"$2\r\nro\r\n"
    );
    let p = a.prepare_fcall(b"myset").unwrap();
    assert_eq!(p.flags(), ScriptFlags::ALLOW_OOM);
    assert_eq!(p.name(), b"myset");
    assert!(p.sha().is_none());

    let mut r = Reply::new(false);
    store.function_list(&[], &mut r);
    let list = String::from_utf8(r.buf).unwrap();
    assert!(list.starts_with("*1\r\n*6\r\n$12\r\nlibrary_name\r\n$5\r\nmylib\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*3\r\n"));
    assert!(list.contains("$4\r\nname\r\n$5\r\nmyset\r\n$11\r\ndescription\r\n$4\r\nsets\r\n$5\r\nflags\r\n*1\r\n+allow-oom\r\n"));
    assert!(list.contains(
        "$4\r\nname\r\n$5\r\nmyget\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*0\r\n"
    ));
    let mut r = Reply::new(true);
    store.function_list(&[b"withcode", b"LIBRARYNAME", b"my*"], &mut r);
    let list = String::from_utf8(r.buf).unwrap();
    assert!(
        list.starts_with("*1\r\n%4\r\n")
            && list.contains("library_code")
            && list.contains("~1\r\n+no-writes\r\n")
    );
    let mut r = Reply::new(false);
    store.function_list(&[b"libraryname", b"x*"], &mut r);
    assert_eq!(r.buf, b"*0\r\n");
    let mut r = Reply::new(false);
    store.function_list(&[b"libraryname"], &mut r);
    assert_eq!(r.buf, b"-ERR library name argument was not given\r\n");
    let mut r = Reply::new(false);
    store.function_list(&[b"foo"], &mut r);
    assert_eq!(r.buf, b"-ERR Unknown argument foo\r\n");

    let mut r = Reply::new(false);
    store.function_stats(None, &mut r);
    assert_eq!(
        String::from_utf8(r.buf).unwrap(),
        "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n\
         $15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:3\r\n"
    );
    let mut r = Reply::new(true);
    let cmd: [&[u8]; 3] = [b"FCALL", b"f", b"0"];
    store.function_stats(
        Some(RunningFunction {
            name: b"f",
            command: &cmd,
            duration_ms: 5,
        }),
        &mut r,
    );
    assert!(String::from_utf8(r.buf)
        .unwrap()
        .contains("%3\r\n$4\r\nname\r\n$1\r\nf\r\n$7\r\ncommand\r\n*3\r\n"));

    assert_eq!(
        store.function_delete(b"nosuch").unwrap_err().to_string(),
        "ERR Library not found"
    );
    store.function_delete(b"mylib").unwrap();
    assert_eq!(
        b.fcall(b"myget", &[b"k"], &[], false, false, &mut h),
        b"-ERR Function not found\r\n"
    );
    a.function_load(LIB.as_bytes(), false).unwrap();
    store.function_flush();
    assert_eq!(store.function_counts(), (0, 0));
}

#[test]
fn function_load_errors() {
    let mut e = engine();
    let cases: [(&str, &str); 12] = [
        ("return 1", "ERR Missing library metadata"),
        ("#!lua\nreturn 1", "ERR Library name was not given"),
        ("#!lua name=x-y\nreturn 1", "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("#!js name=x\nreturn 1", "ERR Engine 'js' not found"),
        ("#!lua name=x\nreturn 1", "ERR No functions registered"),
        ("#!lua name=x\nreturn 1 +", "ERR Error compiling function: user_function:2: unexpected symbol near '<eof>'"),
        ("#!lua name=x\nredis.call('ping')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"),
        ("#!lua name=x\nerror('boom')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'error'"),
        ("#!lua name=x\ny = 1", "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table"),
        ("#!lua name=x\nredis.register_function('f', 1)", "ERR Error registering functions: ERR second argument to redis.register_function must be a function"),
        ("#!lua name=x\nredis.register_function{function_name='f', callback=function() end, flags={'bad'}}", "ERR Error registering functions: ERR unknown flag given"),
        ("#!lua name=x\nredis.register_function('f', function() end) redis.register_function('f', function() end)", "ERR Error registering functions: ERR Function already exists in the library"),
    ];
    for (code, expected) in cases {
        assert_eq!(
            e.function_load(code.as_bytes(), false)
                .unwrap_err()
                .to_string(),
            expected,
            "{code}"
        );
    }
    // redis.log works while loading, through the engine's logger.
    let logs = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let sink = logs.clone();
    e.set_load_logger(move |level, msg| sink.borrow_mut().push((level, msg.to_vec())));
    e.function_load(
        b"#!lua name=x\nredis.log(redis.LOG_NOTICE, 'loading', 1)\nredis.register_function('f', function() end)",
        false,
    )
    .unwrap();
    assert_eq!(
        *logs.borrow(),
        vec![(LogLevel::Notice, b"loading 1".to_vec())]
    );
    // register_function exists only while loading.
    e.function_load(
        b"#!lua name=y\nlocal r = redis\nredis.register_function('g', function() return r.register_function('h', function() end) end)",
        false,
    )
    .unwrap();
    let r =
        String::from_utf8(e.fcall(b"g", &[], &[], false, false, &mut FakeHost::default())).unwrap();
    assert!(r.starts_with("-ERR redis.register_function can only be called on FUNCTION LOAD command script: g, on @user_function:3."), "{r}");
}

#[test]
fn function_load_times_out() {
    let mut e = engine();
    let err = e
        .function_load(b"#!lua name=x\nwhile true do local y = 1 end", false)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ERR Error registering functions: ERR FUNCTION LOAD timeout"
    );
    // The state is usable afterwards.
    e.function_load(
        b"#!lua name=x\nredis.register_function('f', function() return 1 end)",
        false,
    )
    .unwrap();
    assert_eq!(
        e.fcall(b"f", &[], &[], false, false, &mut FakeHost::default()),
        b":1\r\n"
    );
}

#[test]
fn function_dump_and_restore() {
    let store = Arc::new(ScriptStore::new());
    let mut e = Engine::new(store.clone());
    let mut h = FakeHost::default();
    e.function_load(LIB.as_bytes(), false).unwrap();
    e.function_load(
        b"#!lua name=second\nredis.register_function('two', function() return 2 end)",
        false,
    )
    .unwrap();
    let dump = store.function_dump();
    assert_eq!(dump[0], 245);
    assert_eq!(&dump[dump.len() - 10..dump.len() - 8], &11u16.to_le_bytes());

    let other = Arc::new(ScriptStore::new());
    let mut f = Engine::new(other.clone());
    f.function_restore(&dump, RestorePolicy::Append).unwrap();
    assert_eq!(other.function_counts(), (2, 4));
    assert_eq!(f.fcall(b"two", &[], &[], false, false, &mut h), b":2\r\n");
    assert_eq!(
        f.function_restore(&dump, RestorePolicy::Append)
            .unwrap_err()
            .to_string(),
        "ERR Library mylib already exists"
    );
    f.function_restore(&dump, RestorePolicy::Replace).unwrap();
    f.function_load(
        b"#!lua name=third\nredis.register_function('three', function() return 3 end)",
        false,
    )
    .unwrap();
    f.function_restore(&dump, RestorePolicy::Flush).unwrap();
    assert_eq!(other.function_counts(), (2, 4));
    assert_eq!(
        f.fcall(b"three", &[], &[], false, false, &mut h),
        b"-ERR Function not found\r\n"
    );

    let mut bad = dump.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert_eq!(
        f.function_restore(&bad, RestorePolicy::Append)
            .unwrap_err()
            .to_string(),
        "ERR DUMP payload version or checksum are wrong"
    );
    assert!(f.function_restore(b"short", RestorePolicy::Append).is_err());
    assert_eq!(
        RestorePolicy::parse(b"bogus").unwrap_err().to_string(),
        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
    );
    assert_eq!(
        RestorePolicy::parse(b"Replace").unwrap(),
        RestorePolicy::Replace
    );
    // A payload that is not a function.
    let mut payload = vec![0u8, 1, b'x'];
    payload.extend_from_slice(&11u16.to_le_bytes());
    let crc = persist::crc64::crc64(0, &payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(
        f.function_restore(&payload, RestorePolicy::Append)
            .unwrap_err()
            .to_string(),
        "ERR given type is not a function"
    );
}

#[test]
fn malformed_host_reply_is_an_error() {
    struct Broken;
    impl Host for Broken {
        fn call(&mut self, _: &[&[u8]], _: bool) -> Vec<u8> {
            b"*3\r\n:1\r\n".to_vec()
        }
        fn on_hook(&mut self) -> Result<(), String> {
            Ok(())
        }
        fn log(&mut self, _: LogLevel, _: &[u8]) {}
    }
    let mut e = engine();
    assert_eq!(
        e.eval(
            b"return redis.pcall('x')",
            &[],
            &[],
            false,
            false,
            &mut Broken
        ),
        b"-ERR invalid reply from command\r\n"
    );
}
