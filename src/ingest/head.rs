//! The first bytes of an input, which tell its format and framing, and
//! where the rest of it comes from: a file mapped into memory, or a
//! stream read into buffers.

use std::borrow::Cow;
use std::io::{self, Read};

use super::SNIFF_LEN;
use super::stream::{Release, Source};

/// An input whose first bytes were looked at.
pub enum Head<'m> {
    /// A mapped file, `all` of it, of which the first `sniffed` bytes were
    /// looked at.
    Mapped { all: &'m [u8], sniffed: usize },
    /// A stream, of which `first` was read.
    Read {
        first: Vec<u8>,
        rest: Box<dyn Read + Send + 'm>,
    },
}

/// The most a head grows by at a time while it looks for the end of the
/// first line.
const STEP: usize = 1 << 16;

impl<'m> Head<'m> {
    /// The first [`SNIFF_LEN`] bytes of a mapped file (all of it, when
    /// shorter).
    pub fn mapped(all: &'m [u8]) -> Self {
        Head::Mapped {
            all,
            sniffed: all.len().min(SNIFF_LEN),
        }
    }

    /// The first [`SNIFF_LEN`] bytes of `stream` (all of it, when shorter).
    pub fn read(mut stream: Box<dyn Read + Send + 'm>) -> io::Result<Self> {
        let mut first = Vec::with_capacity(SNIFF_LEN);
        (&mut stream)
            .take(SNIFF_LEN as u64)
            .read_to_end(&mut first)?;
        Ok(Head::Read {
            first,
            rest: stream,
        })
    }

    /// The bytes looked at so far.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Head::Mapped { all, sniffed } => &all[..*sniffed],
            Head::Read { first, .. } => first,
        }
    }

    /// Looks further, [`STEP`] bytes at a time, up to `wanted` bytes more,
    /// until the bytes looked at hold a newline (or the input ends).
    pub fn through_newline(&mut self, wanted: usize) -> io::Result<()> {
        match self {
            Head::Mapped { all, sniffed } => {
                let limit = all.len().min(*sniffed + wanted);
                while *sniffed < limit {
                    let step = &all[*sniffed..limit.min(*sniffed + STEP)];
                    *sniffed += step.len();
                    if memchr::memchr(b'\n', step).is_some() {
                        break;
                    }
                }
            }
            Head::Read { first, rest } => {
                let mut more = rest.take(wanted as u64);
                let mut chunk = vec![0u8; STEP];
                loop {
                    let n = more.read(&mut chunk)?;
                    first.extend_from_slice(&chunk[..n]);
                    if n == 0 || memchr::memchr(b'\n', &chunk[..n]).is_some() {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// The whole input.
    pub fn whole(self) -> io::Result<Cow<'m, [u8]>> {
        Ok(match self {
            Head::Mapped { all, .. } => Cow::Borrowed(all),
            Head::Read {
                mut first,
                mut rest,
            } => {
                rest.read_to_end(&mut first)?;
                Cow::Owned(first)
            }
        })
    }

    /// The input as a source of windows, the bytes looked at first;
    /// `release` is given each mapped window once it is parsed.
    pub fn windows(self, release: Release<'m>) -> Source<'m> {
        match self {
            Head::Mapped { all, sniffed } => Source::Mapped {
                bytes: all,
                sniffed,
                release,
            },
            Head::Read { first, rest } => Source::Read { first, rest },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head a mapped input and a read one reach, looking as
    /// `read_one` looks: the first bytes, then through the first newline.
    fn heads(input: &[u8], wanted: usize) -> (Vec<u8>, Vec<u8>) {
        let mut mapped = Head::mapped(input);
        let mut read = Head::read(Box::new(io::Cursor::new(input.to_vec()))).unwrap();
        for head in [&mut mapped, &mut read] {
            if memchr::memchr(b'\n', head.bytes()).is_none() {
                head.through_newline(wanted).unwrap();
            }
        }
        (mapped.bytes().to_vec(), read.bytes().to_vec())
    }

    #[test]
    fn a_mapped_head_looks_as_far_as_a_read_one() {
        for (line, wanted) in [
            (10, 1 << 20),
            (SNIFF_LEN + 5, 1 << 20),
            (SNIFF_LEN + 3 * STEP + 7, 1 << 20),
            (SNIFF_LEN + 3 * STEP + 7, STEP + 9),
            (4 * SNIFF_LEN, 1 << 24),
        ] {
            let mut input = vec![b'x'; line];
            input.extend_from_slice(b"\n{}\n");
            input.extend(std::iter::repeat_n(b'y', 3 * STEP));
            let (mapped, read) = heads(&input, wanted);
            assert_eq!(mapped.len(), read.len(), "line {line}, wanted {wanted}");
            assert_eq!(mapped, read);
        }
        let (mapped, read) = heads(b"short", 100);
        assert_eq!(
            (mapped.as_slice(), read.as_slice()),
            (&b"short"[..], &b"short"[..])
        );
    }

    #[test]
    fn the_whole_input_is_the_same_either_way() {
        let input: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut read = Head::read(Box::new(io::Cursor::new(input.clone()))).unwrap();
        read.through_newline(1000).unwrap();
        assert_eq!(read.whole().unwrap(), Head::mapped(&input).whole().unwrap());
    }
}
