//! Tests' shorthand: EVAL, EVALSHA and FCALL in one call (prepare, then run, or the
//! preparation's error as the reply). The server itself prepares first, to choose how to
//! lock, then runs.

use super::{Engine, Host, Prepared, ScriptError};

pub(crate) trait OneCall {
    fn eval(
        &mut self,
        body: &[u8],
        keys: &[&[u8]],
        args: &[&[u8]],
        resp3: bool,
        ro: bool,
        h: &mut dyn Host,
    ) -> Vec<u8>;
    fn evalsha(
        &mut self,
        sha: &[u8],
        keys: &[&[u8]],
        args: &[&[u8]],
        resp3: bool,
        ro: bool,
        h: &mut dyn Host,
    ) -> Vec<u8>;
    fn fcall(
        &mut self,
        name: &[u8],
        keys: &[&[u8]],
        args: &[&[u8]],
        resp3: bool,
        ro: bool,
        h: &mut dyn Host,
    ) -> Vec<u8>;
}

fn run_prepared(
    e: &mut Engine,
    p: Result<Prepared, ScriptError>,
    keys: &[&[u8]],
    args: &[&[u8]],
    resp3: bool,
    ro: bool,
    h: &mut dyn Host,
) -> Vec<u8> {
    match p {
        Ok(p) => e.run(&p, keys, args, resp3, ro, h),
        Err(err) => err.to_reply(resp3),
    }
}

impl OneCall for Engine {
    fn eval(
        &mut self,
        body: &[u8],
        keys: &[&[u8]],
        args: &[&[u8]],
        resp3: bool,
        ro: bool,
        h: &mut dyn Host,
    ) -> Vec<u8> {
        let p = self.prepare_eval(body);
        run_prepared(self, p, keys, args, resp3, ro, h)
    }

    fn evalsha(
        &mut self,
        sha: &[u8],
        keys: &[&[u8]],
        args: &[&[u8]],
        resp3: bool,
        ro: bool,
        h: &mut dyn Host,
    ) -> Vec<u8> {
        let p = self.prepare_evalsha(sha);
        run_prepared(self, p, keys, args, resp3, ro, h)
    }

    fn fcall(
        &mut self,
        name: &[u8],
        keys: &[&[u8]],
        args: &[&[u8]],
        resp3: bool,
        ro: bool,
        h: &mut dyn Host,
    ) -> Vec<u8> {
        let p = self.prepare_fcall(name);
        run_prepared(self, p, keys, args, resp3, ro, h)
    }
}
