//! The server-wide store of scripts (by SHA1) and function libraries. Every thread's
//! [`Engine`](super::Engine) compiles from it lazily; generation counters tell an engine
//! that its compiled copies are stale (SCRIPT FLUSH, FUNCTION LOAD/DELETE/FLUSH/RESTORE).

use super::flags::ScriptFlags;
use ahash::AHashMap as HashMap;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A script known by its SHA1 (EVAL / SCRIPT LOAD).
#[derive(Debug)]
pub struct Script {
    /// The lowercase hex SHA1 of the body.
    pub sha: String,
    /// The script as the client sent it.
    pub body: Vec<u8>,
    /// Flags from its shebang (`EVAL_COMPAT_MODE` without one).
    pub flags: ScriptFlags,
    /// Length of the shebang line (0 without one): the code Lua compiles starts there.
    pub(crate) shebang_len: usize,
}

/// A function of a library, as FUNCTION LIST shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionInfo {
    /// The name it was registered with.
    pub name: Vec<u8>,
    /// Its description, if it was registered with one.
    pub description: Option<Vec<u8>>,
    /// Its flags.
    pub flags: ScriptFlags,
}

/// A loaded function library.
#[derive(Debug)]
pub struct Library {
    /// The library name from its metadata line.
    pub name: Vec<u8>,
    /// The full code, metadata line included (FUNCTION LIST WITHCODE, FUNCTION DUMP).
    pub code: Vec<u8>,
    /// Its functions, sorted by name.
    pub functions: Vec<FunctionInfo>,
    /// Unique per load: an engine recompiles a library whose id it has not seen.
    pub(crate) id: u64,
    /// Where the code after the metadata line starts.
    pub(crate) code_start: usize,
}

impl Library {
    /// The code Lua compiles: everything from the metadata line's line feed.
    pub(crate) fn body(&self) -> &[u8] {
        &self.code[self.code_start..]
    }
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) scripts: HashMap<String, Arc<Script>>,
    /// Bytes of script bodies held (INFO `used_memory_scripts_eval`-like).
    pub(crate) script_bytes: usize,
    pub(crate) libraries: BTreeMap<Vec<u8>, Arc<Library>>,
    /// Lowercased function name -> its library (FCALL looks functions up without case).
    pub(crate) functions: HashMap<Vec<u8>, Vec<u8>>,
}

impl Inner {
    /// Adds a library and indexes its functions (a library registering both `f` and `F`
    /// keeps the first, as Redis' dictAdd does).
    pub(crate) fn link(&mut self, lib: Arc<Library>) {
        for f in &lib.functions {
            self.functions
                .entry(f.name.to_ascii_lowercase())
                .or_insert_with(|| lib.name.clone());
        }
        self.libraries.insert(lib.name.clone(), lib);
    }

    /// Removes a library and its functions.
    pub(crate) fn unlink(&mut self, name: &[u8]) -> Option<Arc<Library>> {
        let lib = self.libraries.remove(name)?;
        for f in &lib.functions {
            let key = f.name.to_ascii_lowercase();
            if self.functions.get(&key).map(|l| l.as_slice()) == Some(name) {
                self.functions.remove(&key);
            }
        }
        Some(lib)
    }

    /// The first function of `lib` whose name is taken by another library.
    pub(crate) fn colliding_function<'a>(&self, lib: &'a Library) -> Option<&'a FunctionInfo> {
        lib.functions
            .iter()
            .find(|f| self.functions.contains_key(&f.name.to_ascii_lowercase()))
    }
}

/// Scripts and libraries shared by all threads. Cheap to read; writes (SCRIPT LOAD of a
/// new script, FUNCTION LOAD...) take a short exclusive lock.
#[derive(Default)]
pub struct ScriptStore {
    inner: RwLock<Inner>,
    script_gen: AtomicU64,
    function_gen: AtomicU64,
    next_library_id: AtomicU64,
}

impl ScriptStore {
    /// An empty store.
    pub fn new() -> ScriptStore {
        ScriptStore::default()
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every write is one
        // insert/remove), so a poisoned lock is still usable.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Bumped by SCRIPT FLUSH: engines drop their compiled scripts when it changes.
    pub(crate) fn script_generation(&self) -> u64 {
        self.script_gen.load(Ordering::Acquire)
    }

    /// Bumped by every change to the libraries.
    pub(crate) fn function_generation(&self) -> u64 {
        self.function_gen.load(Ordering::Acquire)
    }

    pub(crate) fn bump_functions(&self) {
        self.function_gen.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn new_library_id(&self) -> u64 {
        self.next_library_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The script with this SHA1 (any case), if cached.
    pub fn script(&self, sha: &[u8]) -> Option<Arc<Script>> {
        let sha = std::str::from_utf8(sha).ok()?.to_ascii_lowercase();
        self.read().scripts.get(&sha).cloned()
    }

    /// Caches a script (a script already cached under its SHA1 is kept).
    pub(crate) fn insert_script(&self, script: Script) -> Arc<Script> {
        let mut inner = self.write();
        if let Some(s) = inner.scripts.get(&script.sha) {
            return s.clone();
        }
        inner.script_bytes += script.body.len() + script.sha.len();
        let s = Arc::new(script);
        inner.scripts.insert(s.sha.clone(), s.clone());
        s
    }

    /// SCRIPT EXISTS: for each SHA1 (any case), whether it is cached.
    pub fn scripts_exist(&self, shas: &[&[u8]]) -> Vec<bool> {
        let inner = self.read();
        shas.iter()
            .map(|sha| {
                std::str::from_utf8(sha)
                    .map(|s| inner.scripts.contains_key(&s.to_ascii_lowercase()))
                    .unwrap_or(false)
            })
            .collect()
    }

    /// SCRIPT FLUSH (ASYNC and SYNC alike: the bodies are freed when the last running
    /// script using one ends). Every engine resets its EVAL Lua state on its next use.
    pub fn script_flush(&self) {
        let mut inner = self.write();
        inner.scripts.clear();
        inner.script_bytes = 0;
        self.script_gen.fetch_add(1, Ordering::AcqRel);
    }

    /// Number of cached scripts and the bytes of their bodies (INFO memory).
    pub fn script_stats(&self) -> (usize, usize) {
        let inner = self.read();
        (inner.scripts.len(), inner.script_bytes)
    }

    /// The library with this name.
    pub fn library(&self, name: &[u8]) -> Option<Arc<Library>> {
        self.read().libraries.get(name).cloned()
    }

    /// The library holding a function (name compared without case, as FCALL does) and the
    /// function's details.
    pub fn function(&self, name: &[u8]) -> Option<(Arc<Library>, FunctionInfo)> {
        let inner = self.read();
        let lib = inner
            .libraries
            .get(inner.functions.get(&name.to_ascii_lowercase())?)?;
        let info = lib
            .functions
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))?
            .clone();
        Some((lib.clone(), info))
    }

    /// FUNCTION DELETE: the error is "Library not found".
    pub fn function_delete(&self, name: &[u8]) -> Result<(), super::ScriptError> {
        let removed = self.write().unlink(name);
        match removed {
            Some(_) => {
                self.bump_functions();
                Ok(())
            }
            None => Err(super::ScriptError(b"ERR Library not found".to_vec())),
        }
    }

    /// FUNCTION FLUSH (ASYNC and SYNC alike).
    pub fn function_flush(&self) {
        let mut inner = self.write();
        inner.libraries.clear();
        inner.functions.clear();
        drop(inner);
        self.bump_functions();
    }

    /// Number of libraries and of functions (INFO, FUNCTION STATS).
    pub fn function_counts(&self) -> (usize, usize) {
        let inner = self.read();
        (
            inner.libraries.len(),
            inner.libraries.values().map(|l| l.functions.len()).sum(),
        )
    }

    /// Bytes of the libraries' code (INFO `used_memory_functions`).
    pub fn function_bytes(&self) -> usize {
        self.read().libraries.values().map(|l| l.code.len()).sum()
    }

    /// All libraries, by name.
    pub fn libraries(&self) -> Vec<Arc<Library>> {
        self.read().libraries.values().cloned().collect()
    }
}
