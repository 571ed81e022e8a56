//! What can go wrong, each with what the user needs to fix it: the path of a file that could
//! not be read, the line of a malformed marker, the command that could not be started.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug)]
pub enum Error {
    /// A command line this tool does not understand.
    Usage(String),
    /// Reading, writing, listing or removing `path` failed.
    Io { path: PathBuf, source: io::Error },
    /// A task marker, a hint table or a test that does not fit the conventions.
    Task(String),
    /// A program (cargo) that could not be started.
    Spawn { program: String, source: io::Error },
    /// A program that ran and failed where this tool needed it to succeed.
    Command { program: String, output: String },
}

impl Error {
    /// An I/O error about `path`.
    pub fn io(path: &Path, source: io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message) | Error::Task(message) => write!(f, "{message}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Spawn { program, source } => write!(f, "could not run {program}: {source}"),
            Error::Command { program, output } => write!(f, "{program} failed:\n{output}"),
        }
    }
}

impl std::error::Error for Error {}
