//! Opening only regular files, so that reading a path always ends.
//!
//! A path given on the command line can name anything. A directory cannot be read as data at
//! all; `/dev/zero` or `/dev/urandom` never end, so "read the whole file" fills the memory; a
//! FIFO (a named pipe) makes even *opening* it wait until another process opens its other end,
//! which may be never; a socket or a terminal waits for input. None of them is a data set. So
//! every file the datasets module reads is opened by [`open`], which asks what the path is before
//! opening it, asks again of what it opened (the path could have been replaced in between), and
//! refuses anything but a regular file with [`Error::NotARegularFile`]. It also returns the
//! file's length, which bounds every read that follows: nothing reads past what the file held
//! when it was opened.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

use crate::datasets::memory_budget::check_budget;
use crate::error::{Error, Result};

/// Opens `path` for reading if it is a regular file (symbolic links are followed), and returns it
/// with its length in bytes.
///
/// # Errors
///
/// [`Error::Io`] when the path cannot be inspected or opened, [`Error::NotARegularFile`] when it
/// is a directory, a device, a FIFO or a socket.
pub fn open(path: &Path) -> Result<(File, u64)> {
    let before = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    check_regular(path, &before)?;
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let opened = file.metadata().map_err(|e| Error::io(path, e))?;
    check_regular(path, &opened)?;
    Ok((file, opened.len()))
}

/// Reads a whole regular file, once its length is known to fit the memory budget.
///
/// # Errors
///
/// Those of [`open`], [`Error::OverMemoryBudget`] for a file larger than the budget, and
/// [`Error::Io`] when reading fails.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    let (file, len) = open(path)?;
    check_budget(|| path.display().to_string(), u128::from(len))?;
    // The length only sizes the buffer; `take` makes sure a file that grows is not followed.
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(len)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    Ok(bytes)
}

fn check_regular(path: &Path, metadata: &Metadata) -> Result<()> {
    if metadata.is_file() {
        return Ok(());
    }
    Err(Error::NotARegularFile {
        path: path.to_path_buf(),
        kind: kind_of(metadata),
    })
}

/// What a path that is not a regular file is, in words.
fn kind_of(metadata: &Metadata) -> &'static str {
    let file_type = metadata.file_type();
    if file_type.is_dir() {
        return "directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "character device";
        }
        if file_type.is_block_device() {
            return "block device";
        }
        if file_type.is_socket() {
            return "socket";
        }
    }
    "special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_as(path: &Path) -> &'static str {
        match open(path) {
            Err(Error::NotARegularFile { path: named, kind }) => {
                assert_eq!(named, path, "the error names the path");
                kind
            }
            other => panic!(
                "expected NotARegularFile for {}, got {other:?}",
                path.display()
            ),
        }
    }

    #[test]
    fn a_regular_file_opens_with_its_length() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("data.bin");
        std::fs::write(&path, b"twelve bytes").expect("write");
        let (_, len) = open(&path).expect("a regular file");
        assert_eq!(len, 12);
        assert_eq!(read(&path).expect("a regular file"), b"twelve bytes");
    }

    #[test]
    fn directories_devices_and_missing_paths_are_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        assert_eq!(refused_as(dir.path()), "directory");
        assert!(matches!(
            open(&dir.path().join("missing")),
            Err(Error::Io { .. })
        ));
        #[cfg(unix)]
        {
            assert_eq!(refused_as(Path::new("/dev/zero")), "character device");
            assert!(matches!(
                read(Path::new("/dev/zero")),
                Err(Error::NotARegularFile { .. })
            ));
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        // Opening a FIFO for reading blocks until a writer comes; refusing it must not.
        assert_eq!(refused_as(&fifo), "FIFO (named pipe)");
    }
}
