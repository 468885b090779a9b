//! Access control lists (Redis 7.2's ACL): users, the permission check every command goes
//! through, the ACL command, the ACL log, `aclfile` and `user` directives.
//!
//! The users live in one table shared by every executor ([`Acl`]), behind a `RwLock` that
//! only ACL commands, AUTH and a client whose rules changed take. Each connection keeps an
//! `Arc` of its user and the table's version it read it at. Per command, `dispatch::prepare`
//! loads the version (one atomic load, no read-modify-write) and tests the user's
//! `unrestricted` flag: a client whose user may run everything pays nothing more. A change
//! (SETUSER, DELUSER, LOAD, CONFIG SET requirepass) stores a new version before it replies,
//! so every client on every thread sees the new rules from its next command on.

pub mod sha256;
pub mod user;

use crate::client::Session;
use crate::command::connection::subcommand_error;
use crate::command::meta::{self, CommandSpec};
use crate::config::Config;
use crate::local::{unix_ms, Local};
use shard::{Cmd, Reply};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
pub use user::{Denied, RuleError, User};

/// Redis groups log entries this close in time (ms).
const LOG_GROUPING_MS: u64 = 60_000;

/// Every user, by name (ordered as Redis' rax lists them).
pub type Users = BTreeMap<Vec<u8>, Arc<User>>;

/// The ACL state every executor shares.
pub struct Acl {
    /// Bumped by every change of any user, after the table holds it.
    version: AtomicU64,
    users: RwLock<Users>,
    /// The default user needs AUTH (it has passwords, or is off): Redis' authRequired.
    default_needs_auth: AtomicBool,
    /// The default user is `nopass` (protected mode applies).
    default_nopass: AtomicBool,
    log: Mutex<Log>,
}

/// Where a denied command came from (ACL LOG `context`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    Multi,
    Lua,
}

impl Context {
    fn name(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
            Context::Lua => "lua",
        }
    }
}

struct Entry {
    count: u64,
    reason: Denied,
    context: Context,
    object: Vec<u8>,
    username: Vec<u8>,
    created: u64,
    updated: u64,
    client_info: String,
    id: u64,
}

#[derive(Default)]
struct Log {
    /// Newest first.
    entries: VecDeque<Entry>,
    next_id: u64,
}

impl Acl {
    /// The users at start-up: the default user (with `requirepass`), then the `user`
    /// directives or the `aclfile`, as Redis' ACLLoadUsersAtStartup. Err: the reason the
    /// server must not start.
    pub fn new(cfg: &Config) -> Result<Acl, String> {
        let mut default = User::default_user();
        if let Some(p) = &cfg.requirepass {
            set_password(&mut default, Some(p));
        }
        let mut users = Users::new();
        users.insert(b"default".to_vec(), Arc::new(default));
        if !cfg.aclfile.is_empty() && !cfg.users.is_empty() {
            return Err(
                "Configuring Redis with users defined in redis.conf and at the same \
                        setting an ACL file path is invalid. This setup is very likely to lead \
                        to configuration errors and security holes, please define either an \
                        ACL file or declare users directly in your redis.conf, but not both."
                    .into(),
            );
        }
        let all = cfg.acl_pubsub_default_all;
        for def in &cfg.users {
            let name = &def[0];
            if user::has_spaces(name) {
                return Err("Spaces not allowed in ACL usernames".into());
            }
            let mut u = match users.get(name.as_slice()) {
                Some(existing) if name == b"default" => {
                    let mut u = User::clone(existing);
                    let _ = u.apply(b"reset", all);
                    u
                }
                _ => User::new(name, all),
            };
            for op in &def[1..] {
                if let Err(e) = u.apply(op, all) {
                    return Err(format!(
                        "Error loading ACL rule '{}' for the user named '{}': {}",
                        String::from_utf8_lossy(op),
                        String::from_utf8_lossy(name),
                        e.message()
                    ));
                }
            }
            users.insert(name.clone(), Arc::new(u));
        }
        if !cfg.aclfile.is_empty() {
            users = load_file(&cfg.aclfile, &users, all)
                .map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
        }
        let acl = Acl {
            version: AtomicU64::new(1),
            users: RwLock::new(Users::new()),
            default_needs_auth: AtomicBool::new(false),
            default_nopass: AtomicBool::new(true),
            log: Mutex::default(),
        };
        acl.replace(users);
        Ok(acl)
    }

    /// The version of the user table (see the module doc).
    #[inline]
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    pub fn default_needs_auth(&self) -> bool {
        self.default_needs_auth.load(Ordering::Relaxed)
    }

    pub fn default_nopass(&self) -> bool {
        self.default_nopass.load(Ordering::Relaxed)
    }

    pub(crate) fn read(&self) -> std::sync::RwLockReadGuard<'_, Users> {
        self.users.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn user(&self, name: &[u8]) -> Option<Arc<User>> {
        self.read().get(name).cloned()
    }

    pub fn default_user(&self) -> Arc<User> {
        self.user(b"default")
            .expect("the default user cannot be deleted")
    }

    /// Changes the table with `f` and publishes a new version before returning.
    fn update<R>(&self, f: impl FnOnce(&mut Users) -> R) -> R {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let r = f(&mut users);
        let d = &users[b"default".as_slice()];
        self.default_needs_auth
            .store(!d.nopass || !d.enabled, Ordering::Relaxed);
        self.default_nopass.store(d.nopass, Ordering::Relaxed);
        self.version.fetch_add(1, Ordering::Release);
        r
    }

    fn replace(&self, users: Users) {
        self.update(|u| *u = users);
    }

    /// `requirepass`: the default user's only password, or nopass when empty.
    pub fn set_default_password(&self, pass: Option<&[u8]>) {
        self.update(|users| {
            let mut d = User::clone(&users[b"default".as_slice()]);
            set_password(&mut d, pass);
            users.insert(b"default".to_vec(), Arc::new(d));
        });
    }

    /// Records a denial in the ACL log (Redis' addACLLogEntry): a similar recent entry is
    /// counted again instead of adding another.
    pub fn log(
        &self,
        reason: Denied,
        context: Context,
        object: &[u8],
        username: &[u8],
        client_info: String,
        max_len: u64,
    ) {
        let now = unix_ms();
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let similar = log.entries.iter().take(10).position(|e| {
            e.reason == reason
                && e.context == context
                && now.abs_diff(e.updated) <= LOG_GROUPING_MS
                && e.object == object
                && e.username == username
        });
        if let Some(i) = similar {
            let mut e = log.entries.remove(i).expect("found above");
            e.count += 1;
            e.updated = now;
            e.client_info = client_info;
            log.entries.push_front(e);
            return;
        }
        let id = log.next_id;
        log.next_id += 1;
        log.entries.push_front(Entry {
            count: 1,
            reason,
            context,
            object: object.to_vec(),
            username: username.to_vec(),
            created: now,
            updated: now,
            client_info,
            id,
        });
        log.entries.truncate(max_len as usize);
    }
}

fn set_password(u: &mut User, pass: Option<&[u8]>) {
    let _ = u.apply(b"resetpass", false);
    match pass {
        Some(p) => {
            let mut op = b">".to_vec();
            op.extend_from_slice(p);
            let _ = u.apply(&op, false);
        }
        None => {
            let _ = u.apply(b"nopass", false);
        }
    }
}

/// Reads an ACL file (Redis' ACLLoadFromFile): every line `user <name> rules...`, all or
/// nothing. The default user keeps its rules unless the file names it. Err: every problem
/// found, in one line, as Redis reports them.
fn load_file(path: &str, current: &Users, all: bool) -> Result<Users, String> {
    let text = std::fs::read(path).map_err(|e| {
        format!(
            "Error loading ACLs, opening file '{path}': {}",
            crate::config::strerror(&e)
        )
    })?;
    let mut users = Users::new();
    let mut errors = String::new();
    for (i, line) in text.split(|&c| c == b'\n').enumerate() {
        let n = i + 1;
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let argv: Vec<&[u8]> = line
            .split(|&c| c == b' ')
            .filter(|a| !a.is_empty())
            .collect();
        if argv.len() < 2 || argv[0] != b"user" {
            errors.push_str(&format!(
                "{path}:{n} should start with user keyword followed by the username. "
            ));
            continue;
        }
        let name = argv[1];
        if user::has_spaces(name) {
            errors.push_str(&format!(
                "'{path}:{n}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        if users.contains_key(name) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {n}. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        let Ok(ops) = user::merge_selector_args(&argv[2..]) else {
            errors.push_str(&format!(
                "{path}:{n}: Unmatched parenthesis in selector definition."
            ));
            continue;
        };
        let mut u = User::new(name, all);
        for op in &ops {
            if let Err(e) = u.apply(op.trim_ascii(), all) {
                errors.push_str(&format!("{path}:{n}: {}. ", e.message()));
            }
        }
        users.insert(name.to_vec(), Arc::new(u));
    }
    if !errors.is_empty() {
        errors.push_str(
            "WARNING: ACL errors detected, no change to the previously active ACL rules was \
             performed",
        );
        return Err(errors);
    }
    if !users.contains_key(b"default".as_slice()) {
        // Not in the file: the default user as it was.
        let d = current
            .get(b"default".as_slice())
            .cloned()
            .unwrap_or_else(|| Arc::new(User::default_user()));
        users.insert(b"default".to_vec(), d);
    }
    Ok(users)
}

/// Every user as the `user` directive that recreates it (ACL LIST, ACL SAVE, CONFIG REWRITE).
pub fn user_lines(users: &Users) -> Vec<String> {
    users
        .values()
        .map(|u| format!("user {} {}", u.name_str(), u.describe()))
        .collect()
}

/// The file ACL SAVE writes: one `user` line per user.
fn file_text(users: &Users) -> String {
    user_lines(users).into_iter().map(|l| l + "\n").collect()
}

// ---------------------------------------------------------------------------------------------
// The check, per command.

/// A connection's view of its user: refreshed when the table's version moved.
pub fn session_user(local: &Local, sess: &mut Session) -> Option<Arc<User>> {
    let acl = &local.shared.acl;
    let v = acl.version();
    if v != sess.acl_version {
        sess.acl_version = v;
        if let Some(current) = &sess.user {
            sess.user = acl.user(&current.name);
            if sess.user.is_none() {
                // Deleted: the connection is being closed (ACL DELUSER / LOAD).
                sess.closing = true;
                sess.info.kill();
            }
        }
    }
    sess.user.clone()
}

/// Authenticates the session as `user` (AUTH, HELLO ... AUTH, RESET).
pub fn set_session_user(local: &Local, sess: &mut Session, user: Arc<User>) {
    sess.acl_version = local.shared.acl.version();
    *sess.info.user.borrow_mut() = user.name_str();
    sess.user = Some(user);
}

/// Checks `cmd` (whose spec is `spec`) against the session's user. The fast path (the user
/// may run everything, nothing changed) is one atomic load and one flag test.
#[inline]
pub fn check(
    local: &Local,
    sess: &mut Session,
    spec: &CommandSpec,
    cmd: &Cmd,
) -> Result<(), Vec<u8>> {
    match &sess.user {
        None => Ok(()),
        Some(u) if u.unrestricted && local.shared.acl.version() == sess.acl_version => Ok(()),
        Some(_) => check_slow(local, sess, spec, cmd),
    }
}

#[cold]
fn check_slow(
    local: &Local,
    sess: &mut Session,
    spec: &CommandSpec,
    cmd: &Cmd,
) -> Result<(), Vec<u8>> {
    let Some(user) = session_user(local, sess) else {
        return Err(no_permission(b"default", spec));
    };
    let args: smallvec::SmallVec<[&[u8]; 8]> = cmd.args().collect();
    let Err((reason, pos)) = user.check(spec, &args) else {
        return Ok(());
    };
    // The log's client info names the command denied, as Redis'.
    sess.info.last_cmd.set(spec.name);
    let object = denied_object(reason, spec, &args, pos);
    log_session(local, sess, reason, context_of(sess), &object, &user.name);
    Err(format!(
        "NOPERM {}",
        message(reason, &user.name, spec, &object, false)
    )
    .into_bytes())
}

fn context_of(sess: &Session) -> Context {
    if sess.multi.is_some() {
        Context::Multi
    } else {
        Context::Toplevel
    }
}

/// Logs a denial for the session's client, described as CLIENT INFO describes it.
fn log_session(
    local: &Local,
    sess: &Session,
    reason: Denied,
    context: Context,
    object: &[u8],
    username: &[u8],
) {
    let mut info = String::new();
    sess.info.describe(&mut info);
    let max = local.shared.config().acllog_max_len;
    local
        .shared
        .acl
        .log(reason, context, object, username, info, max);
}

fn no_permission(user: &[u8], spec: &CommandSpec) -> Vec<u8> {
    format!(
        "NOPERM {}",
        message(Denied::Command, user, spec, b"", false)
    )
    .into_bytes()
}

/// What the ACL log names for a denial: the command, or the key or channel.
fn denied_object(reason: Denied, spec: &CommandSpec, args: &[&[u8]], pos: usize) -> Vec<u8> {
    match reason {
        Denied::Command => spec.name.as_bytes().to_vec(),
        _ => args.get(pos).map(|a| a.to_vec()).unwrap_or_default(),
    }
}

/// Redis 7.2's getAclErrorMessage (`verbose` names the key or channel, as ACL DRYRUN).
fn message(
    reason: Denied,
    user: &[u8],
    spec: &CommandSpec,
    object: &[u8],
    verbose: bool,
) -> String {
    let object = String::from_utf8_lossy(object);
    match (reason, verbose) {
        (Denied::Command | Denied::Auth, _) => format!(
            "User {} has no permissions to run the '{}' command",
            String::from_utf8_lossy(user),
            spec.name
        ),
        (Denied::Key, false) => "No permissions to access a key".into(),
        (Denied::Key, true) => format!("No permissions to access the '{object}' key"),
        (Denied::Channel, false) => "No permissions to access a channel".into(),
        (Denied::Channel, true) => format!("No permissions to access the '{object}' channel"),
    }
}

/// What a script's `redis.call` is checked against: its caller's user, when restricted.
pub struct ScriptAcl {
    pub user: Arc<User>,
    /// The calling client as CLIENT INFO describes it, for the ACL log.
    pub client_info: String,
}

impl ScriptAcl {
    /// For a script about to run for `sess`; None when there is nothing to check.
    pub fn for_session(local: &Local, sess: &mut Session) -> Option<Arc<ScriptAcl>> {
        let user = session_user(local, sess)?;
        if user.unrestricted {
            return None;
        }
        let mut client_info = String::new();
        sess.info.describe(&mut client_info);
        Some(Arc::new(ScriptAcl { user, client_info }))
    }

    /// Checks a command a script calls; the error as the script sees it (Redis 7.2's
    /// scriptVerifyACL).
    pub fn check(&self, local: &Local, spec: &CommandSpec, args: &[&[u8]]) -> Result<(), Vec<u8>> {
        let Err((reason, pos)) = self.user.check(spec, args) else {
            return Ok(());
        };
        let object = denied_object(reason, spec, args, pos);
        let max = local.shared.config().acllog_max_len;
        local.shared.acl.log(
            reason,
            Context::Lua,
            &object,
            &self.user.name,
            self.client_info.clone(),
            max,
        );
        Err(format!(
            "-ERR ACL failure in script: {}\r\n",
            message(reason, &self.user.name, spec, &object, false)
        )
        .into_bytes())
    }
}

/// Checks a queued command again at EXEC (the rules may have changed since it was queued):
/// why it may not run any more, logged (Redis 7.2's execCommand).
pub fn recheck_queued(
    local: &Local,
    sess: &mut Session,
    spec: &CommandSpec,
    cmd: &Cmd,
) -> Option<Denied> {
    let user = session_user(local, sess)?;
    if user.unrestricted {
        return None;
    }
    let args: smallvec::SmallVec<[&[u8]; 8]> = cmd.args().collect();
    let (reason, pos) = user.check(spec, &args).err()?;
    let object = denied_object(reason, spec, &args, pos);
    log_session(local, sess, reason, Context::Multi, &object, &user.name);
    Some(reason)
}

/// What EXEC answers for a queued command the rules no longer allow.
pub fn exec_denied_message(reason: Denied) -> String {
    let why = match reason {
        Denied::Command | Denied::Auth => "no permission to execute the command or subcommand",
        Denied::Key => "no permission to touch the specified keys",
        Denied::Channel => "no permission to access one of the channels used as arguments",
    };
    format!(
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the \
         EXEC call. This command is no longer allowed for the following reason: {why}"
    )
}

/// AUTH / HELLO's authentication: true once the session is the user's; false (answer
/// WRONGPASS) after logging the failure.
pub fn authenticate(
    local: &Local,
    sess: &mut Session,
    cmd_name: &[u8],
    username: &[u8],
    pass: &[u8],
) -> bool {
    let acl = &local.shared.acl;
    let version = acl.version();
    match acl.user(username) {
        Some(u) if u.password_ok(pass) => {
            sess.authenticated = true;
            set_session_user(local, sess, u);
            sess.acl_version = version;
            true
        }
        _ => {
            log_session(
                local,
                sess,
                Denied::Auth,
                context_of(sess),
                cmd_name,
                username,
            );
            false
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The ACL command.

const HELP: &[&str] = &[
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Print this help.",
];

const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You \
    may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE \
    (assuming you have a Redis configuration file set) in order to store users in the Redis \
    configuration.";

pub async fn command(local: &Rc<Local>, sess: &mut Session, cmd: &Cmd, out: &mut Reply) {
    let sub = cmd[1].to_ascii_lowercase();
    let acl = &local.shared.acl;
    match sub.as_slice() {
        b"setuser" => setuser(local, sess, cmd, out).await,
        b"deluser" => deluser(local, sess, cmd, out).await,
        b"getuser" => match acl.user(&cmd[2]) {
            None => out.null(),
            Some(u) => getuser(&u, out),
        },
        b"list" | b"users" => {
            let users = acl.read();
            out.array(users.len());
            if sub == b"users" {
                for u in users.values() {
                    out.bulk(&u.name);
                }
            } else {
                for line in user_lines(&users) {
                    out.bulk(line.as_bytes());
                }
            }
        }
        b"whoami" => match &sess.user {
            Some(u) => out.bulk(&u.name),
            None => out.bulk(b"default"),
        },
        b"load" | b"save" => {
            let path = local.shared.config().aclfile.clone();
            if path.is_empty() {
                return out.error(NO_ACLFILE);
            }
            if sub == b"save" {
                save(local, &path, out);
            } else {
                load(local, sess, &path, out).await;
            }
        }
        b"cat" => cat(cmd, out),
        b"genpass" => genpass(cmd, out),
        b"log" => log_command(local, cmd, out),
        b"dryrun" => dryrun(local, cmd, out),
        b"help" => crate::command::connection::write_help(out, HELP),
        _ => subcommand_error(out, "ACL", &cmd[1], false),
    }
}

async fn setuser(local: &Rc<Local>, sess: &mut Session, cmd: &Cmd, out: &mut Reply) {
    let name = &cmd[2];
    if user::has_spaces(name) {
        return out.error("ERR Usernames can't contain spaces or null characters");
    }
    let args: Vec<&[u8]> = cmd.args().skip(3).collect();
    let ops = match user::merge_selector_args(&args) {
        Ok(ops) => ops,
        Err(i) => {
            return out.error(&format!(
                "ERR Unmatched parenthesis in acl selector starting at '{}'.",
                String::from_utf8_lossy(args[i])
            ))
        }
    };
    let all = local.shared.config().acl_pubsub_default_all;
    let acl = &local.shared.acl;
    let result = acl.update(|users| {
        let mut u = match users.get(name) {
            Some(u) => User::clone(u),
            None => User::new(name, all),
        };
        for op in &ops {
            if let Err(e) = u.apply(op, all) {
                return Err(format!(
                    "ERR Error in ACL SETUSER modifier '{}': {}",
                    String::from_utf8_lossy(op),
                    e.message()
                ));
            }
        }
        users.insert(name.to_vec(), Arc::new(u));
        Ok(())
    });
    match result {
        Ok(()) => {
            disconnect_denied_subscribers(local, sess, vec![name.to_vec()]).await;
            out.ok()
        }
        Err(e) => out.error(&e),
    }
}

async fn deluser(local: &Rc<Local>, sess: &mut Session, cmd: &Cmd, out: &mut Reply) {
    let names: Vec<Vec<u8>> = cmd.args().skip(2).map(<[u8]>::to_vec).collect();
    if names.iter().any(|n| n == b"default") {
        return out.error("ERR The 'default' user cannot be removed");
    }
    let deleted: Vec<Vec<u8>> = local.shared.acl.update(|users| {
        names
            .iter()
            .filter(|n| users.remove(n.as_slice()).is_some())
            .cloned()
            .collect()
    });
    disconnect_users(local, sess, deleted.clone()).await;
    out.int(deleted.len() as i64);
}

/// Closes the connections authenticated as any of `names` (the caller's own after its
/// reply, as Redis' CLIENT_CLOSE_AFTER_COMMAND).
async fn disconnect_users(local: &Rc<Local>, sess: &mut Session, names: Vec<Vec<u8>>) {
    if names.is_empty() {
        return;
    }
    let names: Vec<String> = names
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    if names.contains(&sess.info.user.borrow()) {
        sess.closing = true;
        sess.user = None;
    }
    let me = sess.info.id;
    local
        .call_all(move |l| {
            for c in l.clients.borrow().values() {
                if c.id != me && names.contains(&c.user.borrow()) {
                    c.kill();
                }
            }
        })
        .await;
}

/// Closes the connections of `names` subscribed to a channel or pattern their user's rules
/// no longer allow (Redis' ACLKillPubsubClientsIfNeeded); the caller's own after its reply.
async fn disconnect_denied_subscribers(local: &Rc<Local>, sess: &mut Session, names: Vec<Vec<u8>>) {
    let users: Vec<(String, Arc<User>)> = names
        .iter()
        .filter_map(|n| local.shared.acl.user(n))
        .map(|u| (u.name_str(), u))
        .collect();
    if users.is_empty() {
        return;
    }
    let me = sess.info.id;
    let caller_denied = local
        .call_all(move |l| {
            let registry = l.pubsub.borrow();
            let mut caller = false;
            for (name, user) in &users {
                let allowed = |channel: &[u8], literal| user.channel_allowed(channel, literal);
                for c in registry.denied_subscribers(name, allowed) {
                    if c.id == me {
                        caller = true;
                    } else {
                        c.kill();
                    }
                }
            }
            caller
        })
        .await;
    if caller_denied.contains(&true) {
        sess.closing = true;
    }
}

fn getuser(u: &User, out: &mut Reply) {
    out.map(6);
    out.bulk(b"flags");
    let flags = u.flags();
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"passwords");
    out.array(u.passwords.len());
    for p in &u.passwords {
        out.bulk(p.as_bytes());
    }
    selector_fields(&u.selectors[0], out);
    out.bulk(b"selectors");
    out.array(u.selectors.len() - 1);
    for s in &u.selectors[1..] {
        out.map(3);
        selector_fields(s, out);
    }
}

fn selector_fields(s: &user::Selector, out: &mut Reply) {
    out.bulk(b"commands");
    out.bulk(s.describe_commands().as_bytes());
    out.bulk(b"keys");
    out.bulk(s.describe_keys().as_bytes());
    out.bulk(b"channels");
    out.bulk(s.describe_channels().as_bytes());
}

fn save(local: &Local, path: &str, out: &mut Reply) {
    let text = file_text(&local.shared.acl.read());
    match persist::durable::replace(std::path::Path::new(path), text.as_bytes()) {
        Ok(()) => out.ok(),
        Err(e) => {
            crate::log::warning(&format!("Writing ACL file for ACL SAVE: {e}"));
            out.error(
                "ERR There was an error trying to save the ACLs. Please check the server logs \
                 for more information",
            )
        }
    }
}

async fn load(local: &Rc<Local>, sess: &mut Session, path: &str, out: &mut Reply) {
    let all = local.shared.config().acl_pubsub_default_all;
    let acl = &local.shared.acl;
    let current = acl.read().clone();
    match load_file(path, &current, all) {
        Ok(users) => {
            // Clients of users that are gone are disconnected; the others see their user's
            // new rules.
            let gone: Vec<Vec<u8>> = current
                .keys()
                .filter(|n| !users.contains_key(n.as_slice()))
                .cloned()
                .collect();
            let kept: Vec<Vec<u8>> = users.keys().cloned().collect();
            acl.replace(users);
            disconnect_users(local, sess, gone).await;
            disconnect_denied_subscribers(local, sess, kept).await;
            out.ok();
        }
        Err(e) => out.error(&format!("ERR {e}")),
    }
}

fn cat(cmd: &Cmd, out: &mut Reply) {
    if cmd.len() == 2 {
        out.array(meta::ACL_CATEGORIES.len());
        for c in meta::ACL_CATEGORIES {
            out.bulk(c.as_bytes());
        }
        return;
    }
    if cmd.len() > 3 {
        return subcommand_error(out, "ACL", &cmd[1], true);
    }
    let wanted = cmd[2].to_ascii_lowercase();
    let Some(cat) = meta::ACL_CATEGORIES
        .iter()
        .find(|c| c.as_bytes() == wanted.as_slice())
    else {
        let shown = &cmd[2][..cmd[2].len().min(128)];
        return out.error(&format!(
            "ERR Unknown category '{}'",
            String::from_utf8_lossy(shown)
        ));
    };
    let names: Vec<&str> = meta::all()
        .flat_map(|c| std::iter::once(c).chain(c.subcommands))
        .filter(|c| c.acl_categories.contains(cat))
        .map(|c| c.name)
        .collect();
    out.array(names.len());
    for n in names {
        out.bulk(n.as_bytes());
    }
}

fn genpass(cmd: &Cmd, out: &mut Reply) {
    const MAX_BITS: i64 = 4096;
    if cmd.len() > 3 {
        return subcommand_error(out, "ACL", &cmd[1], true);
    }
    let bits = match cmd.args().nth(2) {
        None => 256,
        Some(a) => match shard::num::parse_i64(a) {
            Some(b) => b,
            None => return out.error(shard::reply::err::NOT_INT),
        },
    };
    if bits <= 0 || bits > MAX_BITS {
        return out.error(&format!(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a \
             positive number up to {MAX_BITS}"
        ));
    }
    let chars = (bits as usize).div_ceil(4);
    let mut bytes = vec![0u8; chars.div_ceil(2)];
    random_bytes(&mut bytes);
    out.bulk(&shard::digest::hex(&bytes).as_bytes()[..chars]);
}

/// Random bytes from the kernel (GENPASS).
fn random_bytes(buf: &mut [u8]) {
    use std::io::Read;
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf));
    if filled.is_err() {
        // No /dev/urandom: the clock and the process stirred through SHA-256.
        let mut seed = format!(
            "{}-{}-{:?}",
            unix_ms(),
            std::process::id(),
            std::time::Instant::now()
        );
        for chunk in buf.chunks_mut(32) {
            let d = sha256::digest(seed.as_bytes());
            chunk.copy_from_slice(&d[..chunk.len()]);
            seed.push('.');
        }
    }
}

fn log_command(local: &Local, cmd: &Cmd, out: &mut Reply) {
    if cmd.len() > 3 {
        return subcommand_error(out, "ACL", &cmd[1], true);
    }
    let mut count = 10usize;
    if let Some(a) = cmd.args().nth(2) {
        if a.eq_ignore_ascii_case(b"reset") {
            let mut log = local
                .shared
                .acl
                .log
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            log.entries.clear();
            return out.ok();
        }
        match shard::num::parse_i64(a) {
            Some(n) => count = n.max(0) as usize,
            None => return out.error(shard::reply::err::NOT_INT),
        }
    }
    let log = local
        .shared
        .acl
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let now = unix_ms();
    let n = count.min(log.entries.len());
    out.array(n);
    for e in log.entries.iter().take(n) {
        out.map(10);
        out.bulk(b"count");
        out.int(e.count as i64);
        out.bulk(b"reason");
        out.bulk(e.reason.reason().as_bytes());
        out.bulk(b"context");
        out.bulk(e.context.name().as_bytes());
        out.bulk(b"object");
        out.bulk(&e.object);
        out.bulk(b"username");
        out.bulk(&e.username);
        out.bulk(b"age-seconds");
        out.double(now.saturating_sub(e.updated) as f64 / 1000.0);
        out.bulk(b"client-info");
        out.bulk(e.client_info.as_bytes());
        out.bulk(b"entry-id");
        out.int(e.id as i64);
        out.bulk(b"timestamp-created");
        out.int(e.created as i64);
        out.bulk(b"timestamp-last-updated");
        out.int(e.updated as i64);
    }
}

fn dryrun(local: &Local, cmd: &Cmd, out: &mut Reply) {
    let Some(u) = local.shared.acl.user(&cmd[2]) else {
        return out.error(&format!(
            "ERR User '{}' not found",
            String::from_utf8_lossy(&cmd[2])
        ));
    };
    let args: Vec<&[u8]> = cmd.args().skip(3).collect();
    let Some(spec) = meta::resolve(&args) else {
        return out.error(&format!(
            "ERR Command '{}' not found",
            String::from_utf8_lossy(args[0])
        ));
    };
    if !meta::arity_ok(spec.arity, args.len()) {
        return out.error(&format!(
            "ERR wrong number of arguments for '{}' command",
            spec.name
        ));
    }
    match u.check(spec, &args) {
        Ok(()) => out.ok(),
        Err((reason, pos)) => {
            let object = denied_object(reason, spec, &args, pos);
            out.bulk(message(reason, &u.name, spec, &object, true).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(users: &[&[&str]], aclfile: &str) -> Config {
        Config {
            users: users
                .iter()
                .map(|u| u.iter().map(|s| s.as_bytes().to_vec()).collect())
                .collect(),
            aclfile: aclfile.into(),
            ..Config::default()
        }
    }

    #[test]
    fn start_up_users() {
        let acl = Acl::new(&cfg(&[&["alice", "on", ">p", "~*", "+get"]], "")).unwrap();
        assert!(acl.user(b"alice").unwrap().password_ok(b"p"));
        assert!(!acl.default_needs_auth());
        let acl = Acl::new(&cfg(&[&["default", "on", ">p", "+@all"]], "")).unwrap();
        assert!(acl.default_needs_auth());
        assert_eq!(
            acl.default_user().describe(),
            format!(
                "on sanitize-payload #{} resetchannels +@all",
                sha256::hex(b"p")
            )
        );
        let e = Acl::new(&cfg(&[&["a", "on"]], "/nope")).err().unwrap();
        assert!(e.starts_with("Configuring Redis with users defined in redis.conf"));
        let e = Acl::new(&cfg(&[&["a", "+nope"]], "")).err().unwrap();
        assert_eq!(
            e,
            "Error loading ACL rule '+nope' for the user named 'a': Unknown command or category \
             name in ACL"
        );
    }

    #[test]
    fn acl_file_round_trip() {
        let dir = std::env::temp_dir().join(format!("shardis-acl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("users.acl").to_string_lossy().into_owned();
        std::fs::write(
            &path,
            "user alice on >p ~k* &ch +get (+set ~w*)\n\nuser bob off\n",
        )
        .unwrap();
        let acl = Acl::new(&cfg(&[], &path)).unwrap();
        let text = file_text(&acl.read());
        assert_eq!(
            text,
            format!(
                "user alice on #{} ~k* resetchannels &ch -@all +get (~w* resetchannels -@all \
                 +set)\nuser bob off resetchannels -@all\nuser default on nopass ~* &* +@all\n",
                sha256::hex(b"p")
            )
        );
        std::fs::write(&path, &text).unwrap();
        let again = Acl::new(&cfg(&[], &path)).unwrap();
        assert_eq!(file_text(&again.read()), text);
        std::fs::write(&path, "user alice +nope\nbogus\nuser alice\n").unwrap();
        let e = Acl::new(&cfg(&[], &path)).err().unwrap();
        assert_eq!(
            e,
            format!(
                "Aborting Redis startup because of ACL errors: {path}:1: Unknown command or \
                 category name in ACL. {path}:2 should start with user keyword followed by the \
                 username. WARNING: Duplicate user 'alice' found on line 3. WARNING: ACL errors \
                 detected, no change to the previously active ACL rules was performed"
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn log_groups_similar_entries() {
        let acl = Acl::new(&Config::default()).unwrap();
        acl.log(
            Denied::Command,
            Context::Toplevel,
            b"get",
            b"u",
            "a".into(),
            2,
        );
        acl.log(
            Denied::Command,
            Context::Toplevel,
            b"get",
            b"u",
            "b".into(),
            2,
        );
        acl.log(Denied::Key, Context::Multi, b"k", b"u", "c".into(), 2);
        acl.log(Denied::Key, Context::Lua, b"k", b"u", "d".into(), 2);
        let log = acl.log.lock().unwrap();
        assert_eq!(log.entries.len(), 2);
        assert_eq!(log.entries[0].context, Context::Lua);
        assert_eq!(log.entries[1].context, Context::Multi);
        assert_eq!(log.next_id, 3);
    }
}
