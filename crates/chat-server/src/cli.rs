//! The binary's command line: no arguments serves; `import-sequelize` imports the Node
//! service's data. A handful of flags, parsed by hand (a parser crate would not pay for them).

use crate::import::ImportArgs;

/// What the binary was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Serve until a shutdown signal (no arguments).
    Serve,
    /// `import-sequelize --from <URL> [--dry-run] [--batch-size N] [--users-table NAME]`.
    Import(ImportArgs),
    /// `--help`: print [`USAGE`].
    Help,
}

/// What `--help` and a bad command line print.
pub const USAGE: &str = "\
Usage:
  chat-server                    serve (configured by the environment and .env)
  chat-server import-sequelize --from <DATABASE_URL> [--dry-run] [--batch-size N] [--users-table NAME]
                                 import the Node service's users, conversations and messages
                                 into this server's database (DATABASE_URL etc., as when serving)

Options of import-sequelize:
  --from <URL>          the Node service's database (postgres://...); read only, never written
  --dry-run             do everything in a transaction that is rolled back; print what would change
  --batch-size <N>      rows per transaction (default 1000)
  --users-table <NAME>  the host's users table whose `username` names users (default: users, or Users)";

impl Command {
    /// Parses the arguments after the program name; the error says what is wrong.
    pub fn parse(args: &[String]) -> Result<Command, String> {
        let Some((first, rest)) = args.split_first() else {
            return Ok(Command::Serve);
        };
        match first.as_str() {
            "-h" | "--help" | "help" => Ok(Command::Help),
            "import-sequelize" => parse_import(rest).map(Command::Import),
            other => Err(format!("unknown command {other:?}")),
        }
    }
}

fn parse_import(args: &[String]) -> Result<ImportArgs, String> {
    let mut parsed = ImportArgs {
        from: String::new(),
        dry_run: false,
        batch_size: 1000,
        users_table: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag {
            "--from" => parsed.from = value()?,
            "--dry-run" if inline.is_none() => parsed.dry_run = true,
            "--batch-size" => {
                let raw = value()?;
                parsed.batch_size = raw
                    .parse()
                    .ok()
                    .filter(|n| (1..=100_000).contains(n))
                    .ok_or_else(|| {
                        format!("--batch-size expects a number from 1 to 100000, got {raw:?}")
                    })?;
            }
            "--users-table" => parsed.users_table = Some(value()?),
            // Only a flag's name is echoed: anything else may be a URL with its password.
            other if other.starts_with("--") && !other.contains("://") => {
                return Err(format!("unknown option {other:?}"));
            }
            _ => return Err("unexpected argument (options start with --)".to_owned()),
        }
    }
    if !(parsed.from.starts_with("postgres://") || parsed.from.starts_with("postgresql://")) {
        return Err("--from expects the Node service's postgres:// URL".to_owned());
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        Command::parse(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn no_arguments_serve_and_import_takes_its_flags() {
        assert_eq!(parse(&[]), Ok(Command::Serve));
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
        assert_eq!(
            parse(&[
                "import-sequelize",
                "--from=postgres://u:p@h/db",
                "--dry-run",
                "--batch-size",
                "50",
                "--users-table",
                "accounts"
            ]),
            Ok(Command::Import(ImportArgs {
                from: "postgres://u:p@h/db".to_owned(),
                dry_run: true,
                batch_size: 50,
                users_table: Some("accounts".to_owned()),
            }))
        );
    }

    #[test]
    fn a_bad_command_line_is_refused_without_echoing_the_url() {
        assert!(parse(&["serve"]).is_err());
        assert!(parse(&["import-sequelize"]).is_err(), "--from is required");
        assert!(parse(&["import-sequelize", "--from"]).is_err());
        assert!(parse(&["import-sequelize", "--from", "mysql://h/db"]).is_err());
        assert!(
            parse(&[
                "import-sequelize",
                "--from",
                "postgres://h/d",
                "--batch-size",
                "0"
            ])
            .is_err()
        );
        let refused = parse(&["import-sequelize", "--form=postgres://u:secret@h/db"]);
        assert!(refused.is_err_and(|e| !e.contains("secret")));
        let stray = parse(&["import-sequelize", "postgres://u:secret@h/db"]);
        assert!(stray.is_err_and(|e| !e.contains("secret")));
    }
}
