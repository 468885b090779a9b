//! Replacing a file so that a crash at any point leaves either the old content or the new,
//! never a torn mix or no file: write a temporary file beside it, flush it, rename it over
//! the destination, flush the directory (the rename is only durable once the directory is).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Makes `tmp` (already written through `file`) the content of `dest`, durably.
pub fn install(file: &File, tmp: &Path, dest: &Path) -> io::Result<()> {
    file.sync_all()?;
    std::fs::rename(tmp, dest)?;
    sync_parent(dest)
}

/// Replaces `dest` with `contents`, keeping `dest`'s permissions when it exists. On an
/// error `dest` is untouched and the temporary file is removed.
pub fn replace(dest: &Path, contents: &[u8]) -> io::Result<()> {
    let tmp = temp_beside(dest);
    let written = (|| {
        let mut f = File::create(&tmp)?;
        if let Ok(meta) = std::fs::metadata(dest) {
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(contents)?;
        install(&f, &tmp, dest)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Flushes the directory holding `path`, so a rename or creation in it survives a crash.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => File::open(d)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

/// `dir/.name.tmp-<pid>`: in the destination's directory (a rename cannot cross file
/// systems), unique per process.
fn temp_beside(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_writes_keeps_permissions_and_leaves_no_temporary() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("shardis-durable-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("file.conf");
        replace(&dest, b"one").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"one");
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o600)).unwrap();
        replace(&dest, b"two").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"two");
        let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "only the file itself");
        // A destination in a missing directory fails without leaving anything behind.
        assert!(replace(&dir.join("missing/x"), b"x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
