//! One input's share of the progress bar: the raw bytes read from it, as
//! they are read, and the rest of its size once it is done, so that the
//! bar ends at the inputs' total size however each input was read (read
//! whole, in windows of a map, or through a decompressor; skipped).

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};

/// The bytes of one input shown on the bar so far.
pub struct InputProgress {
    bar: Option<indicatif::ProgressBar>,
    shown: AtomicU64,
}

impl InputProgress {
    /// Nothing of the input shown yet on `bar` (if there is one).
    pub fn new(bar: Option<indicatif::ProgressBar>) -> Self {
        InputProgress {
            bar,
            shown: AtomicU64::new(0),
        }
    }

    /// `bytes` more of the input were read.
    pub fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
            self.shown.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// `source`, advancing the bar by the bytes read from it.
    pub fn counting<'a>(&'a self, source: Box<dyn Read + Send + 'a>) -> Box<dyn Read + Send + 'a> {
        match self.bar {
            Some(_) => Box::new(Counting {
                inner: source,
                progress: self,
            }),
            None => source,
        }
    }

    /// The input, of `size()` bytes, is done: the bar is advanced by what
    /// was not shown yet (all of it for an input found to be no trace
    /// format, whose reading stopped at its head). The size is asked for
    /// only when there is a bar.
    pub fn finish(&self, size: impl FnOnce() -> u64) {
        if let Some(bar) = &self.bar {
            bar.inc(size().saturating_sub(self.shown.load(Ordering::Relaxed)));
        }
    }
}

/// A reader that advances an input's progress by what it reads.
struct Counting<'a> {
    inner: Box<dyn Read + Send + 'a>,
    progress: &'a InputProgress,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_ends_at_its_size_however_much_was_shown() {
        for read in [0u64, 300, 1_000, 1_500] {
            let bar = indicatif::ProgressBar::hidden();
            let progress = InputProgress::new(Some(bar.clone()));
            let mut bytes = Vec::new();
            progress
                .counting(Box::new(io::Cursor::new(vec![7u8; read as usize])))
                .read_to_end(&mut bytes)
                .unwrap();
            assert_eq!(bar.position(), read);
            progress.finish(|| 1_000);
            assert_eq!(bar.position(), read.max(1_000), "read {read}");
        }
    }
}
