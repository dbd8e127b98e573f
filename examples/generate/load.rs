//! Placeholder.
use std::io::{self, Write};
use crate::writers::Format;
pub fn write(_n: u64, _f: Format, _s: u64, _o: &mut dyn Write) -> io::Result<()> { Ok(()) }
