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
//!   identifiers keep their text (MySQL's double-quoted strings are literals).
//!
//! Deliberate differences from Relay: critpath keeps column lists and table
//! qualifiers (`SELECT a.id, a.name`, where Relay writes `SELECT ..`): a shape
//! is shown to people as the query to look for, and the literals are what
//! varies between the repeats of one query.

/// The shape of a SQL statement; `mysql` makes double-quoted text a
/// string literal, as MySQL reads it.
pub fn shape(statement: &str, mysql: bool) -> String {
    let tokens = Scanner::new(statement, mysql).run();
    render(statement, &tokens)
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
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => {
                    self.i += 1;
                    self.spaced = true;
                }
                b'-' if self.peek(1) == b'-' => self.skip_line(),
                b'#' if matches!(self.peek(1), b' ' | b'\t' | b'\n' | b'\r' | 0) => {
                    self.skip_line()
                }
                b'/' if self.peek(1) == b'*' => {
                    self.i = find(self.s, self.i + 2, b"*/").map_or(self.s.len(), |j| j + 2);
                    self.spaced = true;
                }
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
                    // A trailing semicolon is not part of the shape.
                    if self.s[self.i..].iter().any(|b| !b.is_ascii_whitespace()) {
                        self.push(Kind::Other, start);
                    }
                }
                c if is_word_start(c) => self.word(start),
                _ => {
                    // Operators: a run of symbol bytes is one token.
                    self.i += 1;
                    self.skip_while(|b| b"<>=!|&^~*/%+-".contains(&b));
                    self.push(Kind::Other, start);
                }
            }
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

    /// A literal or placeholder, with any `::type[]` cast after it.
    fn literal(&mut self, start: usize) {
        while self.peek(0) == b':' && self.peek(1) == b':' && is_word_start(self.peek(2)) {
            self.i += 2;
            self.skip_while(is_word_byte);
            if self.peek(0) == b'[' && self.peek(1) == b']' {
                self.i += 2;
            }
        }
        self.push(Kind::Placeholder, start);
    }

    /// A quoted identifier, or the value of a savepoint name.
    fn name(&mut self, start: usize) {
        let kind = if self.savepoint {
            Kind::Placeholder
        } else {
            Kind::Word
        };
        self.push(kind, start);
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
        while self.i < self.s.len() && f(self.s[self.i]) {
            self.i += 1;
        }
    }

    fn skip_line(&mut self) {
        self.skip_while(|b| b != b'\n');
        self.spaced = true;
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
        let is_escape = matches!(&rest[..tag], b"d" | b"t" | b"ts")
            && rest.get(tag).is_some_and(u8::is_ascii_whitespace);
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

fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Keywords whose case is folded. Function names are not among them: their
/// case is kept, as Relay keeps it.
fn is_keyword(word: &[u8]) -> bool {
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
    word.len() <= 10
        && KEYWORDS
            .binary_search_by(|k| cmp_ignore_case(k.as_bytes(), word))
            .is_ok()
}

fn cmp_ignore_case(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let a = a.iter().map(u8::to_ascii_uppercase);
    let b = b.iter().map(u8::to_ascii_uppercase);
    a.cmp(b)
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
    for t in &kept {
        let space = match (prev, t.kind) {
            (None, _) => false,
            (_, Kind::Comma | Kind::Close | Kind::Dot | Kind::Cast) => false,
            (Some(Kind::Open | Kind::Dot | Kind::Cast), _) => false,
            (Some(Kind::Comma), _) => true,
            _ => t.spaced,
        };
        if space {
            out.push(' ');
        }
        match t.kind {
            Kind::Placeholder => out.push_str("%s"),
            Kind::Keyword => out.extend(
                statement[t.start..t.end]
                    .chars()
                    .map(|c| c.to_ascii_uppercase()),
            ),
            _ => out.push_str(&statement[t.start..t.end]),
        }
        prev = Some(t.kind);
    }
    out
}

#[cfg(test)]
mod tests;
