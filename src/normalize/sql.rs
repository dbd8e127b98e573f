//! SQL statement shapes: one pass of a byte scanner into tokens, then a
//! render that folds whitespace.
//!
//! Rules (those of Sentry's span grouping and Relay's SQL scrubber, see the
//! tests for their published pairs):
//! - literals become `%s`: quoted strings (with `''` and `\'` escapes, `N`,
//!   `E`, `B`, `X` prefixes, unterminated ones running to the end),
//!   dollar-quoted strings, numbers (signed, decimal, exponent, hex),
//!   booleans, ODBC escapes (`{ts '...'}`), with any `::type` cast after them;
//! - placeholders become `%s` too: `?`, `$1`, `%s`, `%(name)s`, `:name`,
//!   `@name`, so a statement looks the same whichever driver sent it;
//! - lists of placeholders collapse: `IN (%s, %s)` → `IN (%s)`,
//!   `VALUES (%s, %s), (%s, %s)` → `VALUES (%s)`, `ARRAY[%s, %s]` →
//!   `ARRAY[%s]`, `ANY('{1,2}')` → `ANY(%s)`;
//! - savepoint names become `%s`;
//! - comments (`--`, `/* */`, and `# ` on MySQL) are dropped, whitespace
//!   collapses to one space, none inside parentheses or before a comma;
//! - SQL keywords are upper-cased; identifiers, function names and quoted
//!   identifiers keep their text (MySQL's double-quoted strings are literals);
//! - a shape is its own shape: where it matters, the scanner reads tokens
//!   alike whatever whitespace or comments come between them (a `::type`
//!   after a literal, `{d '...'}`, `#`), and the render never writes two
//!   tokens so that they read as others (`<` and `%s`, `:` and `::`, `[`
//!   and a name).
//!
//! Deliberate differences from Relay: critpath keeps column lists and table
//! qualifiers (`SELECT a.id, a.name`, where Relay writes `SELECT ..`): a shape
//! is shown to people as the query to look for, and the literals are what
//! varies between the repeats of one query.

/// The shape of a SQL statement; `mysql` makes double-quoted text a
/// string literal, as MySQL reads it.
#[cfg(test)]
pub fn shape(statement: &str, mysql: bool) -> String {
    shape_scoped(statement, mysql).0
}

/// The shape of a SQL statement (`mysql` makes double-quoted text a string
/// literal, as MySQL reads it), and whether it is the shape of every
/// statement with the same digit template ([`super::digits`]).
pub fn shape_scoped(statement: &str, mysql: bool) -> (String, bool) {
    let tokens = Scanner::new(statement, mysql).run();
    let scoped = digits_are_literals(statement.as_bytes(), &tokens);
    (render(statement, &tokens), scoped)
}

/// Whether each standalone digit run lies in a literal, or in whitespace
/// or a comment, and none in a token whose text the shape keeps (a quoted
/// identifier, `"col 1"`). The scanner's every choice at a run (and at
/// what comes before or after one) is the same whatever the run's digits
/// and length, so it then reads each statement with the same template
/// into tokens of the same kinds and kept texts.
fn digits_are_literals(s: &[u8], tokens: &[Token]) -> bool {
    let mut t = 0;
    super::digits::runs(s).all(|run| {
        while tokens.get(t).is_some_and(|token| token.end <= run.start) {
            t += 1;
        }
        match tokens.get(t) {
            Some(token) if token.start <= run.start => {
                token.kind == Kind::Placeholder && run.end <= token.end
            }
            Some(token) => run.end <= token.start,
            // After the last token: a comment, or trailing semicolons'.
            None => true,
        }
    })
}

/// What a token is; its text is a range of the statement unless it is a
/// placeholder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Word,
    Keyword,
    Placeholder,
    Open,
    Close,
    Comma,
    Dot,
    /// `::`, the PostgreSQL cast operator (written without spaces).
    Cast,
    Other,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    /// Whether whitespace or a comment came before it.
    spaced: bool,
}

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
    out: Vec<Token>,
    spaced: bool,
    /// The previous word was SAVEPOINT: the next name is a value.
    savepoint: bool,
    mysql: bool,
}

impl<'a> Scanner<'a> {
    fn new(statement: &'a str, mysql: bool) -> Self {
        Scanner {
            s: statement.as_bytes(),
            i: 0,
            out: Vec::with_capacity(statement.len() / 4),
            spaced: false,
            savepoint: false,
            mysql,
        }
    }

    fn peek(&self, ahead: usize) -> u8 {
        self.s.get(self.i + ahead).copied().unwrap_or(0)
    }

    fn run(mut self) -> Vec<Token> {
        while self.i < self.s.len() {
            let c = self.s[self.i];
            let start = self.i;
            // Checked here first: most tokens start with no trivia, and the
            // call alone cost more than the check.
            if CLASS[c as usize] & TRIVIA != 0 {
                let trivia = self.trivia_end(start);
                if trivia > start {
                    self.i = trivia;
                    self.spaced = true;
                    continue;
                }
            }
            match c {
                b'\'' => {
                    self.skip_string(b'\'');
                    self.literal(start);
                }
                b'"' if self.mysql => {
                    self.skip_string(b'"');
                    self.literal(start);
                }
                b'"' | b'`' => {
                    self.skip_quoted(c);
                    self.name(start);
                }
                b'[' if self.bracket_is_identifier() => {
                    self.skip_quoted(b']');
                    self.name(start);
                }
                b'$' if self.peek(1).is_ascii_digit() => {
                    self.i += 1;
                    self.skip_while(|b| b.is_ascii_digit());
                    self.literal(start);
                }
                b'$' if self.dollar_quote() => self.literal(start),
                b'0'..=b'9' => {
                    self.skip_number();
                    self.literal(start);
                }
                b'.' if self.peek(1).is_ascii_digit() && !self.after_name() => {
                    self.skip_number();
                    self.literal(start);
                }
                b'-' | b'+' if self.peek(1).is_ascii_digit() && self.expects_operand() => {
                    self.i += 1;
                    self.skip_number();
                    self.literal(start);
                }
                b'?' => {
                    self.skip_while(|b| b == b'?');
                    self.literal(start);
                }
                b'%' if self.peek(1) == b's' => {
                    self.i += 2;
                    self.literal(start);
                }
                b'%' if self.peek(1) == b'(' => {
                    match find(self.s, self.i, b")s") {
                        Some(j) => self.i = j + 2,
                        None => self.i = self.s.len(),
                    }
                    self.literal(start);
                }
                b':' if self.peek(1) == b':' => {
                    self.i += 2;
                    self.push(Kind::Cast, start);
                }
                b':' | b'@' if is_word_start(self.peek(1)) => {
                    self.i += 1;
                    self.skip_while(is_word_byte);
                    self.literal(start);
                }
                b'{' if self.odbc_escape() => self.literal(start),
                b'(' | b'[' => {
                    self.i += 1;
                    self.push(Kind::Open, start);
                }
                b')' | b']' => {
                    self.i += 1;
                    self.push(Kind::Close, start);
                }
                b',' => {
                    self.i += 1;
                    self.push(Kind::Comma, start);
                }
                b'.' => {
                    self.i += 1;
                    self.push(Kind::Dot, start);
                }
                b';' => {
                    self.i += 1;
                    self.push(Kind::Other, start);
                }
                c if is_word_start(c) => self.word(start),
                _ => {
                    // Operators: a run of symbol bytes is one token, up to
                    // a comment or placeholder; `#` only leads one (`##`,
                    // `#>`).
                    self.i += 1;
                    if c == b'#' {
                        self.skip_while(|b| b == b'#');
                    }
                    while CLASS[self.peek(0) as usize] & OPERATOR != 0 && !self.ends_operator() {
                        self.i += 1;
                    }
                    self.push(Kind::Other, start);
                }
            }
        }
        // Trailing semicolons are not part of the shape, whatever whitespace
        // or comments come after them (`SELECT 1; -- done`).
        while self
            .out
            .last()
            .is_some_and(|t| t.kind == Kind::Other && self.s[t.start] == b';')
        {
            self.out.pop();
        }
        self.out
    }

    fn push(&mut self, kind: Kind, start: usize) {
        self.out.push(Token {
            kind,
            start,
            end: self.i,
            spaced: self.spaced,
        });
        self.spaced = false;
        if kind != Kind::Keyword {
            self.savepoint = false;
        }
    }

    /// A literal or placeholder, with any `::type[]` cast after it. The
    /// cast is taken whatever whitespace or comments surround its `::`, as
    /// the shape writes none there: `'a' :: text` is `%s`, as its shape
    /// `%s::text` would be.
    fn literal(&mut self, start: usize) {
        loop {
            let colons = self.trivia_end(self.i);
            if self.s.get(colons..colons + 2) != Some(b"::") {
                break;
            }
            let name = self.trivia_end(colons + 2);
            if !self.s.get(name).copied().is_some_and(is_word_start) {
                break;
            }
            self.i = name;
            self.skip_while(is_word_byte);
            if self.peek(0) == b'[' && self.peek(1) == b']' {
                self.i += 2;
            }
        }
        self.push(Kind::Placeholder, start);
    }

    /// A quoted identifier, or the value of a savepoint name.
    fn name(&mut self, start: usize) {
        if self.savepoint {
            self.literal(start);
        } else {
            self.push(Kind::Word, start);
        }
    }

    fn word(&mut self, start: usize) {
        self.skip_while(is_word_byte);
        let text = &self.s[start..self.i];
        // A one-letter string prefix: N'..', E'..', B'..', X'..'.
        if self.peek(0) == b'\'' && text.len() == 1 && b"NnEeBbXx".contains(&text[0]) {
            self.skip_string(b'\'');
            self.literal(start);
            return;
        }
        if text.eq_ignore_ascii_case(b"true") || text.eq_ignore_ascii_case(b"false") {
            self.literal(start);
            return;
        }
        if self.savepoint {
            self.literal(start);
            return;
        }
        if is_keyword(text) {
            let savepoint = text.eq_ignore_ascii_case(b"savepoint");
            self.push(Kind::Keyword, start);
            self.savepoint = savepoint;
        } else {
            self.push(Kind::Word, start);
        }
    }

    fn skip_while(&mut self, f: impl Fn(u8) -> bool) {
        self.i += self.s[self.i..].iter().take_while(|&&b| f(b)).count();
    }

    /// Where the whitespace and comments from `from` end (`from` if none
    /// start there): `--` and `#` comments run to the end of the line, an
    /// unterminated `/*` to the end of the statement.
    ///
    /// A `#` begins a (MySQL) comment when whitespace or another comment
    /// follows it (or the `#`s after it): any other `#` is an operator
    /// (PostgreSQL's `#`, `##`, `#>`, `#-`), also one that ends the
    /// statement. So no `#` a shape keeps reads back as a comment: the
    /// shape writes after it either nothing (the end, or a trailing `;`)
    /// or the next token, with a space only if whitespace or a comment
    /// came between, that is if the `#` was a comment after all.
    fn trivia_end(&self, from: usize) -> usize {
        let s = self.s;
        // Most tokens follow a token or one space: only a byte that may
        // start whitespace or a comment needs the walk.
        match s.get(from) {
            Some(&c) if CLASS[c as usize] & TRIVIA == 0 => return from,
            Some(b' ')
                if s.get(from + 1)
                    .is_some_and(|&c| CLASS[c as usize] & TRIVIA == 0) =>
            {
                return from + 1;
            }
            _ => {}
        }
        let at = |j: usize| s.get(j).copied().unwrap_or(0);
        let mut j = from;
        while j < s.len() {
            j = match s[j] {
                c if is_space(c) => j + 1,
                b'-' if at(j + 1) == b'-' => line_end(s, j),
                b'#' => {
                    let k = j + s[j..].iter().take_while(|&&b| b == b'#').count();
                    if !is_space(at(k)) && !starts_comment(at(k), at(k + 1)) {
                        break;
                    }
                    line_end(s, j)
                }
                b'/' if at(j + 1) == b'*' => find(s, j + 2, b"*/").map_or(s.len(), |e| e + 2),
                _ => break,
            };
        }
        j
    }

    /// Past a string opened at `self.i` by `quote`: doubled quotes and
    /// backslashes escape; an unterminated string runs to the end.
    fn skip_string(&mut self, quote: u8) {
        self.i += 1;
        while self.i < self.s.len() {
            match self.s[self.i] {
                // Only an escaped quote is skipped as a pair (as Relay reads
                // `\\'`), so a string never swallows more than it must.
                b'\\' if self.peek(1) == quote => self.i += 2,
                c if c == quote && self.peek(1) == quote => self.i += 2,
                c if c == quote => {
                    self.i += 1;
                    return;
                }
                _ => self.i += 1,
            }
        }
        self.i = self.s.len();
    }

    /// Past a quoted identifier opened at `self.i`, closed by `close`.
    fn skip_quoted(&mut self, close: u8) {
        self.i += 1;
        match memchr::memchr(close, &self.s[self.i..]) {
            Some(j) => self.i += j + 1,
            None => self.i = self.s.len(),
        }
    }

    fn skip_number(&mut self) {
        if self.peek(0) == b'0' && matches!(self.peek(1), b'x' | b'X') {
            self.i += 2;
            self.skip_while(|b| b.is_ascii_hexdigit());
            return;
        }
        self.skip_while(|b| b.is_ascii_digit());
        if self.peek(0) == b'.' && self.peek(1).is_ascii_digit() {
            self.i += 1;
            self.skip_while(|b| b.is_ascii_digit());
        } else if self.peek(0) == b'.' && !is_word_start(self.peek(1)) {
            self.i += 1;
        }
        let exp = matches!(self.peek(0), b'e' | b'E');
        let signed = matches!(self.peek(1), b'+' | b'-');
        if exp && self.peek(1 + usize::from(signed)).is_ascii_digit() {
            self.i += 1 + usize::from(signed);
            self.skip_while(|b| b.is_ascii_digit());
        }
        // `1abc` is not a number followed by a word: take it whole.
        self.skip_while(is_word_byte);
    }

    /// A dollar-quoted string `$tag$ ... $tag$` at `self.i`; moves past it.
    fn dollar_quote(&mut self) -> bool {
        let tag_end = self.s[self.i + 1..]
            .iter()
            .position(|&b| !is_word_byte(b) || b == b'$')
            .map(|p| self.i + 1 + p);
        let Some(tag_end) = tag_end.filter(|&e| self.s[e] == b'$') else {
            return false;
        };
        let tag = &self.s[self.i..=tag_end];
        self.i = find(self.s, tag_end + 1, tag).map_or(self.s.len(), |j| j + tag.len());
        true
    }

    /// An ODBC escape `{d '...'}`, `{t '...'}` or `{ts '...'}`; moves past it.
    fn odbc_escape(&mut self) -> bool {
        let rest = &self.s[self.i + 1..];
        let tag = rest.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        // The tag is followed by whitespace or a comment, which the shape
        // writes as a space: `{d--` read otherwise would read back as `{d `.
        let tag_end = self.i + 1 + tag;
        let is_escape =
            matches!(&rest[..tag], b"d" | b"t" | b"ts") && self.trivia_end(tag_end) > tag_end;
        if is_escape {
            self.i = memchr::memchr(b'}', rest).map_or(self.s.len(), |j| self.i + 1 + j + 1);
        }
        is_escape
    }

    /// `[name]` is a SQL Server identifier; after a word (`ARRAY[`, `a[1]`)
    /// a bracket is an index or array.
    fn bracket_is_identifier(&self) -> bool {
        let after_word = self.out.last().is_some_and(|t| {
            matches!(t.kind, Kind::Word | Kind::Keyword | Kind::Close) && !self.spaced
        });
        !after_word && is_word_start(self.peek(1))
    }

    fn after_name(&self) -> bool {
        self.out
            .last()
            .is_some_and(|t| matches!(t.kind, Kind::Word | Kind::Close) && !self.spaced)
    }

    /// Whether the bytes at `self.i`, though operator bytes, begin a token
    /// of their own and so end a run of operator bytes: a comment (`--`,
    /// `/*`, as they are everywhere else; PostgreSQL allows neither inside
    /// an operator) or a `%s` or `%(name)s` placeholder (which the driver
    /// fills in whatever comes before it). Read into the operator, `<%s`
    /// would be `<%` and `s`: `<''et` shapes to `<%set`, which read so would
    /// shape to `<%SET`.
    fn ends_operator(&self) -> bool {
        let (a, b) = (self.peek(0), self.peek(1));
        starts_comment(a, b) || (a == b'%' && matches!(b, b's' | b'('))
    }

    /// Whether a `-` or `+` here is a sign rather than an operator.
    fn expects_operand(&self) -> bool {
        match self.out.last() {
            None => true,
            Some(t) => matches!(
                t.kind,
                Kind::Open | Kind::Comma | Kind::Keyword | Kind::Other
            ),
        }
    }
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay.get(from..)?, needle).map(|j| from + j)
}

/// The whitespace between tokens.
const fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Where the line that `from` is on ends (at its `\n`, or the end).
fn line_end(s: &[u8], from: usize) -> usize {
    memchr::memchr(b'\n', &s[from..]).map_or(s.len(), |j| from + j)
}

/// Whether the bytes `a`, `b` begin a `--` or `/*` comment.
fn starts_comment(a: u8, b: u8) -> bool {
    matches!((a, b), (b'-', b'-') | (b'/', b'*'))
}

fn is_word_start(b: u8) -> bool {
    CLASS[b as usize] & WORD_START != 0
}

fn is_word_byte(b: u8) -> bool {
    CLASS[b as usize] & WORD != 0
}

/// A byte that may start a word: a letter, `_`, or a byte of a non-ASCII
/// character.
const WORD_START: u8 = 1;
/// A byte of a word: those, digits and `$`.
const WORD: u8 = 2;
/// A byte that may start whitespace or a comment: whitespace, `-`, `#`, `/`.
const TRIVIA: u8 = 4;
/// A byte an operator may continue with.
const OPERATOR: u8 = 8;

/// Each byte's classes, looked up once per byte: testing the ranges took
/// most of the time spent skipping words and numbers.
const CLASS: [u8; 256] = {
    let mut out = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            out[b] |= WORD_START | WORD;
        }
        if c.is_ascii_digit() || c == b'$' {
            out[b] |= WORD;
        }
        if is_space(c) || matches!(c, b'-' | b'#' | b'/') {
            out[b] |= TRIVIA;
        }
        if matches!(
            c,
            b'<' | b'>'
                | b'='
                | b'!'
                | b'|'
                | b'&'
                | b'^'
                | b'~'
                | b'*'
                | b'/'
                | b'%'
                | b'+'
                | b'-'
        ) {
            out[b] |= OPERATOR;
        }
        b += 1;
    }
    out
};

/// The SQL keywords a shape upper-cases, in byte order.
const KEYWORDS: &[&str] = &[
    "ADD",
    "ALL",
    "ALTER",
    "AND",
    "ANY",
    "ARRAY",
    "AS",
    "ASC",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "CLOSE",
    "COMMIT",
    "CONFLICT",
    "CREATE",
    "CROSS",
    "CURSOR",
    "DECLARE",
    "DEFAULT",
    "DELETE",
    "DESC",
    "DISTINCT",
    "DO",
    "DROP",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXISTS",
    "FETCH",
    "FIRST",
    "FOR",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "ILIKE",
    "IN",
    "INNER",
    "INSERT",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "IS",
    "JOIN",
    "KEY",
    "LAST",
    "LATERAL",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LOCKED",
    "MERGE",
    "NEXT",
    "NO",
    "NOT",
    "NOTHING",
    "NOWAIT",
    "NULL",
    "NULLS",
    "OFFSET",
    "ON",
    "ONLY",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "PARTITION",
    "PRIMARY",
    "RECURSIVE",
    "REFERENCES",
    "RELEASE",
    "RETURNING",
    "RIGHT",
    "ROLLBACK",
    "ROW",
    "ROWS",
    "SAVEPOINT",
    "SCROLL",
    "SELECT",
    "SET",
    "SHARE",
    "SKIP",
    "SOME",
    "TABLE",
    "THEN",
    "TO",
    "TOP",
    "TRUNCATE",
    "UNION",
    "UPDATE",
    "USING",
    "VALUES",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
];

/// Keywords whose case is folded. Function names are not among them: their
/// case is kept, as Relay keeps it.
fn is_keyword(word: &[u8]) -> bool {
    // Each keyword packed into one integer, so that the search compares
    // integers: comparing byte strings (a `memcmp` call each) was half of
    // the time spent shaping a statement.
    const PACKED: [u128; KEYWORDS.len()] = {
        let mut out = [0; KEYWORDS.len()];
        let mut i = 0;
        while i < KEYWORDS.len() {
            out[i] = pack(KEYWORDS[i].as_bytes());
            i += 1;
        }
        out
    };
    if word.len() > MAX_KEYWORD || word.is_empty() {
        return false;
    }
    let mut upper = [0u8; MAX_KEYWORD];
    for (u, b) in upper.iter_mut().zip(word) {
        *u = b.to_ascii_uppercase();
    }
    PACKED.binary_search(&pack(&upper[..word.len()])).is_ok()
}

/// The longest keyword [`is_keyword`] knows (`REFERENCES`).
const MAX_KEYWORD: usize = 10;

/// Up to 16 bytes as one integer, first byte highest, zero-padded: integers
/// compare as the byte strings do, since no keyword byte is zero (`AS` <
/// `ASC` < `AT`).
const fn pack(word: &[u8]) -> u128 {
    let mut value = 0u128;
    let mut i = 0;
    while i < word.len() {
        value = (value << 8) | word[i] as u128;
        i += 1;
    }
    // The zero padding at once (shifting by 128 bits would overflow).
    if word.is_empty() {
        0
    } else {
        value << (8 * (16 - word.len()))
    }
}

/// Joins the tokens with canonical spacing, collapsing placeholder lists.
fn render(statement: &str, tokens: &[Token]) -> String {
    // Collapse first, on kinds alone: a list of placeholders between
    // brackets becomes one placeholder, then repeated `(%s), (%s)` groups
    // become one group.
    let mut kept: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut opens: Vec<usize> = Vec::new();
    for &t in tokens {
        match t.kind {
            Kind::Open => {
                opens.push(kept.len());
                kept.push(t);
            }
            Kind::Close => {
                if let Some(open) = opens.pop() {
                    let inner = &kept[open + 1..];
                    let list = !inner.is_empty()
                        && inner.iter().any(|t| t.kind == Kind::Placeholder)
                        && inner.iter().all(|t| {
                            matches!(
                                t.kind,
                                Kind::Placeholder | Kind::Comma | Kind::Open | Kind::Close
                            )
                        });
                    if list {
                        let first = kept[open + 1];
                        kept.truncate(open + 1);
                        kept.push(Token {
                            kind: Kind::Placeholder,
                            ..first
                        });
                    }
                }
                kept.push(t);
                let n = kept.len();
                let repeated = n >= 7
                    && [Kind::Open, Kind::Placeholder, Kind::Close, Kind::Comma]
                        .iter()
                        .zip(&kept[n - 7..n - 3])
                        .all(|(k, t)| t.kind == *k)
                    && [Kind::Open, Kind::Placeholder, Kind::Close]
                        .iter()
                        .zip(&kept[n - 3..])
                        .all(|(k, t)| t.kind == *k)
                    && (n == 7 || kept[n - 8].kind != Kind::Word);
                if repeated {
                    kept.truncate(n - 4);
                }
            }
            _ => kept.push(t),
        }
    }

    let mut out = String::with_capacity(statement.len());
    let mut prev: Option<Kind> = None;
    // The previous token is a `[` that a name right after would make a
    // SQL Server identifier.
    let mut bare_bracket = false;
    for t in &kept {
        let space = match (prev, t.kind) {
            (None, _) => false,
            // `: ::a` is not `:::a`, which reads as `::` and `:a`.
            (Some(Kind::Other), Kind::Cast) => t.spaced,
            // `[ a]` is not `[a]`, which reads as one identifier.
            (Some(Kind::Open), Kind::Word | Kind::Keyword) if bare_bracket => t.spaced,
            (_, Kind::Comma | Kind::Close | Kind::Dot | Kind::Cast) => false,
            (Some(Kind::Open | Kind::Dot | Kind::Cast), _) => false,
            (Some(Kind::Comma), _) => true,
            _ => t.spaced,
        };
        if space {
            out.push(' ');
        }
        let after_word = matches!(prev, Some(Kind::Word | Kind::Keyword | Kind::Close)) && !space;
        bare_bracket = t.kind == Kind::Open && statement.as_bytes()[t.start] == b'[' && !after_word;
        match t.kind {
            Kind::Placeholder => out.push_str("%s"),
            Kind::Keyword => {
                // Keywords are ASCII (they matched the list).
                let at = out.len();
                out.push_str(&statement[t.start..t.end]);
                out[at..].make_ascii_uppercase();
            }
            _ => out.push_str(&statement[t.start..t.end]),
        }
        prev = Some(t.kind);
    }
    out
}

#[cfg(test)]
mod tests;
