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
    let mut words = command.split_ascii_whitespace();
    let Some(first) = words.next() else {
        return String::new();
    };
    let mut out = first.to_ascii_uppercase();
    if CONTAINERS.contains(&out.as_str())
        && let Some(sub) = words.next()
    {
        out.push(' ');
        out.push_str(&sub.to_ascii_uppercase());
    }
    if words.next().is_some() {
        out.push_str(" *");
    }
    out
}

#[cfg(test)]
mod tests {
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
}
