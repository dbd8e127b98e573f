//! Transparent decompression, chosen by magic bytes rather than file name.

use std::io::{self, Read};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Decompresses gzip or zstd content; anything else is returned as is.
pub fn decompress(bytes: Vec<u8>) -> io::Result<Vec<u8>> {
    if bytes.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::with_capacity(bytes.len() * 4);
        // MultiGzDecoder: `cat a.gz b.gz` and pigz output hold several members.
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| io::Error::new(e.kind(), format!("gzip: {e}")))?;
        Ok(out)
    } else if bytes.starts_with(&ZSTD_MAGIC) {
        zstd::stream::decode_all(&bytes[..])
            .map_err(|e| io::Error::new(e.kind(), format!("zstd: {e}")))
    } else {
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn plain_bytes_pass_through() {
        assert_eq!(decompress(b"{}".to_vec()).unwrap(), b"{}");
    }

    #[test]
    fn gzip_round_trip() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"{\"resourceSpans\":[]}").unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(decompress(gz).unwrap(), b"{\"resourceSpans\":[]}");
    }

    #[test]
    fn zstd_round_trip() {
        let z = zstd::stream::encode_all(&b"hello traces"[..], 1).unwrap();
        assert_eq!(decompress(z).unwrap(), b"hello traces");
    }

    #[test]
    fn truncated_gzip_is_an_error_not_a_panic() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&[7u8; 4096]).unwrap();
        let gz = enc.finish().unwrap();
        assert!(decompress(gz[..gz.len() / 2].to_vec()).is_err());
    }
}
