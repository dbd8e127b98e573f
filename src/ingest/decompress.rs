//! Transparent decompression, chosen by magic bytes rather than file name.

use std::io::{self, Read};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Whether `head`, the first bytes of an input, begin gzip or zstd data.
pub fn compressed(head: &[u8]) -> bool {
    head.starts_with(&GZIP_MAGIC) || head.starts_with(&ZSTD_MAGIC)
}

/// Wraps `source` in a gzip or zstd decoder when its first bytes are that
/// format's magic; anything else is read as it is.
pub fn decompressing<'a>(
    mut source: Box<dyn Read + Send + 'a>,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    let mut magic = Vec::with_capacity(4);
    (&mut source).take(4).read_to_end(&mut magic)?;
    let whole = io::Cursor::new(magic.clone()).chain(source);
    Ok(if magic.starts_with(&GZIP_MAGIC) {
        // MultiGzDecoder: `cat a.gz b.gz` and pigz output hold several members.
        Box::new(Labelled {
            inner: flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(1 << 20, whole)),
            label: "gzip",
        })
    } else if magic.starts_with(&ZSTD_MAGIC) {
        Box::new(Labelled {
            inner: zstd::stream::read::Decoder::new(whole)?,
            label: "zstd",
        })
    } else {
        Box::new(whole)
    })
}

/// A decoder whose errors say which compression they came from.
struct Labelled<R> {
    inner: R,
    label: &'static str,
}

impl<R: Read> Read for Labelled<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner
            .read(buf)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.label)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn compressed_inputs_are_told_by_their_magic() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"{}").unwrap();
        assert!(compressed(&enc.finish().unwrap()));
        assert!(compressed(
            &zstd::stream::encode_all(&b"{}"[..], 1).unwrap()
        ));
        assert!(!compressed(b"{\"resourceSpans\": []}"));
        assert!(!compressed(&[0x1f]), "half a magic is not one");
    }

    #[test]
    fn plain_bytes_pass_through() {
        assert_eq!(streamed(b"{}".to_vec()).unwrap(), b"{}");
    }

    #[test]
    fn gzip_round_trip() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"{\"resourceSpans\":[]}").unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(streamed(gz).unwrap(), b"{\"resourceSpans\":[]}");
    }

    #[test]
    fn zstd_round_trip() {
        let z = zstd::stream::encode_all(&b"hello traces"[..], 1).unwrap();
        assert_eq!(streamed(z).unwrap(), b"hello traces");
    }

    fn streamed(bytes: Vec<u8>) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        decompressing(Box::new(io::Cursor::new(bytes)))?.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn streaming_decompression_matches_whole() {
        let z = zstd::stream::encode_all(&b"hello traces"[..], 1).unwrap();
        assert_eq!(streamed(z).unwrap(), b"hello traces");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"{\"resourceSpans\":[]}").unwrap();
        let mut two = enc.finish().unwrap();
        two.extend(two.clone());
        assert_eq!(
            streamed(two).unwrap(),
            b"{\"resourceSpans\":[]}{\"resourceSpans\":[]}"
        );
        assert_eq!(streamed(b"{}".to_vec()).unwrap(), b"{}");
        assert_eq!(streamed(Vec::new()).unwrap(), b"");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&[7u8; 4096]).unwrap();
        let gz = enc.finish().unwrap();
        let err = streamed(gz[..gz.len() / 2].to_vec()).unwrap_err();
        assert!(err.to_string().starts_with("gzip: "), "{err}");
    }

    #[test]
    fn truncated_gzip_is_an_error_not_a_panic() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&[7u8; 4096]).unwrap();
        let gz = enc.finish().unwrap();
        assert!(streamed(gz[..gz.len() / 2].to_vec()).is_err());
    }
}
