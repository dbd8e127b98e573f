//! Key/value command shapes: the command (and the subcommand of container
//! commands such as `CLIENT SETNAME`), with every key and argument replaced
//! by one `*`, so `GET user:1` and `GET user:2` are the same call. Sentry
//! groups Redis spans by command the same way.

/// Commands whose second word is part of the command.
const CONTAINERS: [&str; 14] = [
    "ACL", "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "DEBUG", "FUNCTION", "MEMORY", "MODULE",
    "OBJECT", "PUBSUB", "SCRIPT", "XGROUP", "XINFO",
];

/// The shape of a key/value command line.
pub fn command_shape(command: &str) -> String {
    let Some(words) = Words::of(command) else {
        return String::new();
    };
    let mut out = words.first.to_ascii_uppercase();
    if let Some(sub) = words.sub {
        out.push(' ');
        out.push_str(&sub.to_ascii_uppercase());
    }
    if words.more {
        out.push_str(" *");
    }
    out
}

/// What a command's shape depends on, for a cache to key it by: the text
/// up to the end of the words the shape keeps, then one `0xFF` byte (never
/// in UTF-8 text, as in a digit template) if any word follows. `GET session:9e7e…` and `GET
/// session:3884…` have one key, `GET\xFF`.
pub fn command_key(command: &str, out: &mut Vec<u8>) {
    out.clear();
    if let Some(words) = Words::of(command) {
        let kept = words.sub.unwrap_or(words.first);
        // `kept` borrows from `command`: where it ends is an offset into it.
        let end = kept.as_ptr() as usize + kept.len() - command.as_ptr() as usize;
        out.extend_from_slice(&command.as_bytes()[..end]);
        if words.more {
            out.push(super::digits::RUN);
        }
    }
}

/// The words of a command that its shape keeps, and whether others follow.
struct Words<'a> {
    first: &'a str,
    /// A container command's subcommand.
    sub: Option<&'a str>,
    more: bool,
}

impl<'a> Words<'a> {
    fn of(command: &'a str) -> Option<Self> {
        let mut words = command.split_ascii_whitespace();
        let first = words.next()?;
        let sub = if CONTAINERS.iter().any(|c| c.eq_ignore_ascii_case(first)) {
            words.next()
        } else {
            None
        };
        Some(Words {
            first,
            sub,
            more: words.next().is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn keys_and_arguments_become_one_placeholder() {
        let cases = [
            ("GET user:123", "GET *"),
            ("get user:124", "GET *"),
            ("MGET a b c", "MGET *"),
            ("SET session:9 {\"x\":1} EX 60", "SET *"),
            ("CLIENT SETNAME worker-1", "CLIENT SETNAME *"),
            ("client list", "CLIENT LIST"),
            ("PING", "PING"),
            ("  ", ""),
            ("", ""),
        ];
        for (cmd, want) in cases {
            assert_eq!(command_shape(cmd), want, "{cmd}");
        }
    }

    #[test]
    fn a_key_is_the_kept_words_and_whether_more_follow() {
        let key = |cmd: &str| {
            let mut out = Vec::new();
            command_key(cmd, &mut out);
            out
        };
        assert_eq!(key("GET session:9e7e"), b"GET\xFF");
        assert_eq!(key("GET session:3884"), b"GET\xFF");
        assert_eq!(key(" client setname w-1"), b" client setname\xFF");
        assert_eq!(key("CLIENT"), b"CLIENT");
        assert_eq!(key("PING"), b"PING");
        assert_eq!(key("  "), b"");
    }

    proptest! {
        /// What a shape cache keyed by command keys relies on.
        #[test]
        fn commands_with_one_key_have_one_shape(
            head in "(client|CLIENT|GET|x| |\t|1|é){0,6}",
            tails in prop::array::uniform2("(client|GET|x| |\t|1){0,4}"),
        ) {
            // One head, so that keys are often equal.
            let [a, b] = tails.map(|tail| format!("{head}{tail}"));
            let (mut ka, mut kb) = (Vec::new(), Vec::new());
            command_key(&a, &mut ka);
            command_key(&b, &mut kb);
            if ka == kb {
                prop_assert_eq!(command_shape(&a), command_shape(&b));
            }
        }
    }
}
