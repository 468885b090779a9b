//! Differential test against a real Redis: every script runs with EVAL on a redis-server
//! started for the test, and in this engine with a host that forwards each redis.call to
//! the same server over a plain socket; the replies must be byte for byte the same, over
//! RESP2 and RESP3. Skipped (with a message) when no redis-server is installed.
//!
//! The server found on the machine may be older than 7.2 (Debian ships 7.0): scripts whose
//! replies changed between 7.0 and 7.2 are listed in `KNOWN_7_0_DIFFERENCES` with the
//! reason, and compared only with a 7.2+ server.

use super::one_call::OneCall;
use super::tests::engine;
use super::{Engine, Host, LogLevel};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A blocking RESP connection.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(port: u16) -> std::io::Result<Conn> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Conn {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    fn request(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&out).expect("write to redis");
        let mut reply = Vec::new();
        read_value(&mut self.reader, &mut reply);
        reply
    }
}

/// Reads one complete RESP2/RESP3 value, appending its bytes to `out`. Iterative: replies
/// of self-referencing tables nest thousands of levels deep.
fn read_value(r: &mut BufReader<TcpStream>, out: &mut Vec<u8>) {
    let mut pending: u64 = 1;
    while pending > 0 {
        pending -= 1;
        let start = out.len();
        r.read_until(b'\n', out).expect("read from redis");
        let line = &out[start..];
        let tag = line[0];
        let n: i64 = std::str::from_utf8(&line[1..line.len() - 2])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        match tag {
            b'$' | b'=' | b'!' if n >= 0 => {
                let mut buf = vec![0u8; n as usize + 2];
                r.read_exact(&mut buf).expect("read bulk");
                out.extend_from_slice(&buf);
            }
            b'*' | b'~' | b'>' => pending += n.max(0) as u64,
            b'%' => pending += 2 * n.max(0) as u64,
            b'|' => pending += 2 * n.max(0) as u64 + 1,
            _ => {}
        }
    }
}

/// The redis-server of the test, killed at the end.
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

fn start_server() -> Option<Server> {
    let bin = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new(bin)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(mut c) = Conn::open(port) {
            if c.request(&[b"PING"]) == b"+PONG\r\n" {
                return Some(server);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Forwards redis.call to the real server, over the protocol the script selected.
struct ForwardingHost {
    resp2: Conn,
    resp3: Conn,
}

impl Host for ForwardingHost {
    fn call(&mut self, args: &[&[u8]], resp3: bool) -> Vec<u8> {
        if resp3 {
            self.resp3.request(args)
        } else {
            self.resp2.request(args)
        }
    }
    fn on_hook(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn log(&mut self, _: LogLevel, _: &[u8]) {}
}

fn connect(port: u16, resp3: bool) -> Conn {
    let mut c = Conn::open(port).expect("connect");
    if resp3 {
        c.request(&[b"HELLO", b"3"]);
    }
    c
}

/// A script with its keys and arguments.
struct Case {
    script: &'static str,
    keys: &'static [&'static str],
    args: &'static [&'static str],
}

const fn case(script: &'static str) -> Case {
    Case {
        script,
        keys: &[],
        args: &[],
    }
}

/// Scripts whose reply from a 7.0 server differs from 7.2's, and why.
const KNOWN_7_0_DIFFERENCES: &[(&str, &str)] = &[
    (
        "return {double=0.1}",
        "7.2 writes doubles in their shortest form (0.1), 7.0 with %.17g",
    ),
    (
        "redis.setresp(3) return redis.call('zscore', 'z', 'a')",
        "7.2 writes doubles in their shortest form, 7.0 with %.17g",
    ),
];

const CASES: &[Case] = &[
    // Conversions of script return values.
    case("return 1"),
    case("return -1.9"),
    case("return 1e30"),
    case("return 0/0"),
    case("return 'text'"),
    case("return ''"),
    case("return 'a\\0b'"),
    case("return true"),
    case("return false"),
    case("return nil"),
    case("return {}"),
    case("return {1, 2, 3, 'x', {4, {5}}}"),
    case("return {1, nil, 3}"),
    case("return {1, false, 3}"),
    case("return {ok='fine'}"),
    case("return {ok='a\\r\\nb'}"),
    case("return {ok='a\\0b'}"),
    case("return {err='MY error'}"),
    case("return {err='x\\ny'}"),
    case("return {err=''}"),
    case("return {err='-ERR x'}"),
    case("return {err=12}"),
    case("return {ok=12}"),
    case("return {err='a', ok='b'}"),
    case("return {double=1.5}"),
    case("return {double=0.1}"),
    case("return {double='x'}"),
    case("return {big_number='123'}"),
    case("return {verbatim_string={format='txt', string='hi'}}"),
    case("return {verbatim_string={format='t', string='hi'}}"),
    case("return {verbatim_string={string='hi'}}"),
    case("return {map={a=1}}"),
    case("return {set={x=true}}"),
    case("return {map={a={set={b=true}}}}"),
    case("redis.setresp(3) return {true, false}"),
    case("redis.setresp(3) return true"),
    case("redis.setresp(3) return false"),
    case("return {function() end, 1}"),
    case("return cjson.null"),
    case("local t = {} t[1] = t return t"),
    case("local t = {} t.map = t return t"),
    case("local t = {} t.set = {} t.set[t] = true return t"),
    case("local t = {} t[1] = {1, t} return t"),
    // KEYS and ARGV.
    Case {
        script: "return {KEYS[1], KEYS[2], ARGV[1], #KEYS, #ARGV}",
        keys: &["k1", "k2"],
        args: &["a1"],
    },
    Case {
        script: "KEYS[1] = 'x' table.insert(ARGV, 'y') return {KEYS, ARGV}",
        keys: &["k"],
        args: &["a"],
    },
    // redis.call and redis.pcall.
    Case {
        script: "redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])",
        keys: &["key"],
        args: &["value"],
    },
    case("return redis.call('get', 'nokey')"),
    case("return redis.call('set', 'k', 0.1)"),
    case("redis.call('set', 'k', 0.1) return redis.call('get', 'k')"),
    case("redis.call('set', 'k', 1e20) return redis.call('get', 'k')"),
    case("redis.call('set', 'k', -0.0) return redis.call('get', 'k')"),
    case("redis.call('set', 'k', 0/0) return redis.call('get', 'k')"),
    case("redis.call('set', 'k', 123456789) return redis.call('get', 'k')"),
    case("return redis.call('ping')"),
    case("return redis.call('incr', 'n')"),
    case("redis.call('set', 's', 'x') return redis.call('incr', 's')"),
    case("redis.call('set', 's', 'x') return redis.pcall('incr', 's')"),
    case("redis.call('set', 's', 'x') return redis.call('lpush', 's', 'a')"),
    case("redis.call('set', 's', 'x') local r = redis.pcall('lpush', 's', 'a') return {type(r), r.err, tostring(r.ignore_error_stats_update)}"),
    case("redis.call('set', 's', 'x') local ok, e = pcall(redis.call, 'lpush', 's', 'a') return {tostring(ok), e}"),
    case("redis.call('set', 's', 'x') local ok, e = pcall(function() redis.call('lpush', 's', 'a') end) return {tostring(ok), e}"),
    case("redis.call('set', 's', 'x') local ok, e = xpcall(function() redis.call('lpush', 's', 'a') end, function(e) return type(e) .. ':' .. e.err end) return {tostring(ok), e}"),
    case("return redis.call()"),
    case("return redis.pcall()"),
    case("return redis.call('get', {})"),
    case("return redis.pcall('get', {})"),
    case("return redis.call('get', nil)"),
    case("local function f()\n  local x = 1\n  redis.call('set', 's', 'x')\n  return redis.call('incr', 's')\nend\nreturn f()"),
    case("redis.call('rpush', 'l', 'a', 'b', 'c') return redis.call('lrange', 'l', 0, -1)"),
    case("redis.call('hset', 'h', 'f', 'v', 'g', 'w') return redis.call('hgetall', 'h')"),
    case("redis.setresp(3) redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')"),
    case("redis.setresp(3) redis.call('hset', 'h', 'f', 'v') local r = redis.call('hgetall', 'h') return r.map.f"),
    case("redis.setresp(3) redis.call('sadd', 's', 'a') return redis.call('smembers', 's')"),
    case("redis.setresp(3) redis.call('sadd', 's', 'a') local r = redis.call('smembers', 's') return {r.set.a}"),
    case("redis.setresp(3) redis.call('zadd', 'z', 1.5, 'a') return redis.call('zscore', 'z', 'a')"),
    case("redis.setresp(3) redis.call('zadd', 'z', 1.5, 'a') return redis.call('zscore', 'z', 'a').double * 2"),
    case("redis.setresp(3) return redis.call('get', 'nokey')"),
    case("redis.setresp(3) return {redis.call('get', 'nokey') == nil}"),
    case("redis.setresp(3) redis.call('set', 'k', 'v') return redis.call('exists', 'k')"),
    case("redis.call('set', 'k', 'v') return redis.call('exists', 'k', 'nokey')"),
    case("return redis.call('type', 'nokey')"),
    case("return redis.call('type', 'nokey').ok"),
    case("return redis.status_reply('FINE')"),
    case("return redis.status_reply(5)"),
    case("return redis.status_reply('a', 'b')"),
    case("return redis.error_reply('My Error')"),
    case("return redis.error_reply('oops')"),
    case("return redis.error_reply('-X y')"),
    case("return redis.error_reply('')"),
    case("return redis.error_reply(5)"),
    case("return redis.error_reply('a\\0b c')"),
    case("return redis.error_reply('x').err"),
    case("error(redis.error_reply('MY boom'))"),
    case("return redis.sha1hex('abc')"),
    case("return redis.sha1hex(1)"),
    case("return redis.sha1hex(nil)"),
    case("return redis.sha1hex()"),
    case("return {redis.breakpoint()}"),
    case("return {redis.debug('x')}"),
    case("return redis.replicate_commands()"),
    case("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}"),
    case("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}"),
    case("redis.set_repl(redis.REPL_NONE) redis.set_repl(redis.REPL_ALL) return 1"),
    case("redis.set_repl(8)"),
    case("redis.set_repl()"),
    case("redis.log(redis.LOG_DEBUG, 'hello', 1, {}, 'x') return 1"),
    case("redis.log(redis.LOG_WARNING)"),
    case("redis.log('x', 'y')"),
    case("redis.log(9, 'y')"),
    case("redis.setresp(4)"),
    case("redis.setresp()"),
    case("return redis.nosuch"),
    // Errors and their decorations.
    case("return 1 +"),
    case("error('boom')"),
    case("error('boom', 0)"),
    case("error({err='MY boom'})"),
    case("error({err=12})"),
    case("error(12)"),
    case("error(true)"),
    case("error(nil)"),
    case("error()"),
    case("error(redis)"),
    case("return nil + 1"),
    case("local function f()\n  local a = 1\n  error('deep')\nend\nf()"),
    case("local function f()\n  local a = 1\n  return a.x.y\nend\nf()"),
    case("local t = {3, 1, 2}\ntable.sort(t, function(a, b)\n  return a.x < b end)\nreturn t"),
    case("\nreturn string.rep()"),
    case("return ('x'):rep(-1, 2)"),
    case("return loadstring('return x')()"),
    case("return {loadstring('return +')}"),
    case("return {pcall(error, {err='x'})}"),
    case("local ok, e = pcall(error, {foo='x'}) return type(e)"),
    case("return {pcall(error)}"),
    case("return {pcall()}"),
    case("return {xpcall(error)}"),
    case("return {pcall(function() return 1, 2, 3 end)}"),
    case("return coroutine.wrap(function() return redis.call('ping') end)().ok"),
    case("local co = coroutine.create(function() error('in co') end) return {coroutine.resume(co)}"),
    case("return coroutine.wrap(function() error('in wrap') end)()"),
    // The sandbox.
    case("x = 1"),
    case("return x"),
    case("_G.x = 1"),
    case("return _G.x"),
    case("return _G[1]"),
    case("return _G[true]"),
    case("rawset(_G, 'x', 1)"),
    case("return rawget(_G, 'x')"),
    case("return rawget(_G, 'redis') == redis"),
    case("setmetatable(_G, {})"),
    case("local t = setmetatable({}, {__metatable = 'no'}) setmetatable(t, {})"),
    case("return getmetatable(setmetatable({}, {__metatable = 'no'}))"),
    case("local mt = getmetatable(_G) return {type(mt), type(mt.__index), type(mt.__newindex)}"),
    case("getmetatable(_G).__index = nil"),
    case("return getmetatable(string)"),
    case("return type(getmetatable('').__index)"),
    case("return getmetatable('').__index == string"),
    case("getmetatable('').__index = {}"),
    case("getmetatable('').x = 1"),
    case("redis.call = 1"),
    case("redis.x = 1"),
    case("rawset(redis, 'call', 1)"),
    case("string.x = 1"),
    case("string.rep = nil"),
    case("math.random = nil"),
    case("cjson.encode = nil"),
    case("cmsgpack.pack = nil"),
    case("bit.band = nil"),
    case("struct.pack = nil"),
    case("table.insert(string, 'x')"),
    case("table.insert(_G, 'x')"),
    case("table.insert({}, 1, 2, 3)"),
    case("table.insert(1, 2)"),
    case("return table.remove(string)"),
    case("return #_G"),
    case("local n = 0 for k in pairs(_G) do n = n + 1 end return n"),
    case("local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t"),
    case("local t = {} for k in pairs(string) do t[#t+1] = k end table.sort(t) return t"),
    case("local t = {} for k in pairs(math) do t[#t+1] = k end table.sort(t) return t"),
    case("local t = {} for k in pairs(table) do t[#t+1] = k end table.sort(t) return t"),
    case("local t = {} for k in pairs(cjson) do t[#t+1] = k end table.sort(t) return t"),
    case("local t = {} for k in pairs(cmsgpack) do t[#t+1] = k end table.sort(t) return t"),
    case("local t = {} for k in pairs(bit) do t[#t+1] = k end table.sort(t) return t"),
    case("local t = {} for k in pairs(struct) do t[#t+1] = k end table.sort(t) return t"),
    case("local t = {} for k in pairs(coroutine) do t[#t+1] = k end table.sort(t) return t"),
    case("local t = {} for k, v in pairs(_G) do t[#t+1] = k .. '=' .. type(v) end table.sort(t) return t"),
    case("local t = {} table.foreach(string, function(k) t[#t+1] = k end) table.sort(t) return #t"),
    case("return next(redis) ~= nil"),
    case("return os"),
    case("return io"),
    case("return debug"),
    case("return require"),
    case("return loadfile"),
    case("return dofile"),
    case("return print"),
    case("return getfenv"),
    case("return setfenv"),
    case("return newproxy"),
    case("return module"),
    case("return package"),
    case("return type(string.dump)"),
    case("return {loadstring(string.dump(function() return 1 end))}"),
    case("return {load(function() return string.dump(function() return 1 end) end)}"),
    case("local i = 0 return {load(function() i = i + 1 if i == 1 then return 'return ' elseif i == 2 then return '42' end end)()}"),
    case("return {load(function() return {} end)}"),
    case("return load('return 1')"),
    case("return loadstring(1)"),
    case("return {loadstring('return 1', 'chunk')()}"),
    case("local f = loadstring('y = 1') return {pcall(f)}"),
    case("return _VERSION"),
    case("return type(gcinfo())"),
    case("return type(collectgarbage('count'))"),
    case("return __redis__err__handler('x')"),
    case("return tostring(0/0)"),
    case("return tostring(1e15)"),
    case("return tostring(123.456)"),
    case("return string.format('%d %s %5.2f', 3.7, 'x', 1/3)"),
    case("return ('abc'):upper()"),
    case("return math.huge"),
    case("return tostring(math.pi)"),
    case("return {math.floor(3.7), math.max(1, 5, 3), math.fmod(7, 3)}"),
    case("return unpack({1, 2, 3})"),
    case("return select('#', 1, nil, 3)"),
    case("return tonumber('0x10')"),
    case("return tonumber('  12  ')"),
    // math.random is Redis' rand48.
    case("math.randomseed(42) return {tostring(math.random()), math.random(10), math.random(5, 7)}"),
    case("math.randomseed(-1) return math.random(1000000)"),
    case("return math.random(0)"),
    case("return math.random(3, 1)"),
    case("return math.random(1, 2, 3)"),
    case("math.randomseed('x')"),
    // cjson.
    case("return cjson.encode({1, 2, 3})"),
    case("return cjson.encode({1, 2, nil, 4})"),
    case("return cjson.encode({})"),
    case("return cjson.encode({a = 1})"),
    case("return cjson.encode({[1] = 1, [20] = 2})"),
    case("return cjson.encode({[1] = 1, [11] = 2})"),
    case("return cjson.encode({[1e10] = 1})"),
    case("return cjson.encode({[0] = 1})"),
    case("return cjson.encode({[-1] = 1})"),
    case("return cjson.encode({[1.5] = 1})"),
    case("return cjson.encode({[true] = 1})"),
    case("return cjson.encode({a = 0/0})"),
    case("return cjson.encode(1/0)"),
    case("return cjson.encode(function() end)"),
    case("return cjson.encode(3.14159265358979)"),
    case("return cjson.encode(1e100)"),
    case("return cjson.encode(-0.0)"),
    case("return cjson.encode(123456789012)"),
    case("return cjson.encode('a/b\"\\\\\\1\\127\\200\\n\\t')"),
    case("return cjson.encode(cjson.null)"),
    case("return cjson.encode({cjson.null, true, false})"),
    case("return cjson.encode()"),
    case("return cjson.encode(1, 2)"),
    case("local t = {} local c = t for i = 1, 1500 do c[1] = {} c = c[1] end return cjson.encode(t)"),
    case("local t = {} t[1] = t return cjson.encode(t)"),
    case("local t = {} local c = t for i = 1, 999 do c[1] = {} c = c[1] end return #cjson.encode(t)"),
    case("return cjson.decode('[1, 2, 3]')"),
    case("return cjson.decode('{\"a\": [1, {\"b\": true}], \"c\": null}').a[2].b"),
    case("return cjson.decode('{\"c\": null}').c == cjson.null"),
    case("return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')"),
    case("return cjson.decode('[1,2')"),
    case("return cjson.decode('')"),
    case("return cjson.decode('x')"),
    case("return cjson.decode('0x10')"),
    case("return cjson.decode('+5')"),
    case("return cjson.decode('-')"),
    case("return cjson.decode('01')"),
    case("return tostring(cjson.decode('1e400'))"),
    case("return tostring(cjson.decode('nan'))"),
    case("return tostring(cjson.decode('-Infinity'))"),
    case("return cjson.decode('\"\\\\ud800\"')"),
    case("return cjson.decode('\"\\\\udc00\"')"),
    case("return cjson.decode('\"\\\\x\"')"),
    case("return cjson.decode('\"abc')"),
    case("return cjson.decode('[1]  x')"),
    case("return cjson.decode('[1]\\0garbage')"),
    case("return cjson.decode('\\0[1]')"),
    case("return cjson.decode('{1: 2}')"),
    case("return cjson.decode('{\"a\" 2}')"),
    case("return cjson.decode('{\"a\": 2,}')"),
    case("return cjson.decode('[1 2]')"),
    case("return cjson.decode('tru')"),
    case("return cjson.decode(12)"),
    case("return cjson.decode()"),
    case("return cjson.decode(string.rep('[', 1001))"),
    case("return #cjson.decode(string.rep('[', 999) .. string.rep(']', 999))"),
    case("return cjson.decode(string.rep('{\"a\":', 1001))"),
    case("return {cjson.encode_sparse_array()}"),
    case("return {cjson.encode_sparse_array(true, 'x')}"),
    case("return {cjson.encode_max_depth()}"),
    case("return cjson.encode_max_depth(0)"),
    case("return cjson.encode_max_depth(1, 2)"),
    case("return cjson.encode_keep_buffer('maybe')"),
    case("return cjson.encode_keep_buffer()"),
    case("return cjson.encode_number_precision(15)"),
    case("return cjson.encode_invalid_numbers()"),
    case("return cjson.decode_invalid_numbers()"),
    case("return cjson.decode_max_depth()"),
    case("local j = cjson.new() j.encode_number_precision(3) return {j.encode(3.14159), cjson.encode(3.14159)}"),
    case("local j = cjson.new() j.encode_invalid_numbers('null') return j.encode({0/0})"),
    case("local j = cjson.new() j.encode_invalid_numbers(true) return j.encode({0/0, 1/0})"),
    case("local j = cjson.new() j.decode_invalid_numbers(false) return j.decode('0x10')"),
    case("local j = cjson.new() j.encode_sparse_array(true) return j.encode({[1] = 1, [20] = 2})"),
    case("local j = cjson.new() j.encode_max_depth(2) return j.encode({{{1}}})"),
    case("local j = cjson.new() j.decode_max_depth(2) return j.decode('[[[1]]]')"),
    case("return cjson.new().encode(cjson.new().decode('[1,{\"a\":2}]'))"),
    case("return type(cjson.new().null)"),
    // cmsgpack.
    case("return cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, -32, -33, -128, -129, -32768, -32769, 4294967295, 4294967296, -2147483648, -2147483649)"),
    case("return cmsgpack.pack(1.5, 0.1, 1e300, 0/0, 1/0, -1/0, 2^63, -2^63, 2^53)"),
    case("return cmsgpack.pack('', 'abc', string.rep('x', 31), string.rep('x', 32), string.rep('x', 255), string.rep('x', 256), string.rep('x', 65536))"),
    case("return cmsgpack.pack({1, 2, 3}, {}, {a = 1}, {1, nil, 3}, {[1] = 1, [3] = 3}, true, false, nil)"),
    case("return cmsgpack.pack({['1'] = 'a'})"),
    case("local t = {} for i = 1, 20 do t[i] = i end return cmsgpack.pack(t)"),
    case("local t = {} for i = 1, 20 do t['k' .. i] = i end return #cmsgpack.pack(t)"),
    case("local t = {} t[1] = t return cmsgpack.pack(t)"),
    case("return cmsgpack.pack(function() end, cjson.null)"),
    case("return cmsgpack.pack()"),
    case("return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1, 2}, {a = 'b'}, true, 1.5))}"),
    case("return cmsgpack.unpack(cmsgpack.pack({1, 2, {3, {4}}}))"),
    case("return {cmsgpack.unpack('')}"),
    case("return cmsgpack.unpack('\\196')"),
    case("return cmsgpack.unpack('\\205\\1')"),
    case("return cmsgpack.unpack('\\129\\192\\1')"),
    case("return tostring(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255'))"),
    case("return tostring(cmsgpack.unpack('\\211\\128\\0\\0\\0\\0\\0\\0\\0'))"),
    case("return tostring(cmsgpack.unpack('\\202\\63\\192\\0\\0'))"),
    case("return {cmsgpack.unpack('\\217\\3abc\\218\\0\\1x\\219\\0\\0\\0\\1y')}"),
    case("return {cmsgpack.unpack_one('\\1\\2\\3')}"),
    case("return {cmsgpack.unpack_one('\\1\\2\\3', 2)}"),
    case("return {cmsgpack.unpack_one('\\1\\2', 5)}"),
    case("return {cmsgpack.unpack_one('\\1\\2', -1)}"),
    case("return {cmsgpack.unpack_limit('\\1\\2\\3', 2)}"),
    case("return {cmsgpack.unpack_limit('\\1\\2\\3', 2, 1)}"),
    case("return {cmsgpack.unpack_limit('\\1\\2\\3', 0)}"),
    case("return {cmsgpack.unpack_limit('\\1\\2\\3', -1)}"),
    case("return {cmsgpack.unpack_limit('\\1\\2\\3')}"),
    case("return {cmsgpack.unpack()}"),
    case("return select('#', cmsgpack.unpack(string.rep('\\1', 7990)))"),
    case("return select('#', cmsgpack.unpack(string.rep('\\1', 8000)))"),
    case("return cmsgpack.unpack(string.rep('\\145', 5000) .. '\\1')"),
    // bit.
    case("return {bit.tobit(1), bit.tobit(2^32 + 1), bit.tobit(-1), bit.tobit(2^31), bit.tobit(1.5), bit.tobit(2.5), bit.tobit('0x10')}"),
    case("return {bit.bnot(0), bit.band(7, 3, 5), bit.bor(1, 2, 4), bit.bxor(3, 5, 1), bit.band(-1)}"),
    case("return {bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 33), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x12345678, 12), bit.ror(0x12345678, 12), bit.bswap(0x12345678)}"),
    case("return {bit.tohex(255), bit.tohex(255, 2), bit.tohex(-1, -4), bit.tohex(65535, 12), bit.tohex(1, 0), bit.tohex(-1, 2147483648)}"),
    case("return bit.band()"),
    case("return bit.band(1, 'x')"),
    case("return bit.band('x')"),
    case("return bit.band(1, nil)"),
    case("return bit.tohex(1, nil)"),
    case("return bit.tobit({})"),
    // struct.
    case("return struct.pack('>i2 <i2 b B h H l L', 1, 2, -1, 255, -2, 65535, -3, 7)"),
    case("return struct.pack('d f', 1.5, 2.25)"),
    case("return struct.pack('>d >f', 1.5, 2.25)"),
    case("return struct.pack('s c3 c0', 'ab', 'xyz', 'hello')"),
    case("return struct.pack('!4 b i', 1, 2)"),
    case("return struct.pack('!8 b d', 1, 2)"),
    case("return struct.pack('b x x i', 1, 2)"),
    case("return struct.pack('i3', 1)"),
    case("return struct.pack('i17', -1)"),
    case("return struct.pack('T', 1)"),
    case("return struct.pack('I', 2^32 + 5)"),
    case("return struct.pack('i', 2^40)"),
    case("return struct.pack('L', -1)"),
    case("return struct.pack('z', 1)"),
    case("return struct.pack('i99', 1)"),
    case("return struct.pack('i99999999999', 1)"),
    case("return struct.pack('!3 i', 1)"),
    case("return struct.pack('c5', 'ab')"),
    case("return struct.pack('c', 'ab')"),
    case("return struct.pack('i')"),
    case("return struct.pack('i', 'x')"),
    case("return struct.pack()"),
    case("return {struct.unpack('>i2 <i2 b B', struct.pack('>i2 <i2 b B', 1, 2, -1, 255))}"),
    case("return {struct.unpack('s c3', 'ab\\0xyz')}"),
    case("return {struct.unpack('b c0', '\\3abcd')}"),
    case("return {struct.unpack('c0', 'abc')}"),
    case("return {struct.unpack('i', 'abc')}"),
    case("return {struct.unpack('b', 'abc', 0)}"),
    case("return {struct.unpack('b', 'abc', 3)}"),
    case("return {struct.unpack('b', 'abc', 5)}"),
    case("return {struct.unpack('b', 'abc', -1)}"),
    case("return {struct.unpack('s', 'abc')}"),
    case("return {struct.unpack('>I16', string.rep('\\255', 16))}"),
    case("return {struct.unpack('>i16', string.rep('\\255', 16))}"),
    case("return {struct.unpack('<i3', '\\255\\255\\127')}"),
    case("return {struct.unpack('d', struct.pack('d', 0.1))}"),
    case("return {struct.unpack('!4 b i', struct.pack('!4 b i', 1, 2))}"),
    case("return {struct.unpack('', 'abc')}"),
    case("return {struct.size('i'), struct.size('!4 b i'), struct.size('b d'), struct.size('!8 b d'), struct.size('c10 x')}"),
    case("return struct.size('s')"),
    case("return struct.size('c0')"),
    case("return struct.size('z')"),
];

#[test]
fn differential_against_redis() {
    let Some(server) = start_server() else {
        eprintln!("differential_against_redis: no redis-server found, skipped");
        return;
    };
    let mut admin = connect(server.port, false);
    let info = admin.request(&[b"INFO", b"server"]);
    let info = String::from_utf8_lossy(&info);
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("0")
        .trim()
        .to_string();
    let is_7_0 = version.starts_with("7.0") || version.starts_with("6.");
    let mut host = ForwardingHost {
        resp2: connect(server.port, false),
        resp3: connect(server.port, true),
    };
    let mut clients = [connect(server.port, false), connect(server.port, true)];
    let mut engine: Engine = engine();
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in CASES {
        if is_7_0 && KNOWN_7_0_DIFFERENCES.iter().any(|(s, _)| *s == case.script) {
            continue;
        }
        for (proto, client) in clients.iter_mut().enumerate() {
            let resp3 = proto == 1;
            let numkeys = case.keys.len().to_string();
            let mut cmd: Vec<&[u8]> = vec![b"EVAL", case.script.as_bytes(), numkeys.as_bytes()];
            cmd.extend(case.keys.iter().map(|k| k.as_bytes()));
            cmd.extend(case.args.iter().map(|a| a.as_bytes()));
            admin.request(&[b"FLUSHALL"]);
            let expected = client.request(&cmd);
            admin.request(&[b"FLUSHALL"]);
            let keys: Vec<&[u8]> = case.keys.iter().map(|k| k.as_bytes()).collect();
            let args: Vec<&[u8]> = case.args.iter().map(|a| a.as_bytes()).collect();
            let got = engine.eval(
                case.script.as_bytes(),
                &keys,
                &args,
                resp3,
                false,
                &mut host,
            );
            compared += 1;
            if got != expected {
                failures.push(format!(
                    "RESP{} {:?}\n  redis:   {:?}\n  shardis: {:?}",
                    if resp3 { 3 } else { 2 },
                    case.script,
                    String::from_utf8_lossy(&expected[..expected.len().min(300)]),
                    String::from_utf8_lossy(&got[..got.len().min(300)]),
                ));
            }
        }
    }
    eprintln!(
        "differential_against_redis: redis {version}, {compared} replies compared, {} different",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Libraries loaded with FUNCTION LOAD on both sides (the replies must match), then called
/// with FCALL / FCALL_RO.
const LIBRARIES: &[&str] = &[
    "return 1",
    "#!lua\nreturn 1",
    "#!lua name=a name=b\nreturn 1",
    "#!lua name=bad-name\nreturn 1",
    "#!lua name=ok foo=bar\nreturn 1",
    "#!foo name=ok\nreturn 1",
    "#!lua name=ok",
    "#!lua name=ok\nreturn 1",
    "#!lua name=ok\nreturn 1 +",
    "#!lua name=ok\nerror('x')",
    "#!lua name=ok\nx = 1",
    "#!lua name=ok\nlocal a = y",
    "#!lua name=ok\nredis.call('ping')",
    "#!lua name=ok\nredis.register_function('bad-name!', function() return 1 end)",
    "#!lua name=ok\nredis.register_function('g', function() return 1 end)\nredis.register_function('g', function() return 1 end)",
    "#!lua name=ok\nredis.register_function{function_name='g', callback=function() return 1 end, flags={'no-writes', 'bad'}}",
    "#!lua name=ok\nredis.register_function{function_name='g', callback=function() return 1 end, flags='no-writes'}",
    "#!lua name=ok\nredis.register_function{function_name='g', callback=function() return 1 end, foo=1}",
    "#!lua name=ok\nredis.register_function{callback=function() return 1 end}",
    "#!lua name=ok\nredis.register_function{function_name='g'}",
    "#!lua name=ok\nredis.register_function{function_name='g', callback=1}",
    "#!lua name=ok\nredis.register_function{function_name='g', callback=function() end, description=true}",
    "#!lua name=ok\nredis.register_function('g')",
    "#!lua name=ok\nredis.register_function('g', 1)",
    "#!lua name=ok\nredis.register_function(1, 2, 3)",
    "#!lua name=ok\nredis.register_function({}, function() end)",
    "#!lua name=ok\nredis.register_function(5)",
    "#!lua name=ok\nreturn redis.REDIS_VERSION_NUM > 0",
    "#!lua name=ok\nlocal t = {} for k in pairs(redis) do t[#t+1] = k end",
    "#!lua name=ok\nredis.log(redis.LOG_NOTICE, 'loading')",
    "#!lua name=lib1\n\
local function f(keys, args)\n\
  return {keys, args, type(redis.breakpoint), type(redis.setresp), type(redis.register_function), type(loadstring)}\n\
end\n\
redis.register_function('f1', f)\n\
redis.register_function{function_name='f2', callback=function(keys, args) return redis.call('get', keys[1]) end, description='desc', flags={'no-writes', 'ALLOW-OOM'}}\n\
redis.register_function('f3', function(keys, args) return loadstring('return x')() end)\n\
redis.register_function('f4', function(keys, args) return __redis__err__handler end)\n\
redis.register_function('f5', function(keys, args) return KEYS end)\n\
redis.register_function('f6', function(keys, args)\n\
  redis.call('set', keys[1], 'str')\n\
  return redis.call('incr', keys[1])\n\
end)\n\
redis.register_function('f7', function() x = 1 end)\n\
redis.register_function('f8', function() return _G.nosuch end)\n\
redis.register_function('f9', function() return redis.setresp(3), redis.call('get', 'nokey') end)\n\
redis.register_function('f10', function() error({err='MY boom'}) end)\n\
redis.register_function('f11', function() return {cjson.encode({1, 2}), bit.band(3, 1), struct.pack('b', 1)} end)",
    "#!lua name=lib2\nredis.register_function('f1', function() return 2 end)",
    "#!lua name=lib3\nredis.register_function('F1', function() return 3 end)",
    "#!LUA name=lib4\nredis.register_function('lib4f', function() return 4 end)",
];

/// FCALL and FCALL_RO commands run once all libraries are loaded.
const FCALLS: &[&[&str]] = &[
    &["FCALL", "f1", "2", "k1", "k2", "a1"],
    &["FCALL", "F1", "0"],
    &["FCALL", "f2", "1", "counter"],
    &["FCALL_RO", "f2", "1", "counter"],
    &["FCALL_RO", "f1", "0"],
    &["FCALL", "f3", "0"],
    &["FCALL", "f4", "0"],
    &["FCALL", "f5", "0"],
    &["FCALL", "f6", "1", "s"],
    &["FCALL", "f7", "0"],
    &["FCALL", "f8", "0"],
    &["FCALL", "f9", "0"],
    &["FCALL", "f10", "0"],
    &["FCALL", "f11", "0"],
    &["FCALL", "lib4f", "0"],
    &["FCALL", "nosuch", "0"],
];

#[test]
fn functions_differential_against_redis() {
    let Some(server) = start_server() else {
        eprintln!("functions_differential_against_redis: no redis-server found, skipped");
        return;
    };
    let mut admin = connect(server.port, false);
    let mut host = ForwardingHost {
        resp2: connect(server.port, false),
        resp3: connect(server.port, true),
    };
    let mut engine: Engine = engine();
    let mut failures = Vec::new();
    admin.request(&[b"FUNCTION", b"FLUSH"]);
    for code in LIBRARIES {
        let expected = admin.request(&[b"FUNCTION", b"LOAD", code.as_bytes()]);
        let got = match engine.function_load(code.as_bytes(), false) {
            Ok(name) => {
                let mut r = shard::reply::Reply::new(false);
                r.bulk(&name);
                r.buf
            }
            Err(e) => e.to_reply(false),
        };
        if got != expected {
            failures.push(format!(
                "FUNCTION LOAD {code:?}\n  redis:   {:?}\n  shardis: {:?}",
                String::from_utf8_lossy(&expected),
                String::from_utf8_lossy(&got)
            ));
        }
    }
    // A second load of an existing library, with and without REPLACE.
    let again = "#!lua name=lib2\nredis.register_function('f1', function() return 2 end)";
    for replace in [false, true] {
        let mut cmd: Vec<&[u8]> = vec![b"FUNCTION", b"LOAD"];
        if replace {
            cmd.push(b"REPLACE");
        }
        cmd.push(again.as_bytes());
        let expected = admin.request(&cmd);
        let got = match engine.function_load(again.as_bytes(), replace) {
            Ok(name) => {
                let mut r = shard::reply::Reply::new(false);
                r.bulk(&name);
                r.buf
            }
            Err(e) => e.to_reply(false),
        };
        if got != expected {
            failures.push(format!(
                "FUNCTION LOAD (replace {replace}) {again:?}\n  redis:   {:?}\n  shardis: {:?}",
                String::from_utf8_lossy(&expected),
                String::from_utf8_lossy(&got)
            ));
        }
    }
    let mut clients = [connect(server.port, false), connect(server.port, true)];
    for call in FCALLS {
        for (proto, client) in clients.iter_mut().enumerate() {
            let resp3 = proto == 1;
            let args: Vec<&[u8]> = call.iter().map(|a| a.as_bytes()).collect();
            admin.request(&[b"FLUSHALL"]);
            let expected = client.request(&args);
            admin.request(&[b"FLUSHALL"]);
            let numkeys: usize = call[2].parse().unwrap();
            let keys = &args[3..3 + numkeys];
            let rest = &args[3 + numkeys..];
            let read_only = call[0] == "FCALL_RO";
            let got = engine.fcall(args[1], keys, rest, resp3, read_only, &mut host);
            if got != expected {
                failures.push(format!(
                    "RESP{} {call:?}\n  redis:   {:?}\n  shardis: {:?}",
                    if resp3 { 3 } else { 2 },
                    String::from_utf8_lossy(&expected),
                    String::from_utf8_lossy(&got)
                ));
            }
        }
    }
    // FUNCTION DELETE, and RESTORE of Redis' own DUMP payload (LZF-compressed libraries).
    let dump = admin.request(&[b"FUNCTION", b"DUMP"]);
    let payload = {
        let line_end = dump.iter().position(|&b| b == b'\n').unwrap();
        dump[line_end + 1..dump.len() - 2].to_vec()
    };
    let expected = admin.request(&[b"FUNCTION", b"DELETE", b"nosuchlib"]);
    let got = match engine.store().function_delete(b"nosuchlib") {
        Ok(()) => b"+OK\r\n".to_vec(),
        Err(e) => e.to_reply(false),
    };
    assert_eq!(got, expected);
    engine.store().function_flush();
    engine
        .function_restore(&payload, super::RestorePolicy::Append)
        .expect("restore Redis' payload");
    let (libs, funcs) = engine.store().function_counts();
    let stats = admin.request(&[b"FUNCTION", b"STATS"]);
    let stats = String::from_utf8_lossy(&stats);
    assert!(
        stats.contains(&format!(":{libs}\r\n")) && stats.contains(&format!(":{funcs}\r\n")),
        "restored {libs} libraries / {funcs} functions, Redis has {stats:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
