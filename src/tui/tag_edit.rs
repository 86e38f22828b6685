//! What the workbench changes about tags, and the questions it asks first.
//!
//! Every tag change (`t`/`T` in the Customers pane, the Tags pane's create,
//! rename, merge, delete, description, colour and rule) is one [`TagWrite`]:
//! one store call, so one atomic step that one `u` undoes. A write touching
//! more customers than the app's threshold runs on the worker while the
//! status bar shows a spinner and the time so far (the store cannot report
//! a fraction without a second pass, so the line says what runs and for
//! how long); smaller ones run at once. While one runs, other changes wait
//! ([`changes_data`]), so the next `u` takes back exactly that write.
//! Pure state and library calls: no terminal here.

use crate::model::CustomerId;
use crate::search::rules::RulePreview;
use crate::store::{Store, StoreError, TagOutcome};
use crate::tui::action::Action;
use crate::tui::text::thousands;

/// One tag change, as the store runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagWrite {
    Add {
        tag: String,
        ids: Vec<CustomerId>,
    },
    Remove {
        tag: String,
        ids: Vec<CustomerId>,
    },
    /// A new, empty manual tag.
    Create {
        tag: String,
    },
    Rename {
        from: String,
        to: String,
    },
    Merge {
        from: String,
        into: String,
    },
    Delete {
        tag: String,
    },
    /// A new description (empty clears it).
    Describe {
        tag: String,
        text: String,
    },
    /// A new colour (empty clears it).
    Colour {
        tag: String,
        colour: String,
    },
    /// Saves a previewed rule and applies its membership.
    SetRule(Box<RulePreview>),
    /// Drops a tag's rule: it becomes manual with its current members.
    DropRule {
        tag: String,
    },
}

/// `n` customers, in good English.
pub fn customers(n: u64) -> String {
    match n {
        1 => "1 customer".to_owned(),
        n => format!("{} customers", thousands(n)),
    }
}

impl TagWrite {
    /// Runs the change: one store call, one unit, one audit event.
    pub fn run(&self, store: &Store) -> crate::store::Result<TagOutcome> {
        match self {
            TagWrite::Add { tag, ids } => store.add_tag(tag, ids),
            TagWrite::Remove { tag, ids } => store.remove_tag(tag, ids),
            TagWrite::Create { tag } => store.create_tag(tag),
            TagWrite::Rename { from, to } => store.rename_tag(from, to),
            TagWrite::Merge { from, into } => store.merge_tags(from, into),
            TagWrite::Delete { tag } => store.delete_tag(tag),
            TagWrite::Describe { tag, text } => store.set_tag_look(tag, None, Some(text)),
            TagWrite::Colour { tag, colour } => store.set_tag_look(tag, Some(colour), None),
            TagWrite::SetRule(p) => crate::search::rules::set_rule(store, p),
            TagWrite::DropRule { tag } => store.delete_tag_rule(tag),
        }
    }

    /// The tag the screen should point at afterwards, if it still exists.
    pub fn result_tag(&self) -> Option<&str> {
        match self {
            TagWrite::Add { tag, .. }
            | TagWrite::Create { tag }
            | TagWrite::Describe { tag, .. }
            | TagWrite::Colour { tag, .. }
            | TagWrite::DropRule { tag } => Some(tag),
            TagWrite::Rename { to, .. } => Some(to),
            TagWrite::Merge { into, .. } => Some(into),
            TagWrite::SetRule(p) => Some(&p.tag),
            TagWrite::Remove { .. } | TagWrite::Delete { .. } => None,
        }
    }

    /// What runs, for the status bar while it runs (`size` customers).
    pub fn running(&self, size: u64) -> String {
        let n = thousands(size);
        match self {
            TagWrite::Add { tag, .. } => format!("tagging {n} customers {tag}…"),
            TagWrite::Remove { tag, .. } => format!("untagging {n} customers {tag}…"),
            TagWrite::Rename { from, to } => format!("renaming {from} to {to} on {n} customers…"),
            TagWrite::Merge { from, into } => {
                format!("merging {from} into {into} ({n} customers)…")
            }
            TagWrite::Delete { tag } => format!("deleting tag {tag} from {n} customers…"),
            TagWrite::SetRule(p) => format!("applying the rule of {} ({n} changes)…", p.tag),
            TagWrite::Create { tag }
            | TagWrite::Describe { tag, .. }
            | TagWrite::Colour { tag, .. }
            | TagWrite::DropRule { tag } => format!("changing tag {tag}…"),
        }
    }

    /// What it did, for the status bar (`size` customers were asked for).
    pub fn done(&self, out: &TagOutcome, size: u64) -> String {
        let (g, l) = (out.gained, out.lost);
        let nothing = out.seq.is_none();
        match self {
            TagWrite::Add { tag, .. } if g == 0 => format!("{} already had {tag}", customers(size)),
            TagWrite::Add { tag, .. } => format!("tagged {} {tag}; u undoes", customers(g)),
            TagWrite::Remove { tag, .. } if l == 0 => {
                format!("none of the {} had {tag}", customers(size))
            }
            TagWrite::Remove { tag, .. } => format!("untagged {} {tag}; u undoes", customers(l)),
            TagWrite::Create { tag } => format!("created tag {tag}, on nobody yet; u undoes"),
            TagWrite::Rename { from, to } if nothing => format!("{from} is already called {to}"),
            TagWrite::Rename { from, to } => {
                format!("renamed {from} to {to} on {}; u undoes", customers(g))
            }
            TagWrite::Merge { from, into } if nothing => format!("{from} is {into} already"),
            TagWrite::Merge { from, into } => {
                format!("merged {from} ({}) into {into}; u undoes", customers(l))
            }
            TagWrite::Delete { tag } => {
                format!("deleted tag {tag} from {}; u undoes", customers(l))
            }
            TagWrite::Describe { tag, .. } | TagWrite::Colour { tag, .. } if nothing => {
                format!("{tag}: nothing changed")
            }
            TagWrite::Describe { tag, text } if text.trim().is_empty() => {
                format!("cleared the description of {tag}; u undoes")
            }
            TagWrite::Describe { tag, .. } => format!("described {tag}; u undoes"),
            TagWrite::Colour { tag, colour } if colour.trim().is_empty() => {
                format!("cleared the colour of {tag}; u undoes")
            }
            TagWrite::Colour { tag, colour } => {
                format!("{tag} is {} now; u undoes", colour.trim())
            }
            TagWrite::SetRule(p) => format!(
                "saved the rule of {}: {} gained it, {} lost it; u undoes",
                p.tag,
                thousands(g),
                thousands(l)
            ),
            TagWrite::DropRule { tag } => format!("{tag} is a manual tag now; u undoes"),
        }
    }
}

/// A store refusal in the workbench's words: a rule tag's hand edit says
/// why and where the rule is changed (`rule_key` in the Tags pane), an
/// existing name says how to combine the two (`merge_key`).
pub fn explain(e: &StoreError, rule_key: &str, merge_key: &str) -> String {
    match e {
        StoreError::RuleTag { tag, rule } => format!(
            "{tag} is a rule tag: its members are the customers matching `{rule}`, so it is not \
             added to or removed by hand; {rule_key} in the Tags pane changes the rule"
        ),
        StoreError::TagExists(tag) => {
            format!("tag {tag} already exists; {merge_key} in the Tags pane merges a tag into it")
        }
        StoreError::UnknownTag(tag) => format!("tag {tag} does not exist (any more)"),
        e => e.to_string(),
    }
}

/// Whether `action` changes the database (or leaves rolo): such keys wait
/// while a tag write runs on the worker, so that its `u` is the next one.
pub fn changes_data(action: Action) -> bool {
    use Action::*;
    matches!(
        action,
        Quit | Tag
            | Untag
            | Trash
            | Restore
            | Undo
            | Redo
            | Edit
            | New
            | AddNote
            | Erase
            | Snapshot
            | SaveBaseline
            | NewTag
            | RenameTag
            | MergeTag
            | DeleteTag
            | DescribeTag
            | ColourTag
            | TagRule
    )
}

/// A one-line question of the Tags pane (see [`crate::tui::prompt::Ask`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagAsk {
    /// The name of a new tag.
    New,
    /// The new name of `from` (carried by `count` customers).
    Rename { from: String, count: u64 },
    /// The description of `tag`.
    Describe { tag: String },
    /// The colour of `tag`.
    Colour { tag: String },
    /// The rule of a tag: a query, previewed before it is saved.
    Rule(Box<RuleAsk>),
}

/// The rule question's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleAsk {
    pub tag: String,
    /// The tag's rule now (`None`: a manual tag).
    pub current: Option<String>,
    /// Its customers now.
    pub count: u64,
    /// The worker job computing a preview, while it runs.
    pub previewing: Option<u64>,
    /// The last preview (for the query it names).
    pub preview: Option<RulePreview>,
}

impl RuleAsk {
    /// The preview of exactly `typed`, if computed.
    pub fn preview_of(&self, typed: &str) -> Option<&RulePreview> {
        self.preview.as_ref().filter(|p| p.rule == typed.trim())
    }
}

impl TagAsk {
    /// What the search line says before the typed text.
    pub fn label(&self) -> String {
        match self {
            TagAsk::New => "new tag: ".to_owned(),
            TagAsk::Rename { from, .. } => format!("rename {from} to: "),
            TagAsk::Describe { tag } => format!("description of {tag}: "),
            TagAsk::Colour { tag } => format!("colour of {tag}: "),
            TagAsk::Rule(r) => format!("rule of {}: ", r.tag),
        }
    }

    /// What the search line says after the typed text.
    pub fn hint(&self) -> &'static str {
        match self {
            TagAsk::New => "  (enter creates it)",
            TagAsk::Rename { .. } => "  (enter renames)",
            TagAsk::Describe { .. } | TagAsk::Colour { .. } => "  (enter saves)",
            TagAsk::Rule(_) => "  (a query)",
        }
    }

    /// The Tags pane's last line while the question is asked, for what is
    /// `typed`: how to answer, and for a rule its preview.
    pub fn explain(&self, typed: &str) -> String {
        match self {
            TagAsk::New => {
                "a manual tag, on nobody yet; '/' makes levels (interest/sports) · esc cancels"
                    .to_owned()
            }
            TagAsk::Rename { from, count } => format!(
                "the new name of {from} ({}), not taken yet · esc keeps it",
                customers(*count)
            ),
            TagAsk::Describe { tag } => {
                format!("what {tag} means · an empty line clears it · esc keeps it")
            }
            TagAsk::Colour { .. } => {
                "a colour name or #rrggbb · an empty line clears it · esc keeps it".to_owned()
            }
            TagAsk::Rule(r) => {
                let typed = typed.trim();
                if r.previewing.is_some() {
                    "previewing the rule over every customer…".to_owned()
                } else if let Some(p) = r.preview_of(typed) {
                    format!(
                        "{} would gain it, {} would lose it ({} in all); enter saves, esc cancels",
                        thousands(p.gained.len() as u64),
                        thousands(p.lost.len() as u64),
                        thousands(p.members.len() as u64),
                    )
                } else if typed.is_empty() && r.current.is_some() {
                    format!(
                        "empty: enter makes {} a manual tag, kept by its {}",
                        r.tag,
                        customers(r.count)
                    )
                } else {
                    "a search query (city:上海 spend>1000 …); enter previews who gains and loses it"
                        .to_owned()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_ask() -> RuleAsk {
        RuleAsk {
            tag: "big".into(),
            current: Some("spend>100".into()),
            count: 1,
            previewing: None,
            preview: Some(RulePreview {
                tag: "big".into(),
                rule: "spend>10".into(),
                members: vec![CustomerId(1), CustomerId(2), CustomerId(3)],
                gained: vec![2, 3],
                lost: vec![],
                as_of: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default(),
            }),
        }
    }

    /// The rule question shows its preview only for the query it was
    /// computed for; editing the query asks for Enter again.
    #[test]
    fn the_rule_preview_belongs_to_its_query() {
        let ask = TagAsk::Rule(Box::new(rule_ask()));
        assert_eq!(
            ask.explain(" spend>10 "),
            "2 would gain it, 0 would lose it (3 in all); enter saves, esc cancels"
        );
        assert!(ask.explain("spend>1").contains("enter previews"));
        assert!(
            ask.explain("")
                .contains("manual tag, kept by its 1 customer")
        );
        let mut r = rule_ask();
        r.previewing = Some(7);
        assert!(
            TagAsk::Rule(Box::new(r))
                .explain("spend>10")
                .contains("previewing")
        );
    }

    #[test]
    fn messages_count_in_good_english() {
        let w = TagWrite::Add {
            tag: "vip".into(),
            ids: vec![],
        };
        let out = |g, l| TagOutcome {
            seq: Some(1),
            gained: g,
            lost: l,
        };
        assert_eq!(w.done(&out(1, 0), 1), "tagged 1 customer vip; u undoes");
        assert_eq!(
            w.done(&out(100_000, 0), 100_000),
            "tagged 100,000 customers vip; u undoes"
        );
        assert_eq!(w.done(&out(0, 0), 2), "2 customers already had vip");
        assert_eq!(w.running(100_000), "tagging 100,000 customers vip…");
        let m = TagWrite::Merge {
            from: "a".into(),
            into: "b".into(),
        };
        assert_eq!(
            m.done(&out(1, 2), 2),
            "merged a (2 customers) into b; u undoes"
        );
    }

    #[test]
    fn rule_tag_refusals_say_where_the_rule_changes() {
        let e = StoreError::RuleTag {
            tag: "sh".into(),
            rule: "city:上海".into(),
        };
        let s = explain(&e, "r", "m");
        assert!(
            s.contains("sh is a rule tag") && s.contains("`city:上海`"),
            "{s}"
        );
        assert!(s.ends_with("r in the Tags pane changes the rule"), "{s}");
        let s = explain(&StoreError::TagExists("gold".into()), "r", "m");
        assert!(s.contains("gold already exists") && s.contains("m in the Tags pane"));
    }
}
