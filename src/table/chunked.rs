//! Column buffers made for a fixed number of rows, which become a chunk of
//! their table when full. A rayon task of the per-trace stage fills a
//! tenth or more of a run's rows: grown by doubling, its buffers were
//! copied on every growth (about 7% of the stage's instructions, in
//! `realloc` and its copies) and held up to twice their rows until the
//! table was made contiguous.

/// Rows a new buffer is made for (or a trace's rows, if more).
pub const ROWS_PER_CHUNK: usize = 1 << 16;

/// Column buffers that rows are pushed to, and the table their rows become.
pub trait RowBuffer: Sized {
    /// What full buffers become, chunk by chunk.
    type Table;

    /// Empty buffers like `self` (the same columns), with room for `rows`.
    fn with_room(&self, rows: usize) -> Self;

    /// The rows pushed.
    fn len(&self) -> usize;

    /// Whether no rows were pushed.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows that can still be pushed without growing.
    fn room(&self) -> usize;

    /// Lets go of the room left.
    fn shrink_to_fit(&mut self);

    /// The rows as a table of one chunk, without copying.
    fn into_table(self) -> Self::Table;

    /// Appends `other`'s chunks after `table`'s.
    fn append(table: &mut Self::Table, other: Self::Table);
}

/// Buffers filled up to their room, then handed over as a chunk of the
/// table of every row pushed so far.
pub struct Chunked<B: RowBuffer> {
    filling: B,
    full: Option<B::Table>,
}

impl<B: RowBuffer> Chunked<B> {
    /// Rows pushed to `empty` and to buffers like it.
    pub fn new(empty: B) -> Self {
        Chunked {
            filling: empty,
            full: None,
        }
    }

    /// Makes room for `rows` more rows: buffers without it become a chunk
    /// and new ones are made. More rows than that may still be pushed;
    /// the buffers then grow.
    pub fn room_for(&mut self, rows: usize) {
        if self.filling.room() >= rows {
            return;
        }
        let next = self.filling.with_room(ROWS_PER_CHUNK.max(rows));
        let full = std::mem::replace(&mut self.filling, next);
        if !full.is_empty() {
            self.hand_over(full);
        }
    }

    /// The buffers rows are pushed to.
    pub fn rows(&mut self) -> &mut B {
        &mut self.filling
    }

    /// Every row pushed, as one table.
    pub fn finish(self) -> B::Table {
        let Chunked { mut filling, full } = self;
        filling.shrink_to_fit();
        joined::<B>(full, filling.into_table())
    }

    fn hand_over(&mut self, full: B) {
        self.full = Some(joined::<B>(self.full.take(), full.into_table()));
    }
}

/// `chunk` after the chunks of `table`, if there is one.
fn joined<B: RowBuffer>(table: Option<B::Table>, chunk: B::Table) -> B::Table {
    match table {
        None => chunk,
        Some(mut table) => {
            B::append(&mut table, chunk);
            table
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One column of numbers; its table, the chunks it was handed.
    #[derive(Debug, Default)]
    struct Numbers(Vec<u32>);

    impl RowBuffer for Numbers {
        type Table = Vec<Vec<u32>>;
        fn with_room(&self, rows: usize) -> Self {
            Numbers(Vec::with_capacity(rows))
        }
        fn len(&self) -> usize {
            self.0.len()
        }
        fn room(&self) -> usize {
            self.0.capacity() - self.0.len()
        }
        fn shrink_to_fit(&mut self) {
            self.0.shrink_to_fit();
        }
        fn into_table(self) -> Self::Table {
            vec![self.0]
        }
        fn append(table: &mut Self::Table, other: Self::Table) {
            table.extend(other);
        }
    }

    #[test]
    fn rows_keep_their_order_and_buffers_never_grow_past_their_room() {
        let mut chunked = Chunked::new(Numbers::default());
        // Groups of rows as traces give them: small ones, and one larger
        // than a chunk, which gets buffers of its own size.
        let groups = [3, ROWS_PER_CHUNK - 4, 5, ROWS_PER_CHUNK + 7, 1];
        let mut next = 0u32;
        for &n in &groups {
            chunked.room_for(n);
            let room = chunked.rows().room();
            for _ in 0..n {
                chunked.rows().0.push(next);
                next += 1;
            }
            assert!(room >= n, "room {room} for {n} rows");
        }
        let chunks = chunked.finish();
        let rows: Vec<u32> = chunks.iter().flatten().copied().collect();
        assert_eq!(rows, (0..next).collect::<Vec<_>>());
        // A chunk was handed over when the next group did not fit in it:
        // the first two groups share one, then each group starts anew.
        let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
        assert_eq!(sizes, [ROWS_PER_CHUNK - 1, 5, ROWS_PER_CHUNK + 7, 1]);
        // The last buffers let go of the room they did not use.
        assert!(chunks[3].capacity() < ROWS_PER_CHUNK);
    }

    #[test]
    fn no_rows_give_the_table_of_the_empty_buffers() {
        let chunked = Chunked::new(Numbers::default());
        assert_eq!(chunked.finish(), vec![Vec::<u32>::new()]);
    }
}
