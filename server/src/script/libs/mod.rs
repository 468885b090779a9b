//! The libraries Redis preloads besides Lua's own: cjson, cmsgpack, bit and struct, written
//! in Rust with the behaviour (results and error messages) of the C versions Redis 7.2
//! bundles (lua-cjson 2.1.0, lua-cmsgpack 0.4.0, LuaBitOp 1.0.2, lua-struct 0.9.2 with
//! Redis' fixes).
//!
//! Each `module` function returns a table of raw functions; the sandbox prelude wraps them
//! so that their errors are raised as Lua errors.

pub(crate) mod bit;
pub(crate) mod cjson;
pub(crate) mod cmsgpack;
pub(crate) mod lua_struct;
