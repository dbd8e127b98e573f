//! Turns command-line inputs (files, folders, `-`) into a list of sources,
//! and opens each: a plain file mapped into memory, anything else as a
//! stream.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::decompress::{compressed, decompressing};
use super::progress::InputProgress;

/// One input to read: a file, or standard input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSource {
    /// A file named on the command line.
    File(PathBuf),
    /// A file found by walking a folder: skipped, not an error, when its
    /// content is no trace format (a README beside the exports).
    Found(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl InputSource {
    /// Opens the input, once: a plain file that is not compressed and not
    /// empty is mapped into memory when `map` allows it; anything else
    /// (stdin, a pipe, a compressed file) is a stream, decompressed, whose
    /// raw bytes advance `progress` as they are read. A path is opened
    /// once so that a named pipe is read by the one reader its writer
    /// waits for.
    ///
    /// Read in place, a large file costs no copy from the page cache into
    /// buffers: that copy was a tenth of the CPU time of reading a Jaeger
    /// export (`read` in the kernel), more than any one step of parsing it.
    pub fn open<'a>(&'a self, map: bool, progress: &'a InputProgress) -> io::Result<Opened<'a>> {
        let raw: Box<dyn Read + Send> = match self {
            InputSource::File(path) | InputSource::Found(path) => {
                let file = std::fs::File::open(path)?;
                if let Some(mapped) = map.then(|| mapped(&file)).flatten() {
                    return Ok(Opened::Mapped(mapped));
                }
                Box::new(file)
            }
            InputSource::Stdin => Box::new(io::stdin()),
        };
        decompressing(progress.counting(raw)).map(Opened::Stream)
    }

    /// The size on disk (0 for stdin or an unreadable file), for progress.
    pub fn size(&self) -> u64 {
        match self {
            InputSource::File(p) | InputSource::Found(p) => {
                std::fs::metadata(p).map_or(0, |m| m.len())
            }
            InputSource::Stdin => 0,
        }
    }

    /// The path (or `-`), for errors.
    pub fn path(&self) -> PathBuf {
        match self {
            InputSource::File(p) | InputSource::Found(p) => p.clone(),
            InputSource::Stdin => PathBuf::from("-"),
        }
    }

    /// The name used in messages.
    pub fn display_name(&self) -> String {
        self.path().display().to_string()
    }
}

/// An opened input (see [`InputSource::open`]).
pub enum Opened<'a> {
    Mapped(memmap2::Mmap),
    Stream(Box<dyn Read + Send + 'a>),
}

/// `file` mapped, when it is a plain file that is not empty and not
/// compressed; `None` otherwise, or when it cannot be mapped.
fn mapped(file: &std::fs::File) -> Option<memmap2::Mmap> {
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() == 0 {
        return None;
    }
    // SAFETY: the mapping is only read. A file truncated while it is mapped
    // makes a later read of its lost pages end the process with SIGBUS, as
    // does an I/O error reading a page (a failing disk, a network file
    // system), as with any tool that maps its input (ripgrep does); a file
    // appended to is read as long as it was. `--no-mmap` reads files as
    // streams instead (the README says when to use it).
    let map = unsafe { memmap2::Mmap::map(file) }.ok()?;
    (!compressed(&map)).then_some(map)
}

/// Hands back the pages of `part` of `map`, once parsed: a mapped file's
/// pages, once touched, count in the process's memory until released, as
/// a buffer's would. The pages are read from the file again if touched
/// again (the first page of the next window, shared with this one's last).
pub fn release(map: &memmap2::Mmap, part: &[u8]) {
    // Checked always, not only in debug builds: advice given past the map
    // would drop the pages of whatever memory lies beside it.
    let offset = (part.as_ptr() as usize).checked_sub(map.as_ptr() as usize);
    let Some(offset) = offset.filter(|&at| at <= map.len() && part.len() <= map.len() - at) else {
        panic!("released bytes that are not a part of the map");
    };
    // SAFETY: the mapping is shared and only read, so dropping its pages
    // loses nothing: a later read of them reads the file again (the
    // advice's hazard is to private, written mappings, whose changes it
    // would discard). The offset and length lie within the map (above).
    let _ = unsafe {
        map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, part.len())
    };
}

/// Expands paths: `-` is stdin, a folder is walked recursively (hidden files
/// skipped, sorted for a stable order), anything else is a file.
pub fn expand_inputs(paths: &[PathBuf]) -> io::Result<Vec<InputSource>> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(InputSource::Stdin);
        } else if path.is_dir() {
            walk(path, &mut out)?;
        } else if path.exists() {
            out.push(InputSource::File(path.clone()));
        } else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no such file or folder", path.display()),
            ));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<InputSource>) -> io::Result<()> {
    for entry in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
    {
        let entry = entry.map_err(|e| {
            let msg = e.to_string();
            e.into_io_error().unwrap_or_else(|| io::Error::other(msg))
        })?;
        if entry.file_type().is_file() {
            out.push(InputSource::Found(entry.into_path()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_walked_sorted_and_hidden_files_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.json"), "{}").unwrap();
        std::fs::write(dir.path().join("a.json"), "{}").unwrap();
        std::fs::write(dir.path().join(".hidden"), "{}").unwrap();
        let got = expand_inputs(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|s| s.path().strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            vec![PathBuf::from("a.json"), PathBuf::from("sub/b.json")]
        );
    }

    #[test]
    fn missing_path_is_an_error_naming_it() {
        let err = expand_inputs(&[PathBuf::from("/no/such/trace.json")]).unwrap_err();
        assert!(err.to_string().contains("/no/such/trace.json"));
    }

    #[test]
    fn dash_is_stdin() {
        assert_eq!(
            expand_inputs(&[PathBuf::from("-")]).unwrap(),
            vec![InputSource::Stdin]
        );
    }
}
