//! The command palette (`:`): every action of the key map by the name key
//! map files use, plus `sort FIELD`, `search QUERY`, `stale_days DAYS`,
//! `audit FILTER`, `backup FILE` and `trash`. Tab
//! completes a command name (or a sort field) and the candidates are shown
//! while typing. Parsing and completion are pure; the app runs the result.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::audit::parse_filter;
use super::prompt::parse_stale_days;
use super::sort::{Sort, SortField};
use crate::store::AuditFilter;

/// A command the palette understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Do what the key bound to this action does.
    Run(Action),
    /// Sort by a field, or stop sorting (`None`).
    Sort(Option<Sort>),
    /// Search for a query.
    Search(String),
    /// The Quality pane with this staleness threshold (days).
    StaleDays(u32),
    /// The audit log through this filter.
    Audit(AuditFilter),
    /// Write a backup of the database to this file.
    Backup(std::path::PathBuf),
}

/// One entry of the command list: name, argument hint, description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    pub name: &'static str,
    pub args: &'static str,
    pub describe: &'static str,
}

/// Every command, alphabetically: the actions by name, and `trash` (the
/// trash view, as `rolo trash list` is on the command line).
pub fn commands() -> Vec<CommandInfo> {
    let mut out: Vec<CommandInfo> = Action::ALL
        .iter()
        .map(|a| CommandInfo {
            name: a.name(),
            args: match a {
                Action::Sort => "[FIELD [asc|desc] | off]",
                Action::Search => "[QUERY]",
                Action::StaleDays => "[DAYS]",
                Action::Audit => "[user:U op:OP since:DATE until:DATE]",
                _ => "",
            },
            describe: a.describe(),
        })
        .collect();
    out.push(CommandInfo {
        name: "backup",
        args: "FILE",
        describe: "write a checksummed backup of the database to FILE",
    });
    out.push(CommandInfo {
        name: "trash",
        args: "",
        describe: "list the trash (same as show_trash)",
    });
    out.sort_by_key(|c| c.name);
    out
}

/// Parses a command line (without the `:`). The error names the problem
/// and what would work.
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim();
    let (name, args) = match line.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (line, ""),
    };
    if name.is_empty() {
        return Err("type a command; tab lists them".to_owned());
    }
    match name {
        "sort" if !args.is_empty() => return Sort::parse_args(args).map(Command::Sort),
        "search" if !args.is_empty() => return Ok(Command::Search(args.to_owned())),
        "trash" if args.is_empty() => return Ok(Command::Run(Action::ShowTrash)),
        "stale_days" if !args.is_empty() => return parse_stale_days(args).map(Command::StaleDays),
        "audit" if !args.is_empty() => return parse_filter(args).map(Command::Audit),
        "backup" if args.is_empty() => return Err("backup needs a file: backup FILE".to_owned()),
        "backup" => return Ok(Command::Backup(args.into())),
        _ => {}
    }
    let Some(action) = Action::ALL.iter().copied().find(|a| a.name() == name) else {
        let near: Vec<&str> = candidates(name).into_iter().take(4).collect();
        return Err(if near.is_empty() {
            format!("unknown command '{name}'; ctrl-u clears the line to list every command")
        } else {
            format!(
                "unknown command '{name}'; did you mean {}?",
                near.join(", ")
            )
        });
    };
    if !args.is_empty() {
        return Err(format!("'{name}' takes no argument (got '{args}')"));
    }
    Ok(Command::Run(action))
}

/// The command names (or, after `sort `, the field names) that the word
/// being typed could become.
pub fn candidates(line: &str) -> Vec<&'static str> {
    if let Some(rest) = line.strip_prefix("sort ") {
        let word = rest.trim_start();
        if word.contains(' ') {
            return Vec::new();
        }
        return SortField::ALL
            .iter()
            .map(|f| f.as_str())
            .chain(["off"])
            .filter(|f| f.starts_with(word))
            .collect();
    }
    if line.contains(' ') {
        return Vec::new();
    }
    commands()
        .into_iter()
        .map(|c| c.name)
        .filter(|n| n.starts_with(line))
        .collect()
}

/// Tab: the line completed as far as the candidates agree; a single
/// candidate completes fully (with a space when it takes an argument).
pub fn complete(line: &str) -> String {
    let found = candidates(line);
    let (head, word) = match line.strip_prefix("sort ") {
        Some(rest) => ("sort ", rest.trim_start()),
        None => ("", line),
    };
    let completed = match found.as_slice() {
        [] => return line.to_owned(),
        [one] => {
            let takes_args = head.is_empty()
                && matches!(*one, "sort" | "search" | "stale_days" | "audit" | "backup");
            format!("{one}{}", if takes_args { " " } else { "" })
        }
        many => {
            let mut prefix = many[0].to_owned();
            for c in &many[1..] {
                while !c.starts_with(&prefix) {
                    prefix.pop();
                }
            }
            if prefix.len() < word.len() {
                word.to_owned()
            } else {
                prefix
            }
        }
    };
    format!("{head}{completed}")
}

/// The palette's state while open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Palette {
    pub input: String,
    /// Why the last Enter was refused.
    pub error: Option<String>,
}

/// What a key did to the palette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaletteOutcome {
    Continue,
    Cancel,
    Run(Command),
}

impl Palette {
    /// Handles a key: type, backspace, ctrl-u, tab completes, enter runs
    /// (or keeps the palette open with the reason), esc closes.
    pub fn on_key(&mut self, key: KeyEvent) -> PaletteOutcome {
        match key.code {
            KeyCode::Esc => return PaletteOutcome::Cancel,
            KeyCode::Enter => match parse(&self.input) {
                Ok(c) => return PaletteOutcome::Run(c),
                Err(e) => self.error = Some(e),
            },
            KeyCode::Tab => {
                self.input = complete(&self.input);
                self.error = None;
            }
            KeyCode::Backspace => {
                if self.input.pop().is_none() {
                    return PaletteOutcome::Cancel;
                }
                self.error = None;
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.clear();
                self.error = None;
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.push(c);
                self.error = None;
            }
            _ => {}
        }
        PaletteOutcome::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_a_command_by_its_key_map_name() {
        for a in Action::ALL {
            assert_eq!(parse(a.name()), Ok(Command::Run(a)), "{}", a.name());
        }
        assert_eq!(parse(" quit "), Ok(Command::Run(Action::Quit)));
        assert_eq!(parse("trash"), Ok(Command::Run(Action::ShowTrash)));
        assert_eq!(parse("trash_customer"), Ok(Command::Run(Action::Trash)));
        assert_eq!(
            parse("sort"),
            Ok(Command::Run(Action::Sort)),
            "no field cycles"
        );
        assert_eq!(
            parse("sort spend asc"),
            Ok(Command::Sort(Some(Sort {
                field: SortField::Spend,
                descending: false
            })))
        );
        assert_eq!(parse("sort off"), Ok(Command::Sort(None)));
        assert_eq!(
            parse("search city:上海 spend>10"),
            Ok(Command::Search("city:上海 spend>10".into()))
        );
        assert_eq!(parse("stale_days 180"), Ok(Command::StaleDays(180)));
        assert!(parse("stale_days soon").unwrap_err().contains("days"));
        assert_eq!(
            parse("audit user:alice op:tag"),
            Ok(Command::Audit(AuditFilter {
                user: Some("alice".into()),
                op: Some("tag".into()),
                ..AuditFilter::default()
            }))
        );
        assert_eq!(parse("audit"), Ok(Command::Run(Action::Audit)));
        assert_eq!(parse("erase"), Ok(Command::Run(Action::Erase)));
        assert_eq!(
            parse("backup /tmp/my db.rolobak"),
            Ok(Command::Backup("/tmp/my db.rolobak".into()))
        );
        assert!(parse("backup").unwrap_err().contains("FILE"));
    }

    #[test]
    fn unknown_commands_and_stray_arguments_say_what_is_wrong() {
        assert_eq!(
            parse("fly").unwrap_err(),
            "unknown command 'fly'; ctrl-u clears the line to list every command",
            "tab cannot list anything for a word no command starts with"
        );
        assert!(parse("sor").unwrap_err().contains("did you mean sort"));
        assert!(parse("quit now").unwrap_err().contains("takes no argument"));
        assert!(parse("sort colour").unwrap_err().contains("'colour'"));
        assert!(parse("").is_err());
    }

    #[test]
    fn tab_completes_names_and_sort_fields() {
        assert_eq!(complete("qu"), "quit");
        assert_eq!(complete("so"), "sort", "sort and sort_reverse share 'sort'");
        assert_eq!(complete("sort_"), "sort_reverse");
        assert_eq!(complete("sea"), "search ");
        assert_eq!(complete("pane_"), "pane_");
        assert_eq!(complete("pane_q"), "pane_quality");
        assert_eq!(complete("sort sp"), "sort spend");
        assert_eq!(complete("sort l"), "sort last_order");
        assert_eq!(complete("zzz"), "zzz");
        assert_eq!(candidates("tr"), ["trash", "trash_customer"]);
        assert_eq!(candidates("sort o"), ["orders", "off"]);
        assert_eq!(candidates("").len(), commands().len());
    }

    #[test]
    fn keys_type_complete_run_and_cancel() {
        let k = |c| KeyEvent::new(c, KeyModifiers::NONE);
        let mut p = Palette::default();
        for c in "sort sp".chars() {
            assert_eq!(p.on_key(k(KeyCode::Char(c))), PaletteOutcome::Continue);
        }
        p.on_key(k(KeyCode::Tab));
        assert_eq!(p.input, "sort spend");
        assert_eq!(
            p.on_key(k(KeyCode::Enter)),
            PaletteOutcome::Run(Command::Sort(Some(Sort::new(SortField::Spend))))
        );
        p.input = "nope".into();
        assert_eq!(p.on_key(k(KeyCode::Enter)), PaletteOutcome::Continue);
        assert!(p.error.as_deref().unwrap().contains("unknown command"));
        p.input.clear();
        assert_eq!(p.on_key(k(KeyCode::Backspace)), PaletteOutcome::Cancel);
        assert_eq!(p.on_key(k(KeyCode::Esc)), PaletteOutcome::Cancel);
    }
}
