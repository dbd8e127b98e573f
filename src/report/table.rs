//! Shared terminal-table set-up (comfy-table).

use comfy_table::{ContentArrangement, Table, presets};

/// A table that fits the terminal width when stdout is a terminal.
pub fn new_table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    table
}
