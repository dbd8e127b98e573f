//! Input → shape pairs. Those marked "Relay" are getsentry/relay's published
//! SQL scrubbing cases (`relay-event-normalization`, span description SQL
//! tests), with the expected shape rewritten where critpath deliberately
//! keeps column lists and qualifiers (noted per case).

use proptest::prelude::*;

use super::{shape, shape_scoped};

fn check(cases: &[(&str, &str)]) {
    for (input, want) in cases {
        assert_eq!(shape(input, false), *want, "input: {input}");
    }
}

#[test]
fn relay_in_lists_and_placeholders() {
    check(&[
        (
            "SELECT count() FROM table1 WHERE id1 IN (%s, %s) AND id2 IN (%s, %s, %s)",
            "SELECT count() FROM table1 WHERE id1 IN (%s) AND id2 IN (%s)",
        ),
        (
            "SELECT count() FROM table1 WHERE id IN ($1, $2, $3)",
            "SELECT count() FROM table1 WHERE id IN (%s)",
        ),
        (
            "SELECT count() FROM table1 WHERE id IN (?, ?, ?)",
            "SELECT count() FROM table1 WHERE id IN (%s)",
        ),
        (
            "SELECT count() FROM table1 WHERE id IN (100, 101, 102)",
            "SELECT count() FROM table1 WHERE id IN (%s)",
        ),
        (
            "select count() from table1 where id in (100, 101, 102)",
            "SELECT count() FROM table1 WHERE id IN (%s)",
        ),
        (
            "select count() from table_1 where name in ('foo', %s, 1)",
            "SELECT count() FROM table_1 WHERE name IN (%s)",
        ),
        (
            "SELECT x FROM y WHERE (z = :c0 AND w = :c1) LIMIT 1",
            "SELECT x FROM y WHERE (z = %s AND w = %s) LIMIT %s",
        ),
        (
            "SELECT some_func(col, %(my_param1)s)",
            "SELECT some_func(col, %s)",
        ),
        (
            "select column FROM table1 WHERE id IN (1, 2, 3)",
            "SELECT column FROM table1 WHERE id IN (%s)",
        ),
    ]);
}

#[test]
fn relay_literals() {
    check(&[
        (
            "SELECT * FROM table1 WHERE sku = 'foo'",
            "SELECT * FROM table1 WHERE sku = %s",
        ),
        (
            r"SELECT * FROM table1 WHERE quote = 'it\\'s a string'",
            "SELECT * FROM table1 WHERE quote = %s",
        ),
        // Unterminated: the string runs to the end.
        (
            r"SELECT * FROM table1 WHERE quote = 'it\\'s a string",
            "SELECT * FROM table1 WHERE quote = %s",
        ),
        (
            "SELECT * FROM table1 WHERE id = 1",
            "SELECT * FROM table1 WHERE id = %s",
        ),
        (
            "SELECT * FROM table1 LIMIT 1",
            "SELECT * FROM table1 LIMIT %s",
        ),
        (
            "SELECT * FROM table1 WHERE temperature > -100",
            "SELECT * FROM table1 WHERE temperature > %s",
        ),
        (
            "SELECT * FROM table1 WHERE salary > 1e7",
            "SELECT * FROM table1 WHERE salary > %s",
        ),
        (
            "SELECT * FROM table1 WHERE deleted = true",
            "SELECT * FROM table1 WHERE deleted = %s",
        ),
        (
            "SELECT * FROM table1 WHERE deleted = FaLsE",
            "SELECT * FROM table1 WHERE deleted = %s",
        ),
        (
            "SELECT * FROM table_true WHERE deleted = %s",
            "SELECT * FROM table_true WHERE deleted = %s",
        ),
        (
            "SELECT * FROM tatrueble WHERE deleted = %s",
            "SELECT * FROM tatrueble WHERE deleted = %s",
        ),
        (
            "SELECT * FROM table1 WHERE deleted_at IS NULL",
            "SELECT * FROM table1 WHERE deleted_at IS NULL",
        ),
        (
            "UPDATE foo SET a = %s, b = log(e + 5) * 600 + 12345 WHERE true",
            "UPDATE foo SET a = %s, b = log(e + %s) * %s + %s WHERE %s",
        ),
        // Relay also strips the quotes of `foo`; critpath keeps identifiers.
        (
            "UPDATE `foo` SET a = 1 WHERE true",
            "UPDATE `foo` SET a = %s WHERE %s",
        ),
        (
            "SELECT * from comments WHERE comment LIKE '-- NOTE%s'\n        AND foo > 0",
            "SELECT * FROM comments WHERE comment LIKE %s AND foo > %s",
        ),
    ]);
}

#[test]
fn relay_values_casts_and_odbc() {
    check(&[
        // Relay writes the column list as `(..)`; critpath keeps it.
        (
            "INSERT INTO a VALUES (123, N'foo', 'bar')",
            "INSERT INTO a VALUES (%s)",
        ),
        (
            "INSERT INTO a VALUES (123, {ts '2023-12-31 23:59:59.123'}, 'foo', N'bar')",
            "INSERT INTO a VALUES (%s)",
        ),
        (
            "INSERT INTO a (b, c, d, e) VALuES (%s, %s, %s, %s), (%s, %s, %s, %s), (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            "INSERT INTO a (b, c, d, e) VALUES (%s) ON CONFLICT DO NOTHING",
        ),
        (
            "INSERT INTO a (b, c, d) VALUES ('foo'::date, 123::bigint[], %s::bigint[])",
            "INSERT INTO a (b, c, d) VALUES (%s)",
        ),
        (
            r#"INSERT INTO "a" ("b") VALUES (1)"#,
            r#"INSERT INTO "a" ("b") VALUES (%s)"#,
        ),
    ]);
}

#[test]
fn relay_savepoints() {
    check(&[
        ("SAVEPOINT unquoted_identifier", "SAVEPOINT %s"),
        ("SAVEPOINT unquoted_identifier;", "SAVEPOINT %s"),
        ("savepoint unquoted_identifier", "SAVEPOINT %s"),
        ("SAVEPOINT 'single_quoted_identifier'", "SAVEPOINT %s"),
        ("SAVEPOINT `backtick_quoted_identifier`", "SAVEPOINT %s"),
        (r#"RELEASE SAVEPOINT "s1_x""#, "RELEASE SAVEPOINT %s"),
        ("ROLLBACK TO SAVEPOINT s2", "ROLLBACK TO SAVEPOINT %s"),
    ]);
}

#[test]
fn relay_comments_and_whitespace() {
    check(&[
        (
            "\n    select a,  b, c, d\n    from (\n        select *\n        -- Some comment here.\n        from (\n            -- Another comment.\n            select a, b, c, d from x where foo = 1\n        ) srpe\n        where x = %s --inline comment\n    ) srpe\n    inner join foo on foo.id = foo_id\n",
            "SELECT a, b, c, d FROM (SELECT * FROM (SELECT a, b, c, d FROM x WHERE foo = %s) srpe WHERE x = %s) srpe INNER JOIN foo ON foo.id = foo_id",
        ),
        (
            "\n    DELETE  # end-of-line\n    FROM /* inline comment */ `some_table`\n    /*\n        multi\n        line\n        comment\n    */\n    WHERE `some_table`.`id` IN (%s)\n",
            "DELETE FROM `some_table` WHERE `some_table`.`id` IN (%s)",
        ),
    ]);
}

#[test]
fn sentry_and_issue_cases() {
    check(&[
        // Sentry's django N+1 fixture, already parameterised by Django.
        (
            "SELECT `books_author`.`id`, `books_author`.`name` FROM `books_author` WHERE `books_author`.`id` = %s LIMIT 21",
            "SELECT `books_author`.`id`, `books_author`.`name` FROM `books_author` WHERE `books_author`.`id` = %s LIMIT %s",
        ),
        (
            "SELECT * FROM t WHERE id = ANY('{1,2,3}')",
            "SELECT * FROM t WHERE id = ANY(%s)",
        ),
        (
            "SELECT * FROM t WHERE id = ANY(ARRAY[1, 2, 3])",
            "SELECT * FROM t WHERE id = ANY(ARRAY[%s])",
        ),
        (
            "SELECT COUNT(DISTINCT user_id) FROM events WHERE ts > '2024-01-01' AND kind IN ('a','b')",
            "SELECT COUNT(DISTINCT user_id) FROM events WHERE ts > %s AND kind IN (%s)",
        ),
        (
            "INSERT INTO t (a, b) VALUES ((1, 2), (3, 4))",
            "INSERT INTO t (a, b) VALUES (%s)",
        ),
        ("select $body$ it's $1 $body$ as x", "SELECT %s AS x"),
        (
            "SELECT x FROM t WHERE a = @p0 AND b = 0x1F",
            "SELECT x FROM t WHERE a = %s AND b = %s",
        ),
        ("SELECT a::text FROM t", "SELECT a::text FROM t"),
        (
            "SELECT [order].[id] FROM [order]",
            "SELECT [order].[id] FROM [order]",
        ),
        ("SELECT a[1] FROM t", "SELECT a[%s] FROM t"),
        ("SELECT f(1), g(2)", "SELECT f(%s), g(%s)"),
        ("SELECT 1 - 2", "SELECT %s - %s"),
        ("select E'a\\nb', x'ff', b'01'", "SELECT %s, %s, %s"),
    ]);
}

#[test]
fn mysql_double_quotes_are_strings() {
    assert_eq!(
        shape(r#"SELECT * FROM t WHERE sku = "foo""#, true),
        "SELECT * FROM t WHERE sku = %s"
    );
    assert_eq!(
        shape(r#"SELECT * FROM t WHERE sku = "foo""#, false),
        r#"SELECT * FROM t WHERE sku = "foo""#
    );
}

#[test]
fn malformed_statements_do_not_panic() {
    for s in [
        "",
        " ",
        "'",
        "\"",
        "`",
        "/*",
        "--",
        "$",
        "$a",
        "$a$",
        "{ts '",
        "%(",
        "(((",
        ")))",
        "SELECT 'é",
        "SELECT ünïcödé FROM ☃ WHERE x = '€'",
        "1e",
        "1e+",
        "0x",
        ".5",
        "-",
        ":",
        "::",
        "[",
        "[a",
        "?",
        "#",
        "SAVEPOINT",
        "\u{0}",
        "é'",
        "a$é$",
    ] {
        let _ = shape(s, false);
        let _ = shape(s, true);
    }
}

/// Inputs whose shape, shaped again, came out different (found by
/// `shaping_is_idempotent`), with the shape each has now. Each shape is
/// checked to shape to itself.
#[test]
fn shapes_shape_to_themselves() {
    let cases = [
        // `<''et<` shaped to `<%set<`, which read `<%` as one operator and
        // then the keyword `set`: `<%SET<`. An operator ends where a `%s`
        // placeholder (or a comment) begins.
        ("<''et<", "<%set<"),
        ("WHERE a<%s AND b>=%(b)s", "WHERE a<%s AND b>=%s"),
        ("SELECT */*c*/ FROM t", "SELECT * FROM t"),
        ("x <--c\n1", "x < %s"),
        // A cast after a literal is part of it across whitespace or
        // comments, as the shape writes `::` with none.
        ("e''::\na", "%s"),
        ("x = 1 /* c */ :: int", "x = %s"),
        ("SAVEPOINT `x` ::int", "SAVEPOINT %s"),
        // A `:` before a spaced `::` keeps its space (`:::` reads `::`, `:`).
        (":\n::a", ": ::a"),
        // `#` followed by a comment (or `#`s and whitespace) is a comment;
        // any other `#` is an operator, at the end too.
        ("#--", ""),
        ("## \n'", "%s"),
        ("#;", "#"),
        ("a #> b", "a #> b"),
        // The ODBC tag may be followed by any whitespace or a comment.
        ("{d--\n'", "%s"),
        ("{d\x0b'x'}", "%s"),
        // `[` then a spaced name keeps its space: `[a` is an identifier.
        ("0[ /*[]/**/a", "%s[ a"),
        ("SAVEPOINT [ a]", "SAVEPOINT [ a]"),
        ("a[ i ]", "a[i]"),
        // Trailing semicolons go whatever comes after them.
        ("SELECT 1; -- done", "SELECT %s"),
        ("a;;\x0b", "a"),
    ];
    for (input, want) in cases {
        assert_eq!(shape(input, false), want, "input: {input:?}");
        assert_eq!(shape(want, false), want, "shape: {want:?}");
    }
}

#[test]
fn a_shape_holds_for_its_digit_template_unless_a_kept_name_has_digits() {
    for (input, scoped) in [
        ("SELECT * FROM t WHERE id = 17 -- 1 of 2", true),
        ("SELECT 'a 1', $$x 2$$, 1e-5, .5 FROM t1", true),
        ("UPDATE t SET a = -3, b = 4::int8", true),
        // The name's digits are in the shape: another's would change it.
        ("SELECT \"col 1\" FROM t", false),
        ("SELECT [col 1] FROM t", false),
    ] {
        assert_eq!(shape_scoped(input, false).1, scoped, "input: {input}");
    }
    // MySQL reads double quotes as a string.
    assert!(shape_scoped("SELECT \"col 1\" FROM t", true).1);
}

proptest! {
    #[test]
    fn never_panics(s in "\\PC*") {
        let _ = shape(&s, false);
        let _ = shape(&s, true);
    }

    #[test]
    fn never_panics_on_sql_like_text(s in "[ a-zA-Z0-9_'\"`$:?%(),.;*=<>{}\\[\\]\\-+/#\n]{0,80}") {
        let _ = shape(&s, false);
    }

    #[test]
    fn shaping_is_idempotent(s in sql_like(), mysql in any::<bool>()) {
        let once = shape(&s, mysql);
        prop_assert_eq!(shape(&once, mysql), once.clone());
    }

    /// What a shape cache keyed by digit templates relies on: a shape said
    /// to hold for its template holds for every statement with it.
    #[test]
    fn a_scoped_shape_holds_for_its_digit_template(
        (head, number, tail) in (sql_like(), "[0-9]{1,4}", sql_like()),
        mysql in any::<bool>(),
        digits in prop::collection::vec("[0-9]{1,6}", 16),
    ) {
        let s = format!("{head}{number}{tail}");
        let (want, scoped) = shape_scoped(&s, mysql);
        let mut template = Vec::new();
        if !(scoped && crate::normalize::digits::template(&s, &mut template)) {
            // Nothing to vary: no run stands alone, or one is in a kept name.
            return Ok(());
        }
        let mut other = String::new();
        let mut copied = 0;
        for (run, digits) in crate::normalize::digits::runs(s.as_bytes()).zip(digits.iter().cycle()) {
            other.push_str(&s[copied..run.start]);
            other.push_str(digits);
            copied = run.end;
        }
        other.push_str(&s[copied..]);
        let mut again = Vec::new();
        crate::normalize::digits::template(&other, &mut again);
        prop_assert_eq!(&again, &template, "{:?}", other);
        prop_assert_eq!(shape(&other, mysql), want, "{:?} from {:?}", other, s);
    }

    #[test]
    fn literal_values_do_not_change_the_shape(
        a in 0u64..1_000_000,
        b in "[a-z ]{0,12}",
        ids in prop::collection::vec(0u32..10_000, 1..20),
    ) {
        let ids: Vec<String> = ids.iter().map(u32::to_string).collect();
        let q = format!(
            "SELECT * FROM t WHERE a = {a} AND b = '{b}' AND c IN ({})",
            ids.join(", ")
        );
        prop_assert_eq!(shape(&q, false), "SELECT * FROM t WHERE a = %s AND b = %s AND c IN (%s)");
    }
}

/// Statement-like text: SQL's bytes and, as often, whole fragments that
/// begin a token (quotes, placeholders, comments, casts, keywords), so that
/// tokens meet each other in every way and not only by luck.
fn sql_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[ \t\r\n\x0b\x0ca-zA-Z0-9_'\"`(),.=*<>%?:$@+/#;{}\\\\\\[\\]-]",
        prop::sample::select(vec![
            "''",
            "e'",
            "N'",
            "\\'",
            "$$",
            "$a$",
            "%s",
            "%(a)s",
            "$1",
            "?",
            ":a",
            "@a",
            "--",
            "/*",
            "*/",
            "/**/",
            "# ",
            "##",
            "#>",
            ";",
            "::",
            "::int",
            "[]",
            "[ ",
            "ARRAY[",
            "ANY(",
            "(%s, %s)",
            "VALUES (",
            "), (",
            "{d ",
            "{ts '",
            "}",
            "0x",
            "1e",
            ".5",
            "-1",
            "true",
            "select",
            "SET",
            "set",
            "in",
            "IN",
            "savepoint",
            "SAVEPOINT [",
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

#[test]
fn every_keyword_is_found_in_any_case_and_near_misses_are_not() {
    use super::{KEYWORDS, MAX_KEYWORD, is_keyword};
    assert!(
        KEYWORDS.windows(2).all(|w| w[0] < w[1]),
        "sorted, no repeats"
    );
    for k in KEYWORDS {
        assert!(k.len() <= MAX_KEYWORD, "{k}");
        assert!(is_keyword(k.as_bytes()), "{k}");
        assert!(is_keyword(k.to_ascii_lowercase().as_bytes()), "{k}");
        // A prefix or an extension of a keyword is a keyword only when it
        // is one itself.
        let longer = format!("{k}X");
        assert_eq!(
            is_keyword(longer.as_bytes()),
            KEYWORDS.contains(&longer.as_str())
        );
        let shorter = &k[..k.len() - 1];
        assert_eq!(is_keyword(shorter.as_bytes()), KEYWORDS.contains(&shorter));
    }
    for word in [
        "",
        "id",
        "selects",
        "REFERENCESX",
        "a_very_long_identifier",
        "\u{e9}t\u{e9}",
    ] {
        assert!(!is_keyword(word.as_bytes()), "{word}");
    }
}
